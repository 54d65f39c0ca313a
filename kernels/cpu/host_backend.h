// HostBackend: what the two CPU backends ("cpu-reference" and "cpu") share.
// Device memory is host memory (64-byte aligned), so upload and download are
// memcpy; the wire format, scatter-add and dense sum are plain loops (dense_sum
// split over the backend's threads; each output element is summed in input
// order whatever the split, so every thread count gives identical bits).
#pragma once

#include <cstdint>
#include <string>

#include "kernels/backend.h"

namespace gcsim::kernels::cpu {

class HostBackend : public Backend {
 public:
  DeviceInfo info() const override;

  void* allocate(std::size_t bytes) override;
  void release(void* p) noexcept override;
  void upload(void* dst, const void* host_src, std::size_t bytes) override;
  void download(void* host_dst, const void* src, std::size_t bytes) override;
  void fill_zero(void* dst, std::size_t bytes) override;
  void synchronize() override {}

  void pack(const float* values, const Index* indices, std::size_t k, std::size_t n, std::byte* wire) override;
  std::size_t unpack(const std::byte* wire, std::size_t wire_bytes, std::size_t n, float* values,
                     Index* indices) override;

  void scatter_add(const SparseRef* parts, std::size_t num_parts, float* dense, std::size_t n) override;
  void dense_sum(const float* const* inputs, std::size_t num_inputs, float* out, std::size_t n) override;

 protected:
  HostBackend(std::string name, unsigned threads);
  unsigned threads() const { return threads_; }

  // Throws std::invalid_argument when k > n.
  static void check_k(const char* op, std::size_t n, std::size_t k);

  // DGC's sampled threshold (Lin et al., ICLR 2018) as the magnitude key of
  // the ceil(k s / n)-th largest of the s samples |x[sample_position(seed, j, n)]|
  // (the rank clamped to [1, s]); see Backend::threshold_topk. Both CPU
  // backends use this one function; it reads only the s sampled entries
  // (n must be > 0). A NaN sample gives a key above kInfKey; callers reject
  // non-finite inputs before they use the key.
  static std::uint32_t sampled_threshold_key(const float* x, std::size_t n, std::size_t k,
                                             const ThresholdOptions& opts);

 private:
  std::string name_;
  unsigned threads_;
};

}  // namespace gcsim::kernels::cpu
