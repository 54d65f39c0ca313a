// Fashion-MNIST in memory, and the deterministic data-parallel sampler.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gcsim::train {

// Debian's dataset-fashion-mnist package.
inline constexpr const char* kDefaultFashionMnistDir = "/usr/share/datasets/fashion-mnist";

// Images as float, normalised per pixel: (x / 255 - mean) / std with the
// Fashion-MNIST training-set statistics below.
struct Dataset {
  int count = 0;
  int rows = 28;
  int cols = 28;
  std::vector<float> images;         // count * rows * cols
  std::vector<std::uint8_t> labels;  // count, each in [0, 9]

  const float* image(int i) const { return images.data() + static_cast<std::size_t>(i) * rows * cols; }
  int pixels_per_image() const { return rows * cols; }
};

inline constexpr float kFashionMnistMean = 0.2860f;
inline constexpr float kFashionMnistStd = 0.3530f;

struct FashionMnist {
  Dataset train;
  Dataset test;
};

// Reads {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz] from `dir` (the .gz
// name first, then the raw one). Checks that images and labels agree in
// count and that images are 28x28. `limit_train` / `limit_test` keep the
// first N samples (N must be >= 1; larger than the file keeps all).
// Errors: InputError naming the file.
FashionMnist load_fashion_mnist(const std::string& dir, std::optional<int> limit_train = std::nullopt,
                                std::optional<int> limit_test = std::nullopt);

// Which samples worker `rank` of `workers` visits, and in what order.
//
// Epoch e: a permutation of [0, n) drawn from a generator seeded with
// (seed, e) only (splitmix64 + Fisher-Yates, no std:: distributions, so it is
// the same on every platform and library). The first floor(n / workers) *
// workers entries are dealt round robin: worker r gets perm[r], perm[r + P],
// ... so all workers hold the same number of samples and together see each
// kept sample once; the n mod P leftovers differ from epoch to epoch.
// shuffle = false uses the identity permutation.
class ShardSampler {
 public:
  ShardSampler(int n, int rank, int workers, std::uint64_t seed, bool shuffle = true);

  int samples_per_worker() const { return per_worker_; }
  // ceil(samples_per_worker / batch): the same on every worker.
  int steps_per_epoch(int batch) const;
  // This worker's sample indices for `epoch`, in visiting order.
  std::vector<int> epoch_indices(int epoch) const;
  // The indices of step `step` (0-based) of `epoch` with batch size `batch`;
  // the last step of an epoch may be shorter.
  std::vector<int> batch_indices(int epoch, int step, int batch) const;

 private:
  int n_, rank_, workers_, per_worker_;
  std::uint64_t seed_;
  bool shuffle_;
  // batch_indices keeps the last epoch's order (one sampler per rank: not shared between threads).
  mutable int cached_epoch_ = -1;
  mutable std::vector<int> cached_;
};

// Copies the images and labels of `indices` into contiguous batch buffers
// (resized to fit).
void gather_batch(const Dataset& data, const std::vector<int>& indices, std::vector<float>& images,
                  std::vector<std::uint8_t>& labels);

}  // namespace gcsim::train
