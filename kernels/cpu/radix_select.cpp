// Radix select: the non-template steps (boundary search, refinement of the
// boundary bin's candidates); the passes over the data are in radix_select.h.
#include "kernels/cpu/radix_select.h"

namespace gcsim::kernels::cpu {

namespace {

// The bin holding the k-th largest of the counted keys, scanning from the top.
template <std::size_t Bins>
Boundary walk_down(const std::array<std::size_t, Bins>& hist, std::size_t k) {
  std::size_t above = 0;
  for (std::size_t d = Bins; d-- > 0;) {
    if (above + hist[d] >= k) return {static_cast<std::uint32_t>(d), above, k - above};
    above += hist[d];
  }
  assert(false && "k exceeds the histogram's total");
  return {};
}

}  // namespace

Boundary find_boundary(const TopHistogram& hist, std::size_t k) { return walk_down(hist, k); }

KthKey find_kth(const std::uint32_t* keys, std::size_t count, std::size_t need) {
  assert(count > 0 && need >= 1 && need <= count);
  std::array<std::size_t, kMidMask + 1> mid{};
  for (std::size_t j = 0; j < count; ++j) ++mid[(keys[j] >> kMidShift) & kMidMask];
  const Boundary m = walk_down(mid, need);

  std::array<std::size_t, kLowMask + 1> low{};
  for (std::size_t j = 0; j < count; ++j)
    if (((keys[j] >> kMidShift) & kMidMask) == m.bin) ++low[keys[j] & kLowMask];
  const Boundary l = walk_down(low, m.need);

  const std::uint32_t top = keys[0] & ~((1u << kTopShift) - 1);
  return {top | (m.bin << kMidShift) | l.bin, l.need};
}

std::size_t RadixSelect::count_at_least(std::uint32_t bound) const {
  assert(bound % (1u << kTopShift) == 0);
  std::size_t count = 0;
  for (std::size_t d = bound >> kTopShift; d < kTopBins; ++d) count += total_[d];
  return count;
}

}  // namespace gcsim::kernels::cpu
