#include "sim/collectives/fast_ring.h"

#include <algorithm>
#include <cmath>

namespace gcsim {

namespace {
bool same_time(Time a, Time b) { return a == b || std::abs(a - b) <= 1e-12 * std::max(std::abs(a), std::abs(b)); }
}  // namespace

FastRingTimes fast_ring_times(const std::vector<FastRingStage>& stages, int P, int C, Time start, int phases) {
  FastRingTimes out;
  std::vector<Time> begins(static_cast<std::size_t>(P) * C), dones(static_cast<std::size_t>(P) * C);
  out.phase_end.assign(static_cast<std::size_t>(phases), start);
  std::vector<Time> enter(static_cast<std::size_t>(P), start);
  // A connection's FIFO: per rank, the successors it has sent to and when its last message there was done.
  std::vector<std::vector<std::pair<int, Time>>> conn(static_cast<std::size_t>(P));
  std::vector<Time> prev(static_cast<std::size_t>(P) * C), cur(static_cast<std::size_t>(P) * C);
  std::vector<int> pred(static_cast<std::size_t>(P));
  for (const FastRingStage& st : stages) {
    out.busy.emplace_back(static_cast<std::size_t>(P));
    auto& busy = out.busy.back();
    if (st.steps <= 0) continue;
    bool grouped = false;
    for (int r = 0; r < P && !st.lockstep_with.empty(); ++r) grouped = grouped || st.lockstep_with[static_cast<std::size_t>(r)] != r;
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
        Time* b_out = begins.data() + ur * C;
        Time* d_out = dones.data() + ur * C;
        if (s == 0) busy[ur].first_begin = std::max(e, f) + alpha;  // its first message's start
        for (int c = 0; c < C; ++c) {
          const Time ready = s == 0 ? e : std::max(from[c], e);
          const Time begin = std::max(ready, f) + alpha;
          const Time done = begin + d;
          f = done;
          to[c] = done + lat;
          if (grouped) {  // kept only where a lockstep check reads them
            b_out[c] = begin;
            d_out[c] = done;
          }
          step_last = std::max(step_last, to[c]);
        }
        *free_at[ur] = f;
      }
      if (grouped)
        for (int r = 0; r < P; ++r) {
          const auto g = static_cast<std::size_t>(st.lockstep_with[static_cast<std::size_t>(r)]);
          const auto ur = static_cast<std::size_t>(r);
          if (g == ur) continue;
          for (int c = 0; c < C; ++c)
            if (!same_time(begins[ur * C + c], begins[g * C + c]) || !same_time(dones[ur * C + c], dones[g * C + c])) {
              out.lockstep = false;
              return out;
            }
        }
      const int phase = st.first_phase + ((st.split > 0 && s >= st.split) ? 1 : 0);
      if (phase < phases) out.phase_end[static_cast<std::size_t>(phase)] = std::max(out.phase_end[static_cast<std::size_t>(phase)], step_last);
      prev.swap(cur);
    }
    for (int r = 0; r < P; ++r) busy[static_cast<std::size_t>(r)].last_done = *free_at[static_cast<std::size_t>(r)];
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
