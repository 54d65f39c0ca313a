// Radix select on 32-bit keys: the fast CPU path's engine for Top-K (keys =
// magnitude_key), fused error-feedback Top-K and Random-K (keys = ~randomk_key,
// so the largest keys are the smallest hashes).
//
//   pass 1 (histogram)  one pass over the n keys, computed on the fly by the
//                       caller's key function, counts the top 11 bits (2048 bins)
//                       per chunk; the caller can then reject non-finite inputs
//                       (count_at_least(kInfKey)) before anything is written.
//   pass 2 (select)     finds the bin holding the k-th largest key, emits every
//                       entry of the bins above it straight to its final output
//                       slot (per-chunk prefix offsets come from the pass-1
//                       histograms) and gathers the boundary bin's (key, index)
//                       candidates; two digit histograms over the candidates
//                       (11 + 10 bits) find the exact k-th key and how many of
//                       its ties to take. The pass tests keys in blocks of 8
//                       with vector compares and walks only the blocks that
//                       hold a key in or above the boundary bin.
//
// Chunks are contiguous ranges of [0, n), one std::thread each (one chunk
// spawns no thread). The key functions must be pure per index in pass 2 (pass 1
// may have side effects, e.g. writing the error-feedback accumulator).
#pragma once

#include <array>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "kernels/cpu/parallel_chunks.h"

namespace gcsim::kernels::cpu {

inline constexpr unsigned kTopShift = 21;                                    // pass-1 digit: bits 31..21
inline constexpr std::size_t kTopBins = std::size_t{1} << (32 - kTopShift);  // 2048
inline constexpr unsigned kMidShift = 10;                                    // refinement digits: bits 20..10, 9..0
inline constexpr std::uint32_t kMidMask = (1u << (kTopShift - kMidShift)) - 1;
inline constexpr std::uint32_t kLowMask = (1u << kMidShift) - 1;

using TopHistogram = std::array<std::size_t, kTopBins>;

// Where the k-th largest of the histogrammed keys lies: `bin`, with `above`
// keys in the bins above it, so `need` = k - above of the bin's keys are taken.
struct Boundary {
  std::uint32_t bin = 0;
  std::size_t above = 0;
  std::size_t need = 0;
};
// Requires 1 <= k <= the histogram's total.
Boundary find_boundary(const TopHistogram& hist, std::size_t k);

// The exact k-th largest key among `count` keys that share their top digit:
// take every key > `key` and `ties` of the keys == `key` (need in [1, count]).
struct KthKey {
  std::uint32_t key = 0;
  std::size_t ties = 0;
};
KthKey find_kth(const std::uint32_t* keys, std::size_t count, std::size_t need);

// Adds the top-digit counts of key(i), i in [begin, end), into hist.
template <class KeyFn>
void add_top_histogram(KeyFn& key, std::size_t begin, std::size_t end, TopHistogram& hist) {
  // Four interleaved 32-bit sub-histograms: runs of equal bins (dense data
  // lives in few exponents) do not wait on each other's increments.
  constexpr std::size_t kBlock = std::size_t{1} << 30;  // keeps each sub-count below 2^32
  std::array<std::array<std::uint32_t, kTopBins>, 4> sub;
  for (std::size_t b = begin; b < end; b += kBlock) {
    for (auto& s : sub) s.fill(0);
    const std::size_t e = end - b < kBlock ? end : b + kBlock;
    std::size_t i = b;
    for (; i + 4 <= e; i += 4) {
      ++sub[0][key(i) >> kTopShift];
      ++sub[1][key(i + 1) >> kTopShift];
      ++sub[2][key(i + 2) >> kTopShift];
      ++sub[3][key(i + 3) >> kTopShift];
    }
    for (; i < e; ++i) ++sub[0][key(i) >> kTopShift];
    for (std::size_t d = 0; d < kTopBins; ++d) hist[d] += std::size_t{sub[0][d]} + sub[1][d] + sub[2][d] + sub[3][d];
  }
}

inline constexpr std::size_t kScanBlock = 8;

// Fills block[0 .. kScanBlock) with the keys of b, b + 1, ... and says whether
// any is >= bound. Four-lane vector compares (GCC/Clang vector extension):
// written as a scalar loop, the test becomes an unsigned max, which baseline
// x86-64 (SSE2) cannot vectorize; the lanes are built from the key values
// themselves, so keys computed in scalar code (hashes) skip a round trip
// through memory.
template <class KeyFn>
bool fill_key_block(KeyFn& key, std::size_t b, std::uint32_t bound, std::uint32_t* block) {
  using U32x4 = std::uint32_t __attribute__((vector_size(16)));
  const U32x4 lo = {bound, bound, bound, bound};
  U32x4 hits = {0, 0, 0, 0};
  for (std::size_t q = 0; q < kScanBlock; q += 4) {
    const U32x4 v = {key(b + q), key(b + q + 1), key(b + q + 2), key(b + q + 3)};
    std::memcpy(block + q, &v, sizeof v);
    hits |= reinterpret_cast<U32x4>(v >= lo);
  }
  std::uint64_t half[2];
  std::memcpy(half, &hits, sizeof half);
  return (half[0] | half[1]) != 0;
}

// A sparse scan of [begin, end): keys are computed and tested kScanBlock at a
// time, and visit(b, block, len) sees only the blocks holding a key >= bound
// (plus the short tail), a few percent of them at the usual densities.
template <class KeyFn, class VisitFn>
void scan_blocks(KeyFn& key, std::size_t begin, std::size_t end, std::uint32_t bound, VisitFn&& visit) {
  alignas(64) std::uint32_t block[kScanBlock];
  std::size_t b = begin;
  for (; end - b >= kScanBlock; b += kScanBlock)
    if (fill_key_block(key, b, bound, block)) visit(b, static_cast<const std::uint32_t*>(block), kScanBlock);
  for (std::size_t j = 0; j < end - b; ++j) block[j] = key(b + j);
  if (end > b) visit(b, static_cast<const std::uint32_t*>(block), end - b);
}

class RadixSelect {
 public:
  // chunks >= 1: the number of contiguous ranges (and threads) both passes use.
  explicit RadixSelect(unsigned chunks) : chunks_(chunks), per_chunk_(chunks) {}

