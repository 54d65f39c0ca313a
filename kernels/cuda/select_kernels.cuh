// The selection ops of the CUDA backend (topk, ef_topk, threshold_topk,
// randomk) as sequences of kernels enqueued on one stream. They keep every
// intermediate on the device; the caller synchronizes once at the end and
// reads SelectState (non-finite count, threshold, counts) back.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/backend.h"
#include "kernels/cuda/launch.cuh"

namespace gcsim::kernels::cuda {

inline constexpr int kRadixBins = 2048;  // 11-bit digits
inline constexpr int kRadixLevels = 3;   // 11 + 11 + 9 (magnitude) or 10 (Random-K) bits

// Bookkeeping of one select, in device memory, zeroed at the start of each op.
struct SelectState {
  unsigned long long nonfinite;   // entries with a NaN/Inf key: the op is rejected
  unsigned long long out_count;   // output slots handed out so far
  unsigned long long cand_count;  // entries in the candidate buffer (threshold: samples)
  unsigned long long ticket;      // tickets handed to entries that tie at the k-th key
  unsigned long long k_rem;       // entries still to take within the fixed prefix
  unsigned long long tie_total;   // entries in the last bin found (at the end: ties at T)
  unsigned long long above;       // threshold_topk: entries with key >= T
  std::uint32_t prefix;           // digits fixed so far; after the last level, T
};

// Header: SelectState, then one 2048-bin histogram per level.
inline constexpr std::size_t kSelectStateBytes = 256;
static_assert(sizeof(SelectState) <= kSelectStateBytes);
inline constexpr std::size_t kSelectHeaderBytes =
    kSelectStateBytes + sizeof(unsigned long long) * kRadixLevels * kRadixBins;

// Device storage of a select. cand_* hold the entries of the boundary bin:
// n of them in the worst case (every key in one bin); threshold_topk keeps its
// samples there. stage_* hold outputs that may only be committed once the
// input is known to be finite (randomk: k indices; threshold: min(capacity, n)).
struct SelectWorkspace {
  void* header = nullptr;  // kSelectHeaderBytes
  std::uint32_t* cand_words = nullptr;
  Index* cand_indices = nullptr;
  float* stage_values = nullptr;
  Index* stage_indices = nullptr;

  SelectState* state() const { return static_cast<SelectState*>(header); }
  unsigned long long* hist() const {
    return reinterpret_cast<unsigned long long*>(static_cast<char*>(header) + kSelectStateBytes);
  }
};

// e = g + e; top k of |e| to (values, indices); e zeroed there. Candidates: n.
void enqueue_ef_topk(const float* g, float* e, std::size_t n, std::size_t k, float* values, Index* indices,
                     const SelectWorkspace& ws, const LaunchContext& ctx);

// Top k of |x|. Candidates: n.
void enqueue_topk(const float* x, std::size_t n, std::size_t k, float* values, Index* indices,
                  const SelectWorkspace& ws, const LaunchContext& ctx);

// The k indices with the smallest randomk_key(seed, i) (ties: lowest index),
// x at them. Candidates: n; stage: k indices.
void enqueue_randomk(const float* x, std::size_t n, std::size_t k, std::uint64_t seed, float* values,
                     Index* indices, const SelectWorkspace& ws, const LaunchContext& ctx);

// DGC threshold: T = the rank-th largest key among `samples` sampled entries;
// every entry with key >= T is counted into `above` and, when above <= capacity
// and x is finite, written to (values, indices). Candidates: samples; stage:
// min(capacity, n) values and indices.
void enqueue_threshold(const float* x, std::size_t n, std::size_t samples, std::size_t rank, std::uint64_t seed,
                       std::size_t capacity, float* values, Index* indices, const SelectWorkspace& ws,
                       const LaunchContext& ctx);

}  // namespace gcsim::kernels::cuda
