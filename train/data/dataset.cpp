// Fashion-MNIST loading (four IDX files, gzip preferred, normalised to float)
// and the deterministic data-parallel ShardSampler: a splitmix64-driven
// Fisher-Yates permutation per (seed, epoch), dealt round robin to workers.
#include "train/data/dataset.h"

#include <algorithm>
#include <array>
#include <filesystem>
#include <numeric>
#include <stdexcept>
#include <system_error>

#include "config/input_error.h"
#include "train/data/idx.h"

namespace gcsim::train {
namespace {

namespace fs = std::filesystem;

constexpr int kSide = 28;
constexpr int kClasses = 10;

// `dir`/NAME.gz if present, else `dir`/NAME; InputError naming both otherwise.
std::string find_file(const std::string& dir, const std::string& name) {
  std::error_code ec;
  const fs::path base(dir);
  for (const fs::path& candidate : {base / (name + ".gz"), base / name}) {
    if (fs::exists(candidate, ec)) return candidate.string();
  }
  const std::string hint =
      " (expected Fashion-MNIST's {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]; on Debian install the package "
      "dataset-fashion-mnist, which puts them in " +
      std::string(kDefaultFashionMnistDir) + ")";
  if (!fs::is_directory(base, ec)) throw InputError(dir, "", "not a directory" + hint);
  throw InputError(dir, "", "neither " + name + ".gz nor " + name + " found" + hint);
}

void check_limit(const char* key, const std::optional<int>& limit) {
  if (limit && *limit < 1) throw InputError("", key, "must be >= 1 (got " + std::to_string(*limit) + ")");
}

Dataset load_split(const std::string& dir, const std::string& prefix, const std::optional<int>& limit) {
  const std::string image_path = find_file(dir, prefix + "-images-idx3-ubyte");
  const std::string label_path = find_file(dir, prefix + "-labels-idx1-ubyte");
  IdxImages raw = read_idx_images(image_path);
  if (raw.rows != kSide || raw.cols != kSide) {
    throw InputError(image_path, "",
                     "images are " + std::to_string(raw.rows) + "x" + std::to_string(raw.cols) + ", expected 28x28");
  }
  std::vector<std::uint8_t> labels = read_idx_labels(label_path, kClasses);
  if (static_cast<std::size_t>(raw.count) != labels.size()) {
    throw InputError(image_path, "",
                     std::to_string(raw.count) + " images, but " + label_path + " has " +
                         std::to_string(labels.size()) + " labels");
  }

  Dataset out;
  out.rows = raw.rows;
  out.cols = raw.cols;
  out.count = limit ? std::min(*limit, raw.count) : raw.count;
  labels.resize(static_cast<std::size_t>(out.count));
  out.labels = std::move(labels);

  std::array<float, 256> table{};
  for (std::size_t v = 0; v < table.size(); ++v) {
    table[v] = (static_cast<float>(v) / 255.0f - kFashionMnistMean) / kFashionMnistStd;
  }
  const std::size_t n = static_cast<std::size_t>(out.count) * static_cast<std::size_t>(out.pixels_per_image());
  out.images.resize(n);
  for (std::size_t i = 0; i < n; ++i) out.images[i] = table[raw.pixels[i]];
  return out;
}

// splitmix64 (Steele, Lea, Flood 2014): a 64-bit state advanced by the golden
// gamma, output through a fixed bijective mixer.
constexpr std::uint64_t kGamma = 0x9E3779B97F4A7C15ull;

std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t state) : state_(state) {}
  std::uint64_t next() { return mix64(state_ += kGamma); }
  // Uniform in [0, bound), bound in [1, 2^32): Lemire's multiply-shift on the
  // top 32 bits, rejecting the few values that would bias the result.
  std::uint32_t below(std::uint32_t bound) {
    std::uint64_t m = (next() >> 32) * bound;
    auto low = static_cast<std::uint32_t>(m);
    if (low < bound) {
      const std::uint32_t threshold = (0u - bound) % bound;
      while (low < threshold) {
        m = (next() >> 32) * bound;
        low = static_cast<std::uint32_t>(m);
      }
    }
    return static_cast<std::uint32_t>(m >> 32);
  }

