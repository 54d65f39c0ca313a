// HostBackend: host memory, the wire format, scatter-add and dense sum for the
// CPU backends (see host_backend.h), and DGC's sampled threshold (Lin et al.,
// "Deep Gradient Compression", ICLR 2018) that both CPU backends share.
#include "kernels/cpu/host_backend.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <new>
#include <vector>

#include "kernels/cpu/parallel_chunks.h"
#include "kernels/hash.h"
#include "kernels/magnitude_key.h"
#include "kernels/wire_format.h"

namespace gcsim::kernels::cpu {

static_assert(std::endian::native == std::endian::little, "the wire format is little-endian, and so must the host be");

namespace {

constexpr std::align_val_t kAlignment{64};

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model name", 0) != 0) continue;
    const auto colon = line.find(':');
    if (colon == std::string::npos) break;
    const auto start = line.find_first_not_of(" \t", colon + 1);
    return start == std::string::npos ? std::string("unknown CPU") : line.substr(start);
  }
  return "unknown CPU";
}

std::string compiler() {
#if defined(__clang__)
  return "Clang " __clang_version__;
#elif defined(__GNUC__)
  return "GCC " __VERSION__;
#else
  return "unknown C++ compiler";
#endif
}

}  // namespace

HostBackend::HostBackend(std::string name, unsigned threads) : name_(std::move(name)), threads_(threads) {}

DeviceInfo HostBackend::info() const {
  DeviceInfo d;
  d.backend = name_;
  d.device = cpu_model();
  d.runtime = compiler();
  d.threads = threads_;
  return d;
}

void* HostBackend::allocate(std::size_t bytes) { return ::operator new(bytes, kAlignment); }

void HostBackend::release(void* p) noexcept { ::operator delete(p, kAlignment); }

void HostBackend::upload(void* dst, const void* host_src, std::size_t bytes) {
  if (bytes) std::memcpy(dst, host_src, bytes);
}

void HostBackend::download(void* host_dst, const void* src, std::size_t bytes) {
  if (bytes) std::memcpy(host_dst, src, bytes);
}

void HostBackend::fill_zero(void* dst, std::size_t bytes) {
  if (bytes) std::memset(dst, 0, bytes);
}

void HostBackend::check_k(const char* op, std::size_t n, std::size_t k) {
  if (k > n)
    throw std::invalid_argument(std::string(op) + ": k = " + std::to_string(k) +
                                " exceeds the tensor size n = " + std::to_string(n));
}

void HostBackend::pack(const float* values, const Index* indices, std::size_t k, std::size_t n, std::byte* wire) {
  if (k == 0) return;
  std::memcpy(wire, values, k * sizeof(float));
  std::byte* out = wire + k * sizeof(float);
  if (index_bytes(n) == 8) {
    std::memcpy(out, indices, k * sizeof(Index));
    return;
  }
  for (std::size_t j = 0; j < k; ++j) {
    const auto narrow = static_cast<std::int32_t>(indices[j]);
    std::memcpy(out + j * sizeof narrow, &narrow, sizeof narrow);
  }
}

std::size_t HostBackend::unpack(const std::byte* wire, std::size_t wire_bytes, std::size_t n, float* values,
                                Index* indices) {
  const std::size_t k = wire_entry_count(wire_bytes, n);
  if (k == 0) return 0;
  std::memcpy(values, wire, k * sizeof(float));
  const std::byte* in = wire + k * sizeof(float);
  const bool wide = index_bytes(n) == 8;
  for (std::size_t j = 0; j < k; ++j) {
    Index idx;
    if (wide) {
      std::memcpy(&idx, in + j * sizeof idx, sizeof idx);
    } else {
      std::int32_t narrow;
      std::memcpy(&narrow, in + j * sizeof narrow, sizeof narrow);
      idx = narrow;
    }
    if (idx < 0 || static_cast<std::size_t>(idx) >= n)  // as the CUDA unpack: n may exceed 2^63
      throw WireFormatError("unpack: entry " + std::to_string(j) + " of " + std::to_string(k) + " has index " +
                            std::to_string(idx) + ", outside [0, " + std::to_string(n) + ")");
    indices[j] = idx;
  }
  return k;
}

void HostBackend::scatter_add(const SparseRef* parts, std::size_t num_parts, float* dense, std::size_t /*n*/) {
  for (std::size_t p = 0; p < num_parts; ++p)
    for (std::size_t j = 0; j < parts[p].k; ++j) dense[parts[p].indices[j]] += parts[p].values[j];
}

void HostBackend::dense_sum(const float* const* inputs, std::size_t num_inputs, float* out, std::size_t n) {
  if (num_inputs == 0) {
    fill_zero(out, n * sizeof(float));
    return;
  }
  const unsigned chunks = chunks_for(n, threads_);
  parallel_chunks(chunks, [&](unsigned c) {
    const auto [begin, end] = chunk_range(n, chunks, c);
    // Blocks small enough that out[block] stays in L1 while every input is added to it.
    constexpr std::size_t kBlock = 2048;
    for (std::size_t b = begin; b < end; b += kBlock) {
      const std::size_t len = std::min(kBlock, end - b);
      std::memcpy(out + b, inputs[0] + b, len * sizeof(float));
      for (std::size_t j = 1; j < num_inputs; ++j) {
        const float* in = inputs[j] + b;
        float* o = out + b;
        for (std::size_t i = 0; i < len; ++i) o[i] += in[i];
      }
    }
  });
}

std::uint32_t HostBackend::sampled_threshold_key(const float* x, std::size_t n, std::size_t k,
                                                 const ThresholdOptions& opts) {
  const double wanted = std::ceil(opts.sample_fraction * static_cast<double>(n));
  const std::size_t by_fraction = wanted > 0.0 ? static_cast<std::size_t>(wanted) : 0;
  const std::size_t s = std::max<std::size_t>({opts.min_samples, by_fraction, 1});
  std::vector<std::uint32_t> keys(s);
  for (std::size_t j = 0; j < s; ++j) keys[j] = magnitude_key(x[sample_position(opts.seed, j, n)]);
  // rank = ceil(k s / n) in 128 bits (k s overflows 64 bits for the largest models), clamped to [1, s].
  __extension__ using Wide = unsigned __int128;
  const Wide ks = static_cast<Wide>(k) * s;
  const auto rank = static_cast<std::size_t>(std::clamp<Wide>((ks + n - 1) / n, 1, s));
  std::nth_element(keys.begin(), keys.begin() + static_cast<std::ptrdiff_t>(rank - 1), keys.end(), std::greater<>());
  return keys[rank - 1];
}

}  // namespace gcsim::kernels::cpu
