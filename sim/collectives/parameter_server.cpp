#include "sim/collectives/parameter_server.h"

#include <algorithm>

namespace gcsim {

CollectiveCost parameter_server(const Fabric& f, double bytes, int servers) {
  CollectiveCost c;
  if (f.P <= 1 || bytes <= 0) return c;
  const int S = std::clamp(servers, 1, f.P);
  const LinkParams link = f.flat_link();
  c.time_s = 2.0 * (link.alpha_s + (f.P - 1.0) / S * bytes / link.bytes_per_s);
  c.bytes_sent = c.bytes_received = 2.0 * (f.P - 1.0) / f.P * bytes;
  return c;
}

namespace {

class ParameterServerSchedule final : public CollectiveSchedule {
 public:
  ParameterServerSchedule(const ScheduleContext& ctx, int P, double bytes, int servers)
      : CollectiveSchedule(ctx.engine, ctx.network, P, ctx.alpha),
        servers_(std::clamp(servers, 1, P)),
        shard_(bytes / servers_),
        pushes_(servers_, 0),
        pulls_(P, 0) {
    set_phase_names({"push", "pull"});
  }
  std::string name() const override { return "ps"; }

 private:
  void begin(Time t) override {
    for (int r = 0; r < ranks(); ++r)
      for (int j = 0; j < servers_; ++j)
        if (j != r) send(r, j, shard_, t, 0, 0);
  }
  void on_receive(int /*src*/, int dst, std::uint64_t msg, Time arrival) override {
    if (msg == 0) {  // a push reached server dst
      if (++pushes_[dst] == ranks() - 1) {
        for (int r = 0; r < ranks(); ++r)
          if (r != dst) send(dst, r, shard_, arrival, 1, 1);
        pulled(dst, arrival);  // its own shard
      }
      return;
    }
    pulled(dst, arrival);
  }
  void pulled(int r, Time t) {
    if (++pulls_[r] == servers_) finish_rank(r, t);
  }

  int servers_;
  double shard_;
  std::vector<int> pushes_;
  std::vector<int> pulls_;
};

}  // namespace

std::unique_ptr<CollectiveSchedule> parameter_server_schedule(const ScheduleContext& ctx, int P, double bytes,
                                                              int servers) {
  return std::make_unique<ParameterServerSchedule>(ctx, P, bytes, servers);
}

}  // namespace gcsim
