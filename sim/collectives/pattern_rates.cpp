#include "sim/collectives/pattern_rates.h"

#include <algorithm>
#include <queue>
#include <tuple>

namespace gcsim {

std::vector<double> pattern_rates(const std::vector<const std::vector<int>*>& flows, const std::vector<double>& capacity) {
  const std::size_t L = capacity.size();
  std::vector<double> residual(capacity);
  std::vector<int> unfrozen(L, 0);
  std::vector<std::vector<int>> on_link(L);
  for (std::size_t f = 0; f < flows.size(); ++f)
    for (const int l : *flows[f]) {
      ++unfrozen[static_cast<std::size_t>(l)];
      on_link[static_cast<std::size_t>(l)].push_back(static_cast<int>(f));
    }
  std::vector<double> rate(flows.size(), 0.0);
  std::vector<char> frozen(flows.size(), 0);
  // (share, link, version): the smallest fair share first, ties to the lower link
  using Entry = std::tuple<double, int, unsigned>;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> heap;
  std::vector<unsigned> version(L, 0);
  for (std::size_t l = 0; l < L; ++l)
    if (unfrozen[l] > 0) heap.emplace(residual[l] / unfrozen[l], static_cast<int>(l), 0u);
  while (!heap.empty()) {
    const auto [share, l, v] = heap.top();
    heap.pop();
    const auto ul = static_cast<std::size_t>(l);
    if (v != version[ul] || unfrozen[ul] == 0) continue;
    for (const int f : on_link[ul]) {
      const auto uf = static_cast<std::size_t>(f);
      if (frozen[uf]) continue;
      frozen[uf] = 1;
      rate[uf] = share;
      for (const int l2 : *flows[uf]) {
        const auto u2 = static_cast<std::size_t>(l2);
        residual[u2] = std::max(0.0, residual[u2] - share);
        --unfrozen[u2];
        if (l2 != l && unfrozen[u2] > 0) heap.emplace(residual[u2] / unfrozen[u2], l2, ++version[u2]);
      }
    }
  }
  return rate;
}

}  // namespace gcsim