 private:
  std::uint64_t state_;
};

}  // namespace

FashionMnist load_fashion_mnist(const std::string& dir, std::optional<int> limit_train,
                                std::optional<int> limit_test) {
  check_limit("limit_train", limit_train);
  check_limit("limit_test", limit_test);
  FashionMnist out;
  out.train = load_split(dir, "train", limit_train);
  out.test = load_split(dir, "t10k", limit_test);
  return out;
}

ShardSampler::ShardSampler(int n, int rank, int workers, std::uint64_t seed, bool shuffle)
    : n_(n), rank_(rank), workers_(workers), per_worker_(0), seed_(seed), shuffle_(shuffle) {
  if (workers < 1) throw std::invalid_argument("ShardSampler: workers must be >= 1, got " + std::to_string(workers));
  if (rank < 0 || rank >= workers) {
    throw std::invalid_argument("ShardSampler: rank " + std::to_string(rank) + " is outside [0, " +
                                std::to_string(workers) + ")");
  }
  if (n < workers) {
    throw std::invalid_argument("ShardSampler: " + std::to_string(n) + " samples cannot feed " +
                                std::to_string(workers) + " workers (need n >= workers)");
  }
  per_worker_ = n / workers;
}

int ShardSampler::steps_per_epoch(int batch) const {
  if (batch < 1) throw std::invalid_argument("ShardSampler: batch must be >= 1, got " + std::to_string(batch));
  return per_worker_ / batch + (per_worker_ % batch != 0 ? 1 : 0);
}

std::vector<int> ShardSampler::epoch_indices(int epoch) const {
  if (epoch < 0) throw std::invalid_argument("ShardSampler: epoch must be >= 0, got " + std::to_string(epoch));
  std::vector<int> perm(static_cast<std::size_t>(n_));
  std::iota(perm.begin(), perm.end(), 0);
  if (shuffle_) {
    SplitMix64 rng(mix64((seed_ * kGamma) ^ (static_cast<std::uint64_t>(epoch) + 1)));
    for (std::size_t i = perm.size() - 1; i > 0; --i) {
      const std::size_t j = rng.below(static_cast<std::uint32_t>(i + 1));
      std::swap(perm[i], perm[j]);
    }
  }
  std::vector<int> mine(static_cast<std::size_t>(per_worker_));
  for (std::size_t k = 0; k < mine.size(); ++k) {
    mine[k] = perm[static_cast<std::size_t>(rank_) + k * static_cast<std::size_t>(workers_)];
  }
  return mine;
}

std::vector<int> ShardSampler::batch_indices(int epoch, int step, int batch) const {
  const int steps = steps_per_epoch(batch);
  if (step < 0 || step >= steps) {
    throw std::out_of_range("ShardSampler: step " + std::to_string(step) + " is outside [0, " +
                            std::to_string(steps) + ") for batch " + std::to_string(batch));
  }
  if (cached_epoch_ != epoch) {
    cached_ = epoch_indices(epoch);
    cached_epoch_ = epoch;
  }
  const std::vector<int>& all = cached_;
  const auto begin = static_cast<std::ptrdiff_t>(step) * batch;
  const auto end = std::min<std::ptrdiff_t>(begin + batch, static_cast<std::ptrdiff_t>(all.size()));
  return {all.begin() + begin, all.begin() + end};
}

void gather_batch(const Dataset& data, const std::vector<int>& indices, std::vector<float>& images,
                  std::vector<std::uint8_t>& labels) {
  const auto ppi = static_cast<std::size_t>(data.pixels_per_image());
  images.resize(indices.size() * ppi);
  labels.resize(indices.size());
  for (std::size_t k = 0; k < indices.size(); ++k) {
    const int i = indices[k];
    if (i < 0 || i >= data.count) {
      throw std::out_of_range("gather_batch: index " + std::to_string(i) + " is outside [0, " +
                              std::to_string(data.count) + ")");
    }
    std::copy_n(data.image(i), ppi, images.begin() + static_cast<std::ptrdiff_t>(k * ppi));
    labels[k] = data.labels[static_cast<std::size_t>(i)];
  }
}

}  // namespace gcsim::train
