// Exact Top-K on the GPU by radix select on 32-bit keys, fused with error
// feedback; Random-K and DGC's sampled threshold on the same machinery.
//
// Approach: MSD radix select on the key bits, as in PyTorch's radixSelect
// (aten/src/ATen/native/cuda/SortingRadixSelect.cuh) and Alabi, Blanchard,
// Gordon & Steinbach, "Fast k-selection algorithms for GPUs" (ACM JEA 2012),
// with the refinement done on a compacted candidate buffer instead of further
// passes over the input. Digits of 11 bits: the first histogram sorts the
// entries into 2048 bins, a block-wide suffix scan (cub::BlockScan) finds the
// bin b holding the k-th largest key, one pass sends the entries above b to
// the output and compacts those in b; two more digits over the candidates fix
// the k-th key T exactly and how many of its ties to take.
//
// Keys: magnitude_key(x) (31 bits: 11 + 11 + 9) for topk, ef_topk and
// threshold_topk; ~randomk_key(seed, i) (32 bits: 11 + 11 + 10) for Random-K,
// so the largest complemented keys are the smallest hash keys.
//
// Byte model (n entries, k selected, C candidates in the boundary bin):
//   histogram_pass   ef_topk: reads g, e, writes e (12 B/entry); topk: reads x (4)
//   partition_pass   reads e / x (4 B/entry); per output 12 (+4 zeroing e);
//                    per candidate 12
//   refine_histogram reads candidate words (4 B/candidate), twice
//   emit_candidates  reads words (4 B/candidate); per output 8 + 12 (+4)
//   find_bin         16 KiB per level; the header memset 49 KiB
// ef_topk at n = 25M, k = 250k, C ~ k: 300 + 100 + ~3 + ~2 + ~3 MB, 16n bytes
// in all, against 12n for the op itself (e cannot stay in the 50 MB L2).
// partition_pass walks the array backwards so that its first reads hit what
// histogram_pass wrote or read last, which may still be in L2. Output and
// candidate slots are handed out per tile of 4096 entries (a cub::BlockScan
// and one atomicAdd per counter), so the counters see few atomics.
//
// Rejection: histogram_pass counts keys >= kInfKey into SelectState::nonfinite
// and every later kernel returns at once when it is nonzero, so no value or
// index is written; the caller reads the count after its one synchronization.
#include "kernels/cuda/select_kernels.cuh"

#include <cub/block/block_reduce.cuh>
#include <cub/block/block_scan.cuh>
#include <cuda/functional>

#include <algorithm>
#include <limits>

#include "kernels/hash.h"
#include "kernels/magnitude_key.h"

namespace gcsim::kernels::cuda {
namespace {

constexpr int kReplicas = 4;  // sub-histograms per block in histogram_pass (warp w uses w % 4)

// ---- key sources: where the 32-bit words of a pass come from ---------------

// The bits of x; key = word without the sign.
struct ReadX {
  const float* x;
  static constexpr int kKeyBits = 31;
  static constexpr std::uint32_t kKeyMask = 0x7fffffffu;
  static constexpr bool kRejectNonFinite = true;

  template <int V>
  __device__ void load(std::size_t i, std::uint32_t (&w)[V]) const {
    if constexpr (V == 4) {
      const float4 v = *reinterpret_cast<const float4*>(x + i);
      w[0] = __float_as_uint(v.x);
      w[1] = __float_as_uint(v.y);
      w[2] = __float_as_uint(v.z);
      w[3] = __float_as_uint(v.w);
    } else {
      w[0] = __float_as_uint(x[i]);
    }
  }
};

// acc = g + e, stored into e; the bits of acc.
struct AccumulateIntoE {
  const float* g;
  float* e;
  static constexpr int kKeyBits = 31;
  static constexpr std::uint32_t kKeyMask = 0x7fffffffu;
  static constexpr bool kRejectNonFinite = true;

