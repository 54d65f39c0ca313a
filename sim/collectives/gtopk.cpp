#include "sim/collectives/gtopk.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "comm/rank_patterns.h"

namespace gcsim {

namespace {

using comm::broadcast_children;
using comm::ceil_log2;
using comm::reduce_role;
using comm::TreeRole;

}  // namespace

CollectiveCost gtopk_allreduce(const Fabric& f, double m, double merge_s) {
  CollectiveCost c;
  const int P = f.P;
  if (P <= 1) return c;
  const int L = ceil_log2(P);
  std::vector<double> ready(static_cast<std::size_t>(P), 0.0);
  for (int j = 0; j < L; ++j)
    for (int r = 0; r < P; ++r)
      if (reduce_role(r, j, P) == TreeRole::Receives)
        ready[r] = std::max(ready[r], ready[r + (1 << j)]) + f.pairwise_link(1 << j).time(m) + merge_s;
  std::vector<double> have(static_cast<std::size_t>(P), 0.0);
  have[0] = ready[0];
  for (int r = 0; r < P; ++r) {  // a rank's parent is below it: have[r] is known here
    double clock = have[r];
    for (int j : broadcast_children(r, L, P)) {
      clock += f.pairwise_link(1 << j).time(m);
      have[r + (1 << j)] = clock;
    }
  }
  c.time_s = *std::max_element(have.begin(), have.end());
  c.bytes_sent = c.bytes_received = 2.0 * (P - 1.0) * m / P;
  return c;
}

namespace {

class GtopkSchedule final : public CollectiveSchedule {
 public:
  GtopkSchedule(const ScheduleContext& ctx, int P, double bytes, double merge_s)
      : CollectiveSchedule(ctx.engine, ctx.network, P, ctx.alpha),
        bytes_(bytes),
        merge_s_(merge_s),
        L_(ceil_log2(P)),
        round_(static_cast<std::size_t>(P), 0),
        reached_(static_cast<std::size_t>(P), kNaN),
        next_child_(static_cast<std::size_t>(P), 0) {
    set_phase_names({"reduce", "broadcast"});
  }
  std::string name() const override { return "gtopk"; }

 private:
  static constexpr Time kNaN = std::numeric_limits<Time>::quiet_NaN();
  static constexpr std::uint64_t kBroadcast = 1u << 16;  // message tag: kBroadcast + j, or the reduce round j

  void begin(Time t) override {
    for (int r = 0; r < ranks(); ++r) advance(r, 0, t);
  }

  // Rank r has merged everything of rounds < j at time t.
  void advance(int r, int j, Time t) {
    for (; j < L_; ++j) {
      const TreeRole ro = reduce_role(r, j, ranks());
      if (ro == TreeRole::Idle) continue;
      round_[r] = j;
      reached_[r] = t;
      const int peer = ro == TreeRole::Sends ? r - (1 << j) : r + (1 << j);
      if (round_[peer] == j && !std::isnan(reached_[peer])) {  // rendezvous: both ends are here
        const int src = ro == TreeRole::Sends ? r : peer;
        send(src, src - (1 << j), bytes_, std::max(t, reached_[peer]), static_cast<std::uint64_t>(j), 0);
      }
      return;
    }
    round_[r] = L_;  // only rank 0 gets here: the global top k is ready
    have_result(0, t);
  }

  void have_result(int r, Time t) {
    finish_rank(r, t);
    send_next_child(r, t);
  }

  void send_next_child(int r, Time t) {
    const std::vector<int> children = broadcast_children(r, L_, ranks());
    std::size_t& i = next_child_[r];
    if (i >= children.size()) return;
    const int j = children[i++];
    send(r, r + (1 << j), bytes_, t, kBroadcast + static_cast<std::uint64_t>(j), 1);
  }

  void on_receive(int src, int dst, std::uint64_t msg, Time arrival) override {
    if (msg >= kBroadcast) {
      have_result(dst, arrival);
      send_next_child(src, arrival);
      return;
    }
    const int j = static_cast<int>(msg);
    reached_[src] = kNaN;  // the sender is done with the reduce
    advance(dst, j + 1, arrival + merge_s_);
  }

  double bytes_, merge_s_;
  int L_;
  std::vector<int> round_;
  std::vector<Time> reached_;
  std::vector<std::size_t> next_child_;
};

}  // namespace

std::unique_ptr<CollectiveSchedule> gtopk_schedule(const ScheduleContext& ctx, int P, double message_bytes,
                                                   double merge_s) {
  return std::make_unique<GtopkSchedule>(ctx, P, message_bytes, merge_s);
}

}  // namespace gcsim