  // Pass 1 over i in [0, n).
  template <class KeyFn>
  void histogram(std::size_t n, KeyFn key) {
    n_ = n;
    for (auto& h : per_chunk_) h.fill(0);
    parallel_chunks(chunks_, [&](unsigned c) {
      KeyFn local = key;
      const auto [begin, end] = chunk_range(n_, chunks_, c);
      add_top_histogram(local, begin, end, per_chunk_[c]);
    });
    total_.fill(0);
    for (const auto& h : per_chunk_)
      for (std::size_t d = 0; d < kTopBins; ++d) total_[d] += h[d];
  }

  // How many keys are >= bound; bound must be a multiple of 2^kTopShift.
  std::size_t count_at_least(std::uint32_t bound) const;

  // Pass 2: calls emit(i, slot) for the k indices with the largest keys, each
  // with a distinct slot in [0, k) (ties at the k-th key are taken in any
  // order). `key` must give the keys pass 1 histogrammed.
  template <class KeyFn, class EmitFn>
  void select(std::size_t k, KeyFn key, EmitFn emit) {
    assert(k <= n_);
    if (k == 0) return;
    const Boundary bd = find_boundary(total_, k);
    const std::uint32_t bin = bd.bin;
    std::vector<std::size_t> out_offset(chunks_), cand_offset(chunks_);
    std::size_t outs = 0, cands = 0;
    for (unsigned c = 0; c < chunks_; ++c) {
      out_offset[c] = outs;
      cand_offset[c] = cands;
      for (std::size_t d = bin + 1; d < kTopBins; ++d) outs += per_chunk_[c][d];
      cands += per_chunk_[c][bin];
    }
    assert(outs == bd.above && cands == total_[bin]);
    auto cand_keys = std::make_unique_for_overwrite<std::uint32_t[]>(cands);
    auto cand_index = std::make_unique_for_overwrite<std::size_t[]>(cands);
    std::uint32_t* const ckeys = cand_keys.get();
    std::size_t* const cindex = cand_index.get();
    parallel_chunks(chunks_, [&, bin, ckeys, cindex](unsigned c) {
      const auto [begin, end] = chunk_range(n_, chunks_, c);
      scan_chunk(key, emit, bin, begin, end, out_offset[c], ckeys + cand_offset[c], cindex + cand_offset[c]);
    });
    const KthKey kth = find_kth(cand_keys.get(), cands, bd.need);
    std::size_t slot = bd.above, ties = kth.ties;
    for (std::size_t j = 0; j < cands; ++j) {
      if (cand_keys[j] > kth.key || (cand_keys[j] == kth.key && ties > 0)) {
        if (cand_keys[j] == kth.key) --ties;
        emit(cand_index[j], slot++);
      }
    }
    assert(slot == k);
  }

 private:
  // Pass 2 over [begin, end): keys in bins above `bin` to emit(i, out++), keys
  // in the bin itself to the candidate arrays.
  template <class KeyFn, class EmitFn>
  static void scan_chunk(KeyFn key, EmitFn emit, std::uint32_t bin, std::size_t begin, std::size_t end, std::size_t out,
                         std::uint32_t* ckeys, std::size_t* cindex) {
    std::size_t cand = 0;
    scan_blocks(key, begin, end, bin << kTopShift, [&](std::size_t b, const std::uint32_t* block, std::size_t len) {
      for (std::size_t j = 0; j < len; ++j) {
        const std::uint32_t d = block[j] >> kTopShift;
        if (d > bin) {
          emit(b + j, out++);
        } else if (d == bin) {
          ckeys[cand] = block[j];
          cindex[cand] = b + j;
          ++cand;
        }
      }
    });
  }

  unsigned chunks_;
  std::size_t n_ = 0;
  std::vector<TopHistogram> per_chunk_;
  TopHistogram total_{};
};

}  // namespace gcsim::kernels::cpu