  template <int V>
  __device__ void load(std::size_t i, std::uint32_t (&w)[V]) const {
    if constexpr (V == 4) {
      const float4 a = *reinterpret_cast<const float4*>(g + i);
      const float4 b = *reinterpret_cast<const float4*>(e + i);
      const float4 acc = make_float4(a.x + b.x, a.y + b.y, a.z + b.z, a.w + b.w);
      *reinterpret_cast<float4*>(e + i) = acc;
      w[0] = __float_as_uint(acc.x);
      w[1] = __float_as_uint(acc.y);
      w[2] = __float_as_uint(acc.z);
      w[3] = __float_as_uint(acc.w);
    } else {
      const float acc = g[i] + e[i];
      e[i] = acc;
      w[0] = __float_as_uint(acc);
    }
  }
};

// ~randomk_key(seed, i): reads no memory.
struct RandomKeys {
  std::uint64_t seed;
  static constexpr int kKeyBits = 32;
  static constexpr std::uint32_t kKeyMask = 0xffffffffu;
  static constexpr bool kRejectNonFinite = false;

  template <int V>
  __device__ void load(std::size_t i, std::uint32_t (&w)[V]) const {
#pragma unroll
    for (int j = 0; j < V; ++j) w[j] = ~randomk_key(seed, i + j);
  }
};

// ---- digits ----------------------------------------------------------------

struct Digit {
  int shift;
  int width;
};

// Level 0 and 1: 11 bits each from the top; level 2: the rest.
__host__ __device__ constexpr Digit digit_of(int key_bits, int level) {
  return level == 0 ? Digit{key_bits - 11, 11} : level == 1 ? Digit{key_bits - 22, 11} : Digit{0, key_bits - 22};
}

// ---- outputs ---------------------------------------------------------------

// Where selected entries go. values may be null (Random-K stages indices
// only); zero_e is e for ef_topk (zeroed at every selected index), else null.
struct Emission {
  float* values;
  Index* indices;
  float* zero_e;

