#include "sim/collectives/halving_doubling_schedule.h"

#include <cmath>
#include <limits>

#include "comm/rank_patterns.h"

namespace gcsim {

namespace {

class HalvingDoublingSchedule final : public CollectiveSchedule {
 public:
  HalvingDoublingSchedule(const ScheduleContext& ctx, int P, double bytes)
      : CollectiveSchedule(ctx.engine, ctx.network, P, ctx.alpha), bytes_(bytes) {
    pof2_ = comm::floor_pow2(P);
    levels_ = comm::ceil_log2(pof2_);
    extra_ = P - pof2_;
    reached_.assign(static_cast<std::size_t>(pof2_) * steps(), std::numeric_limits<Time>::quiet_NaN());
    set_phase_names({"halving", "doubling"});
  }
  std::string name() const override { return "halving-doubling"; }

 private:
  static constexpr std::uint64_t kHandOff = 1u << 20;  // extra rank -> partner
  static constexpr std::uint64_t kReturn = kHandOff + 1;  // partner -> extra rank

  int steps() const { return 2 * levels_; }
  int distance(int k) const { return k < levels_ ? 1 << k : 1 << (steps() - 1 - k); }
  double step_bytes(int k) const { return bytes_ / std::pow(2.0, (k < levels_ ? k : steps() - 1 - k) + 1); }

  void begin(Time t) override {
    for (int e = pof2_; e < ranks(); ++e) send(e, e - pof2_, bytes_, t, kHandOff, 0);
    for (int x = extra_; x < pof2_; ++x) enter(x, 0, t);
  }

  // Core rank x has the data for step k at time t.
  void enter(int x, int k, Time t) {
    if (k == steps()) {
      if (x < extra_) send(x, pof2_ + x, bytes_, t, kReturn, 1);
      finish_rank(x, t);
      return;
    }
    const int p = x ^ distance(k);
    reached_[idx(x, k)] = t;
    const Time partner_ready = reached_[idx(p, k)];
    if (!std::isnan(partner_ready)) {  // both are here: the exchange goes both ways now
      send(x, p, step_bytes(k), t, static_cast<std::uint64_t>(k), k < levels_ ? 0 : 1);
      send(p, x, step_bytes(k), t, static_cast<std::uint64_t>(k), k < levels_ ? 0 : 1);
    }
  }
  std::size_t idx(int x, int k) const { return static_cast<std::size_t>(x) * steps() + k; }

  void on_receive(int /*src*/, int dst, std::uint64_t msg, Time arrival) override {
    if (msg == kHandOff) {
      enter(dst, 0, arrival);
      return;
    }
    if (msg == kReturn) {
      finish_rank(dst, arrival);
      return;
    }
    const int k = static_cast<int>(msg);
    enter(dst, k + 1, arrival);
  }

  double bytes_;
  int pof2_ = 1;
  int levels_ = 0;
  int extra_ = 0;
  std::vector<Time> reached_;  // [x][k]: when core rank x had the data for step k
};

}  // namespace

std::unique_ptr<CollectiveSchedule> halving_doubling_schedule(const ScheduleContext& ctx, int P, double bytes) {
  return std::make_unique<HalvingDoublingSchedule>(ctx, P, bytes);
}

}  // namespace gcsim
