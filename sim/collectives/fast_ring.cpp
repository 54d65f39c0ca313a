#include "sim/collectives/fast_ring.h"

#include <algorithm>

namespace gcsim {

FastRingTimes fast_ring_times(const std::vector<FastRingStage>& stages, int P, int C, Time start, int phases) {
  FastRingTimes out;
  out.phase_end.assign(static_cast<std::size_t>(phases), start);
  std::vector<Time> enter(static_cast<std::size_t>(P), start);
  // A connection's FIFO: per rank, the successors it has sent to and when its last message there was done.
  std::vector<std::vector<std::pair<int, Time>>> conn(static_cast<std::size_t>(P));
  std::vector<Time> prev(static_cast<std::size_t>(P) * C), cur(static_cast<std::size_t>(P) * C);
  std::vector<int> pred(static_cast<std::size_t>(P));
  for (const FastRingStage& st : stages) {
    if (st.steps <= 0) continue;
    for (int r = 0; r < P; ++r) pred[static_cast<std::size_t>(st.next[static_cast<std::size_t>(r)])] = r;
    // each rank's connection for this stage
    std::vector<Time*> free_at(static_cast<std::size_t>(P));
    for (int r = 0; r < P; ++r) {
      auto& list = conn[static_cast<std::size_t>(r)];
      const int to = st.next[static_cast<std::size_t>(r)];
      auto it = std::find_if(list.begin(), list.end(), [to](const auto& e) { return e.first == to; });
      if (it == list.end()) {
        list.emplace_back(to, -1.0);  // never used: no wait (times are >= 0)
        it = list.end() - 1;
      }
      free_at[static_cast<std::size_t>(r)] = &it->second;
    }
    for (int s = 0; s < st.steps; ++s) {
      Time step_last = start;
      for (int r = 0; r < P; ++r) {
        const auto ur = static_cast<std::size_t>(r);
        const Time e = enter[ur];
        const double alpha = st.alpha_s[ur], d = st.duration_s[ur], lat = st.latency_s[ur];
        Time f = *free_at[ur];
        const Time* from = prev.data() + static_cast<std::size_t>(pred[ur]) * C;
        Time* to = cur.data() + ur * C;
        for (int c = 0; c < C; ++c) {
          const Time ready = s == 0 ? e : std::max(from[c], e);
          const Time begin = std::max(ready, f) + alpha;
          const Time done = begin + d;
          f = done;
          to[c] = done + lat;
          step_last = std::max(step_last, to[c]);
        }
        *free_at[ur] = f;
      }
      const int phase = st.first_phase + ((st.split > 0 && s >= st.split) ? 1 : 0);
      if (phase < phases) out.phase_end[static_cast<std::size_t>(phase)] = std::max(out.phase_end[static_cast<std::size_t>(phase)], step_last);
      prev.swap(cur);
    }
    // the next stage begins when the predecessor's last pieces have arrived
    for (int r = 0; r < P; ++r) {
      const Time* from = prev.data() + static_cast<std::size_t>(pred[static_cast<std::size_t>(r)]) * C;
      Time t = enter[static_cast<std::size_t>(r)];
      for (int c = 0; c < C; ++c) t = std::max(t, from[c]);
      enter[static_cast<std::size_t>(r)] = t;
    }
  }
  out.done = std::move(enter);
  return out;
}

}  // namespace gcsim