  __device__ void put(unsigned long long slot, std::uint32_t word, std::size_t i) const {
    if (values != nullptr) values[slot] = __uint_as_float(word);
    indices[slot] = static_cast<Index>(i);
    if (zero_e != nullptr) zero_e[i] = 0.0f;
  }
};

struct Candidates {
  std::uint32_t* words;
  Index* indices;
};

// ---- block helpers ---------------------------------------------------------

// Items per thread per tile in the kernels that hand out output slots: a tile
// is kThreads x kItemsPerThread items and reserves its slots with one atomic
// per counter, so the counters see n / 4096 atomics, not one per warp.
constexpr int kItemsPerThread = 16;
constexpr int kCandidateItemsPerThread = 4;  // candidates are few: smaller tiles, more blocks busy

// body(first) for the tiles of kThreads * R items, block by block: every
// thread of a block is in the same tile, so body may use block collectives.
// Thread t of a tile owns items first + t + r * kThreads, r < R (coalesced).
// kBackward visits the tiles from the last one.
template <int R, bool kBackward, class Body>
__device__ void for_each_tile(std::size_t items, Body&& body) {
  constexpr std::size_t kTile = static_cast<std::size_t>(kThreads) * R;
  const std::size_t tiles = (items + kTile - 1) / kTile;
  for (std::size_t t = blockIdx.x; t < tiles; t += gridDim.x) body((kBackward ? tiles - 1 - t : t) * kTile);
}

struct Slots {
  unsigned long long a;
  unsigned long long b;
};

// Every thread of the block calls this; thread t asks for a_t slots of
// *counter_a and b_t of *counter_b (null when no thread asks for any). One
// block scan and one atomic per counter; returns thread t's first slots.
__device__ Slots block_reserve(unsigned a, unsigned b, unsigned long long* counter_a,
                               unsigned long long* counter_b) {
  using BlockScan = cub::BlockScan<unsigned long long, kThreads>;
  __shared__ typename BlockScan::TempStorage scan_storage;
  __shared__ unsigned long long base[2];
  constexpr unsigned long long kLow = 0xffffffffull;
  unsigned long long offset = 0;
  unsigned long long total = 0;
  BlockScan(scan_storage).ExclusiveSum((static_cast<unsigned long long>(b) << 32) | a, offset, total);
  if (threadIdx.x == 0) {
    base[0] = (total & kLow) != 0 ? atomicAdd(counter_a, total & kLow) : 0;
    base[1] = (total >> 32) != 0 ? atomicAdd(counter_b, total >> 32) : 0;
  }
  __syncthreads();
  const Slots slots{base[0] + (offset & kLow), base[1] + (offset >> 32)};
  __syncthreads();  // base and scan_storage are reused by the next call
  return slots;
}

template <class Reduce>
__device__ void add_block_count(typename Reduce::TempStorage& storage, unsigned long long mine,
                                unsigned long long* counter) {
  const unsigned long long total = Reduce(storage).Sum(mine);
  if (threadIdx.x == 0 && total != 0) atomicAdd(counter, total);
}

using CountReduce = cub::BlockReduce<unsigned long long, kThreads>;

// ---- pass A: first-digit histogram (and e = g + e, non-finite count) -------

template <int V, class Source>
__device__ void histogram_groups(const Source& src, std::size_t first, std::size_t groups, unsigned* bins,
                                 unsigned long long& nonfinite) {
  constexpr int kShift = digit_of(Source::kKeyBits, 0).shift;
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * kThreads;
  for (std::size_t q = static_cast<std::size_t>(blockIdx.x) * kThreads + threadIdx.x; q < groups; q += stride) {
    std::uint32_t w[V];
    src.template load<V>(first + q * V, w);
#pragma unroll
    for (int j = 0; j < V; ++j) {
      const std::uint32_t key = w[j] & Source::kKeyMask;
      if constexpr (Source::kRejectNonFinite) nonfinite += key >= kInfKey ? 1 : 0;
      atomicAdd(&bins[key >> kShift], 1u);
    }
  }
}

// Reads 4 B/entry of x (topk), or g and e and writes e (ef_topk: 12 B/entry),
// or nothing (Random-K). Adds to hist[0..2048) and st->nonfinite.
template <class Source>
__global__ void __launch_bounds__(kThreads)
    histogram_pass(Source src, std::size_t n, bool vectorized, unsigned long long* hist, SelectState* st) {
  __shared__ unsigned sub[kReplicas][kRadixBins];
  __shared__ typename CountReduce::TempStorage reduce_storage;
  for (int b = static_cast<int>(threadIdx.x); b < kReplicas * kRadixBins; b += kThreads)
    sub[b / kRadixBins][b % kRadixBins] = 0;
  __syncthreads();

  unsigned* bins = sub[(threadIdx.x / 32) % kReplicas];
  unsigned long long nonfinite = 0;
  const std::size_t quads = vectorized ? n / 4 : 0;
  histogram_groups<4>(src, 0, quads, bins, nonfinite);
  histogram_groups<1>(src, quads * 4, n - quads * 4, bins, nonfinite);
  __syncthreads();

  for (int b = static_cast<int>(threadIdx.x); b < kRadixBins; b += kThreads) {
    unsigned count = 0;
#pragma unroll
    for (int r = 0; r < kReplicas; ++r) count += sub[r][b];
    if (count != 0) atomicAdd(&hist[b], static_cast<unsigned long long>(count));
  }
  if constexpr (Source::kRejectNonFinite) add_block_count<CountReduce>(reduce_storage, nonfinite, &st->nonfinite);
}

// ---- the boundary bin --------------------------------------------------------

// One block. Reads one level's histogram (16 KiB) and, for level 0, k (else
// st->k_rem). Finds the bin b holding the k_rem-th largest key among those
// with the prefix fixed so far: count(bins > b) < k_rem <= count(bins >= b).
// Writes st->prefix = prefix.b, st->k_rem -= count(bins > b), st->tie_total =
// count(b); after the last level prefix is the k-th key T and k_rem the number
// of its ties to take.
__global__ void __launch_bounds__(kThreads)
    find_bin(const unsigned long long* hist, int key_bits, int level, unsigned long long k, SelectState* st) {
  if (st->nonfinite != 0) return;
  using BlockScan = cub::BlockScan<unsigned long long, kThreads>;
  __shared__ typename BlockScan::TempStorage scan_storage;
  constexpr int kItems = kRadixBins / kThreads;
  const Digit d = digit_of(key_bits, level);
  const int bins = 1 << d.width;
  const unsigned long long need = level == 0 ? k : st->k_rem;
  const std::uint32_t prefix = st->prefix;

  // Thread t holds bins in descending order, so the inclusive scan gives
  // suffix sums: above[j] = count(bins >= bin j).
  unsigned long long count[kItems];
  unsigned long long above[kItems];
#pragma unroll
  for (int j = 0; j < kItems; ++j) {
    const int r = static_cast<int>(threadIdx.x) * kItems + j;
    count[j] = r < bins ? hist[bins - 1 - r] : 0;
  }
  BlockScan(scan_storage).InclusiveSum(count, above);
  __syncthreads();  // every thread has read st before the one that finds b writes it

#pragma unroll
  for (int j = 0; j < kItems; ++j) {
    if (count[j] != 0 && above[j] >= need && above[j] - count[j] < need) {
      const std::uint32_t bin = static_cast<std::uint32_t>(bins - 1 - (static_cast<int>(threadIdx.x) * kItems + j));
      st->prefix = (prefix << d.width) | bin;
      st->k_rem = need - (above[j] - count[j]);
      st->tie_total = count[j];
    }
  }
}

// ---- pass B: outputs above the boundary bin, candidates in it --------------

template <int V, class Source>
__device__ void partition_groups(const Source& src, std::size_t first, std::size_t groups, std::uint32_t boundary,
                                 const Emission& out, const Candidates& cand, SelectState* st) {
  constexpr int kShift = digit_of(Source::kKeyBits, 0).shift;
  constexpr int R = kItemsPerThread / V;
  for_each_tile<R, true>(groups, [&](std::size_t tile) {
    std::uint32_t w[R][V] = {};
    unsigned emit = 0;  // bit r * V + j: entry j of group r
    unsigned keep = 0;
#pragma unroll
    for (int r = 0; r < R; ++r) {
      const std::size_t q = tile + static_cast<std::size_t>(r) * kThreads + threadIdx.x;
      if (q < groups) src.template load<V>(first + q * V, w[r]);
    }
#pragma unroll
    for (int r = 0; r < R; ++r) {
      const std::size_t q = tile + static_cast<std::size_t>(r) * kThreads + threadIdx.x;
#pragma unroll
      for (int j = 0; j < V; ++j) {
        const std::uint32_t bin = (w[r][j] & Source::kKeyMask) >> kShift;
        emit |= static_cast<unsigned>(q < groups && bin > boundary) << (r * V + j);
        keep |= static_cast<unsigned>(q < groups && bin == boundary) << (r * V + j);
      }
    }
    Slots slots = block_reserve(__popc(emit), __popc(keep), &st->out_count, &st->cand_count);
#pragma unroll
    for (int r = 0; r < R; ++r) {
      const std::size_t i = first + (tile + static_cast<std::size_t>(r) * kThreads + threadIdx.x) * V;
#pragma unroll
      for (int j = 0; j < V; ++j) {
        const int bit = r * V + j;
        if ((emit >> bit) & 1u) {
          out.put(slots.a++, w[r][j], i + j);
        } else if ((keep >> bit) & 1u) {
          cand.words[slots.b] = w[r][j];
          cand.indices[slots.b] = static_cast<Index>(i + j);
          ++slots.b;
        }
      }
    }
  });
}

// Reads 4 B/entry of e / x (nothing for Random-K). Writes each entry above the
// boundary bin to the outputs (value 4, index 8, ef_topk: e zeroed 4) and each
// entry in it to the candidates (word 4, index 8).
template <class Source>
__global__ void __launch_bounds__(kThreads) partition_pass(Source src, std::size_t n, bool vectorized, Emission out,
                                                           Candidates cand, SelectState* st) {
  if (st->nonfinite != 0) return;
  const std::uint32_t boundary = st->prefix;
  const std::size_t quads = vectorized ? n / 4 : 0;
  partition_groups<4>(src, 0, quads, boundary, out, cand, st);
  partition_groups<1>(src, quads * 4, n - quads * 4, boundary, out, cand, st);
}

// ---- refinement on the candidates --------------------------------------------

// Reads st->cand_count words (4 B each); histograms digit `level` of the keys
// whose higher digits equal st->prefix into hist (2048 bins).
__global__ void __launch_bounds__(kThreads) refine_histogram(const std::uint32_t* words, std::uint32_t key_mask,
                                                             int key_bits, int level, unsigned long long* hist,
                                                             SelectState* st) {
  if (st->nonfinite != 0) return;
  __shared__ unsigned bins[kRadixBins];
  for (int b = static_cast<int>(threadIdx.x); b < kRadixBins; b += kThreads) bins[b] = 0;
  __syncthreads();

  const unsigned long long count = st->cand_count;
  const std::uint32_t prefix = st->prefix;
  const Digit d = digit_of(key_bits, level);
  const std::uint32_t digit_mask = (1u << d.width) - 1;
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * kThreads;
  for (std::size_t c = static_cast<std::size_t>(blockIdx.x) * kThreads + threadIdx.x; c < count; c += stride) {
    const std::uint32_t key = words[c] & key_mask;
    if (level == 0 || (key >> (d.shift + d.width)) == prefix) atomicAdd(&bins[(key >> d.shift) & digit_mask], 1u);
  }
  __syncthreads();

  for (int b = static_cast<int>(threadIdx.x); b < kRadixBins; b += kThreads)
    if (bins[b] != 0) atomicAdd(&hist[b], static_cast<unsigned long long>(bins[b]));
}

// Reads the candidate words (4 B each) and, for those taken, their indices
// (8 B). Slots [k - need, k) are for the `need` = st->k_rem entries tied at T,
// [out_count, k - need) for the candidates above T. Ties draw tickets and
// ticket t < need goes to slot k - need + t (any ties will do for
// magnitudes); with lowest_index_ties they do so only when all are needed,
// else take_lowest_index_ties picks them.
__global__ void __launch_bounds__(kThreads) emit_candidates(Candidates cand, std::uint32_t key_mask,
                                                            bool lowest_index_ties, unsigned long long k,
                                                            Emission out, SelectState* st) {
  if (st->nonfinite != 0) return;
  constexpr int R = kCandidateItemsPerThread;
  const unsigned long long count = st->cand_count;
  const std::uint32_t t = st->prefix;
  const unsigned long long need = st->k_rem;
  const bool tickets = !lowest_index_ties || st->tie_total == need;
  for_each_tile<R, false>(count, [&](std::size_t tile) {
    std::uint32_t word[R] = {};
    unsigned above = 0;
    unsigned tie = 0;
#pragma unroll
    for (int r = 0; r < R; ++r) {
      const std::size_t c = tile + static_cast<std::size_t>(r) * kThreads + threadIdx.x;
      if (c >= count) continue;
      word[r] = cand.words[c];
      const std::uint32_t key = word[r] & key_mask;
      above |= static_cast<unsigned>(key > t) << r;
      tie |= static_cast<unsigned>(tickets && key == t) << r;
    }
    Slots slots = block_reserve(__popc(above), __popc(tie), &st->out_count, &st->ticket);
#pragma unroll
    for (int r = 0; r < R; ++r) {
      const std::size_t c = tile + static_cast<std::size_t>(r) * kThreads + threadIdx.x;
      if ((above >> r) & 1u) {
        out.put(slots.a++, word[r], static_cast<std::size_t>(cand.indices[c]));
      } else if ((tie >> r) & 1u) {
        if (slots.b < need) out.put(k - need + slots.b, word[r], static_cast<std::size_t>(cand.indices[c]));
        ++slots.b;
      }
    }
  });
}

// One block, Random-K only, and only when more entries tie at T than are
// needed (rare: two 32-bit hash keys must be equal): writes the st->k_rem
// tied candidates with the lowest indices to slots [k - need, k), so every
// worker draws the same subset. Reads the candidates once per entry taken.
__global__ void __launch_bounds__(kThreads)
    take_lowest_index_ties(Candidates cand, std::uint32_t key_mask, unsigned long long k, Emission out,
                           SelectState* st) {
  if (st->nonfinite != 0) return;
  const unsigned long long need = st->k_rem;
  if (st->tie_total == need) return;
  using IndexReduce = cub::BlockReduce<Index, kThreads>;
  __shared__ typename IndexReduce::TempStorage reduce_storage;
  __shared__ Index taken;
  const unsigned long long count = st->cand_count;
  const std::uint32_t t = st->prefix;
  Index last = -1;
  for (unsigned long long r = 0; r < need; ++r) {
    Index lowest = std::numeric_limits<Index>::max();
    for (std::size_t c = threadIdx.x; c < count; c += kThreads) {
      if ((cand.words[c] & key_mask) != t) continue;
      const Index i = cand.indices[c];
      if (i > last && i < lowest) lowest = i;
    }
    const Index block_lowest = IndexReduce(reduce_storage).Reduce(lowest, ::cuda::minimum<>{});
    if (threadIdx.x == 0) {
      taken = block_lowest;
      out.put(k - need + r, t, static_cast<std::size_t>(block_lowest));
    }
    __syncthreads();
    last = taken;
    __syncthreads();  // taken and reduce_storage are reused by the next round
  }
}

// ---- Random-K: gather x at the selected indices --------------------------------

// Reads k staged indices (8 B) and x at them (4 B, random): counts non-finite values.
__global__ void __launch_bounds__(kThreads)
    check_gathered(const float* x, const Index* staged, std::size_t k, SelectState* st) {
  __shared__ typename CountReduce::TempStorage reduce_storage;
  unsigned long long nonfinite = 0;
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * kThreads;
  for (std::size_t j = static_cast<std::size_t>(blockIdx.x) * kThreads + threadIdx.x; j < k; j += stride)
    nonfinite += is_finite_key(magnitude_key(x[staged[j]])) ? 0 : 1;
  add_block_count<CountReduce>(reduce_storage, nonfinite, &st->nonfinite);
}

// Unless rejected: reads the staged indices and x at them (12 B per entry, x
// mostly from L2 after check_gathered), writes values and indices (12 B).
__global__ void __launch_bounds__(kThreads)
    commit_gathered(const float* x, const Index* staged, std::size_t k, float* values, Index* indices,
                    const SelectState* st) {
  if (st->nonfinite != 0) return;
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * kThreads;
  for (std::size_t j = static_cast<std::size_t>(blockIdx.x) * kThreads + threadIdx.x; j < k; j += stride) {
    const Index i = staged[j];
    values[j] = x[i];
    indices[j] = i;
  }
}

// ---- DGC threshold ------------------------------------------------------------

// Writes the bits of x at the s sample positions (4 B random read, 4 B write
// each) to words and s to st->cand_count.
__global__ void __launch_bounds__(kThreads) gather_samples(const float* x, std::size_t n, std::size_t samples,
                                                           std::uint64_t seed, std::uint32_t* words,
                                                           SelectState* st) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * kThreads;
  for (std::size_t j = static_cast<std::size_t>(blockIdx.x) * kThreads + threadIdx.x; j < samples; j += stride)
    words[j] = __float_as_uint(x[sample_position(seed, j, n)]);
  if (blockIdx.x == 0 && threadIdx.x == 0) st->cand_count = samples;
}

template <int V>
__device__ void threshold_groups(const ReadX& src, std::size_t first, std::size_t groups, std::uint32_t t,
                                 std::size_t capacity, float* stage_values, Index* stage_indices,
                                 unsigned long long& nonfinite, SelectState* st) {
  constexpr int R = kItemsPerThread / V;
  for_each_tile<R, false>(groups, [&](std::size_t tile) {
    std::uint32_t w[R][V] = {};
    unsigned hits = 0;  // bit r * V + j: entry j of group r
#pragma unroll
    for (int r = 0; r < R; ++r) {
      const std::size_t q = tile + static_cast<std::size_t>(r) * kThreads + threadIdx.x;
      if (q < groups) src.load<V>(first + q * V, w[r]);
    }
#pragma unroll
    for (int r = 0; r < R; ++r) {
      const bool valid = tile + static_cast<std::size_t>(r) * kThreads + threadIdx.x < groups;
#pragma unroll
      for (int j = 0; j < V; ++j) {
        const std::uint32_t key = w[r][j] & ReadX::kKeyMask;
        nonfinite += valid && key >= kInfKey ? 1 : 0;
        hits |= static_cast<unsigned>(valid && key >= t) << (r * V + j);
      }
    }
    unsigned long long slot = block_reserve(__popc(hits), 0, &st->above, nullptr).a;
#pragma unroll
    for (int r = 0; r < R; ++r) {
      const std::size_t i = first + (tile + static_cast<std::size_t>(r) * kThreads + threadIdx.x) * V;
#pragma unroll
      for (int j = 0; j < V; ++j) {
        if (((hits >> (r * V + j)) & 1u) == 0) continue;
        if (slot < capacity) {
          stage_values[slot] = __uint_as_float(w[r][j]);
          stage_indices[slot] = static_cast<Index>(i + j);
        }
        ++slot;
      }
    }
  });
}

// Reads x (4 B/entry); counts non-finite entries and those with key >= T
// (st->above); stages the first `capacity` of the latter (12 B each).
__global__ void __launch_bounds__(kThreads)
    threshold_pass(ReadX src, std::size_t n, bool vectorized, std::size_t capacity, float* stage_values,
                   Index* stage_indices, SelectState* st) {
  __shared__ typename CountReduce::TempStorage reduce_storage;
  const std::uint32_t t = st->prefix;
  unsigned long long nonfinite = 0;
  const std::size_t quads = vectorized ? n / 4 : 0;
  threshold_groups<4>(src, 0, quads, t, capacity, stage_values, stage_indices, nonfinite, st);
  threshold_groups<1>(src, quads * 4, n - quads * 4, t, capacity, stage_values, stage_indices, nonfinite, st);
  add_block_count<CountReduce>(reduce_storage, nonfinite, &st->nonfinite);
}

// When finite and st->above <= capacity: copies the staged entries to the
// outputs (12 B read, 12 B written each).
__global__ void __launch_bounds__(kThreads) commit_staged(const float* stage_values, const Index* stage_indices,
                                                          std::size_t capacity, float* values, Index* indices,
                                                          const SelectState* st) {
  if (st->nonfinite != 0 || st->above > capacity) return;
  const unsigned long long count = st->above;
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * kThreads;
  for (std::size_t j = static_cast<std::size_t>(blockIdx.x) * kThreads + threadIdx.x; j < count; j += stride) {
    values[j] = stage_values[j];
    indices[j] = stage_indices[j];
  }
}

// ---- pipelines -----------------------------------------------------------------

// Candidate kernels see at most `n` entries but usually about k: two blocks
// per SM are plenty.
unsigned candidate_grid(std::size_t n, const LaunchContext& ctx) {
  const std::size_t tile = static_cast<std::size_t>(kThreads) * kCandidateItemsPerThread;
  return static_cast<unsigned>(
      std::clamp<std::size_t>((n + tile - 1) / tile, 1, static_cast<std::size_t>(2 * ctx.sm_count)));
}

void reset_state(const SelectWorkspace& ws, const LaunchContext& ctx) {
  CUDA_CHECK(cudaMemsetAsync(ws.header, 0, kSelectHeaderBytes, ctx.stream));
}

// Refinement levels 1 and 2 (or 0..2 for threshold samples) over the words
// in the candidate buffer: leaves T in st->prefix and its ties in st->k_rem.
void enqueue_refine(const SelectWorkspace& ws, std::uint32_t key_mask, int key_bits, int first_level,
                    std::size_t rank, unsigned grid, const LaunchContext& ctx) {
  for (int level = first_level; level < kRadixLevels; ++level) {
    unsigned long long* hist = ws.hist() + static_cast<std::size_t>(level) * kRadixBins;
    refine_histogram<<<grid, kThreads, 0, ctx.stream>>>(ws.cand_words, key_mask, key_bits, level, hist, ws.state());
    find_bin<<<1, kThreads, 0, ctx.stream>>>(hist, key_bits, level, rank, ws.state());
  }
}

// The full select: `first` feeds the first histogram, `second` the partition
// (the same words; ef_topk reads back the e that `first` wrote).
template <class First, class Second>
void enqueue_select(const First& first, const Second& second, std::size_t n, std::size_t k, bool vectorized,
                    const Emission& out, bool lowest_index_ties, const SelectWorkspace& ws,
                    const LaunchContext& ctx) {
  static_assert(First::kKeyBits == Second::kKeyBits && First::kKeyMask == Second::kKeyMask);
  constexpr int kBits = First::kKeyBits;
  constexpr std::uint32_t kMask = First::kKeyMask;
  SelectState* st = ws.state();
  const std::size_t work = vectorized ? n / 4 + n % 4 : n;

  histogram_pass<First><<<grid_for<histogram_pass<First>>(work, ctx), kThreads, 0, ctx.stream>>>(
      first, n, vectorized, ws.hist(), st);
  if (k != 0) {
    const Candidates cand{ws.cand_words, ws.cand_indices};
    find_bin<<<1, kThreads, 0, ctx.stream>>>(ws.hist(), kBits, 0, k, st);
    partition_pass<Second><<<grid_for<partition_pass<Second>>(n / kItemsPerThread + 1, ctx), kThreads, 0,
                             ctx.stream>>>(
        second, n, vectorized, out, cand, st);
    const unsigned grid = candidate_grid(n, ctx);
    enqueue_refine(ws, kMask, kBits, 1, 0, grid, ctx);
    emit_candidates<<<grid, kThreads, 0, ctx.stream>>>(cand, kMask, lowest_index_ties, k, out, st);
    if (lowest_index_ties) take_lowest_index_ties<<<1, kThreads, 0, ctx.stream>>>(cand, kMask, k, out, st);
  }
  CUDA_CHECK(cudaGetLastError());
}

}  // namespace

void enqueue_ef_topk(const float* g, float* e, std::size_t n, std::size_t k, float* values, Index* indices,
                     const SelectWorkspace& ws, const LaunchContext& ctx) {
  reset_state(ws, ctx);
  enqueue_select(AccumulateIntoE{g, e}, ReadX{e}, n, k, aligned16(g) && aligned16(e), Emission{values, indices, e},
                 false, ws, ctx);
}

void enqueue_topk(const float* x, std::size_t n, std::size_t k, float* values, Index* indices,
                  const SelectWorkspace& ws, const LaunchContext& ctx) {
  reset_state(ws, ctx);
  enqueue_select(ReadX{x}, ReadX{x}, n, k, aligned16(x), Emission{values, indices, nullptr}, false, ws, ctx);
}

void enqueue_randomk(const float* x, std::size_t n, std::size_t k, std::uint64_t seed, float* values,
                     Index* indices, const SelectWorkspace& ws, const LaunchContext& ctx) {
  reset_state(ws, ctx);
  enqueue_select(RandomKeys{seed}, RandomKeys{seed}, n, k, true, Emission{nullptr, ws.stage_indices, nullptr}, true,
                 ws, ctx);
  check_gathered<<<grid_for<check_gathered>(k, ctx), kThreads, 0, ctx.stream>>>(x, ws.stage_indices, k, ws.state());
  commit_gathered<<<grid_for<commit_gathered>(k, ctx), kThreads, 0, ctx.stream>>>(x, ws.stage_indices, k, values,
                                                                                  indices, ws.state());
  CUDA_CHECK(cudaGetLastError());
}

void enqueue_threshold(const float* x, std::size_t n, std::size_t samples, std::size_t rank, std::uint64_t seed,
                       std::size_t capacity, float* values, Index* indices, const SelectWorkspace& ws,
                       const LaunchContext& ctx) {
  SelectState* st = ws.state();
  reset_state(ws, ctx);
  gather_samples<<<grid_for<gather_samples>(samples, ctx), kThreads, 0, ctx.stream>>>(x, n, samples, seed,
                                                                                      ws.cand_words, st);
  enqueue_refine(ws, ReadX::kKeyMask, ReadX::kKeyBits, 0, rank, candidate_grid(samples, ctx), ctx);
  const bool vectorized = aligned16(x);
  threshold_pass<<<grid_for<threshold_pass>(n / kItemsPerThread + 1, ctx), kThreads, 0, ctx.stream>>>(
      ReadX{x}, n, vectorized, capacity, ws.stage_values, ws.stage_indices, st);
  commit_staged<<<grid_for<commit_staged>(std::min(capacity, n), ctx), kThreads, 0, ctx.stream>>>(
      ws.stage_values, ws.stage_indices, capacity, values, indices, st);
  CUDA_CHECK(cudaGetLastError());
}

}  // namespace gcsim::kernels::cuda
