#include "sim/collectives/sparse_allreduce.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "comm/rank_patterns.h"

namespace gcsim {

double SparseVectorModel::merge_s(const KernelCost& merge, double c1, double c2) const {
  double k = 0.0;
  for (double c : {c1, c2})
    if (!dense(c)) k += support(c);
  const bool any_dense = dense(c1) || dense(c2) || dense(c1 + c2);
  return merge.eval(any_dense ? entries : 0.0, k);
}

SparseAllreduceCost sparse_allreduce(const Fabric& f, const SparseVectorModel& v, const KernelCost& merge) {
  SparseAllreduceCost out;
  const int P = f.P;
  const int pof2 = comm::floor_pow2(std::max(P, 1));
  for (int d = 1; d < pof2; d *= 2) ++out.rounds;
  if (P <= 1) return out;
  const int extra = P - pof2;
  std::vector<double> t(static_cast<std::size_t>(P), 0.0), c(static_cast<std::size_t>(pof2), 1.0);
  double sent = 0.0;
  for (int i = 0; i < extra; ++i) {
    t[i] = f.pairwise_link(pof2).time(v.bytes(1)) + v.merge_s(merge, 1, 1);
    c[i] = 2;
    sent += v.bytes(1);
  }
  out.sparse_rounds = out.rounds;
  int round = 0;
  for (int d = 1; d < pof2; d *= 2, ++round) {
    for (int x = 0; x < pof2; ++x)
      if (v.dense(c[x]) && out.sparse_rounds == out.rounds) out.sparse_rounds = round;
    for (int x = 0; x < pof2; ++x) {
      const int p = x ^ d;
      if (p < x) continue;
      const double start = std::max(t[x], t[p]);
      const LinkParams link = f.pairwise_link(d);
      // A round ends for both when both messages have arrived (each rank's
      // sendrecv waits for its send too), then each merges the same two vectors.
      const double end = start + std::max(link.time(v.bytes(c[x])), link.time(v.bytes(c[p]))) +
                         v.merge_s(merge, c[x], c[p]);
      sent += v.bytes(c[x]) + v.bytes(c[p]);
      t[x] = t[p] = end;
      c[x] = c[p] = c[x] + c[p];
    }
  }
  for (int i = 0; i < extra; ++i) {
    t[pof2 + i] = t[i] + f.pairwise_link(pof2).time(v.bytes(P));
    sent += v.bytes(P);
  }
  out.cost.time_s = *std::max_element(t.begin(), t.end());
  out.cost.bytes_sent = out.cost.bytes_received = sent / P;
  return out;
}

namespace {

class SparseAllreduceSchedule final : public CollectiveSchedule {
 public:
  SparseAllreduceSchedule(const ScheduleContext& ctx, int P, const SparseVectorModel& v, const KernelCost& merge)
      : CollectiveSchedule(ctx.engine, ctx.network, P, ctx.alpha), v_(v), merge_(merge) {
    pof2_ = comm::floor_pow2(P);
    levels_ = comm::ceil_log2(pof2_);
    extra_ = P - pof2_;
    reached_.assign(static_cast<std::size_t>(pof2_) * (levels_ + 1), kNaN);
    c_.assign(reached_.size(), 1.0);
    first_arrival_.assign(reached_.size(), kNaN);
    set_phase_names({"recursive doubling"});
  }
  std::string name() const override { return "sparse-allreduce"; }

 private:
  static constexpr Time kNaN = std::numeric_limits<Time>::quiet_NaN();
  static constexpr std::uint64_t kHandOff = 1u << 20;  // extra rank -> partner; else the round
  static constexpr std::uint64_t kReturn = kHandOff + 1;

  void begin(Time t) override {
    for (int e = pof2_; e < ranks(); ++e) send(e, e - pof2_, v_.bytes(1), t, kHandOff, 0);
    for (int x = extra_; x < pof2_; ++x) enter(x, 0, 1.0, t);
  }

  // Core rank x holds the sum of c ranks' vectors for round k at time t.
  void enter(int x, int k, double c, Time t) {
    c_[idx(x, k)] = c;
    if (k == levels_) {
      if (x < extra_) send(x, pof2_ + x, v_.bytes(c), t, kReturn, 0);
      finish_rank(x, t);
      return;
    }
    const int p = x ^ (1 << k);
    reached_[idx(x, k)] = t;
    const Time partner = reached_[idx(p, k)];
    if (std::isnan(partner)) return;  // rendezvous: the exchange starts when both are here
    const Time start = std::max(t, partner);
    send(x, p, v_.bytes(c), start, static_cast<std::uint64_t>(k), 0);
    send(p, x, v_.bytes(c_[idx(p, k)]), start, static_cast<std::uint64_t>(k), 0);
  }
  std::size_t idx(int x, int k) const { return static_cast<std::size_t>(x) * (levels_ + 1) + k; }

  void on_receive(int src, int dst, std::uint64_t msg, Time arrival) override {
    if (msg == kHandOff) {
      enter(dst, 0, 2.0, arrival + v_.merge_s(merge_, 1, 1));
      return;
    }
    if (msg == kReturn) {
      finish_rank(dst, arrival);
      return;
    }
    // Round k ends for the pair when both directions have arrived.
    const int k = static_cast<int>(msg);
    const std::size_t lo = idx(std::min(src, dst), k);
    if (std::isnan(first_arrival_[lo])) {
      first_arrival_[lo] = arrival;
      return;
    }
    const double mine = c_[idx(dst, k)], theirs = c_[idx(src, k)];
    const Time done = std::max(arrival, first_arrival_[lo]) + v_.merge_s(merge_, mine, theirs);
    enter(dst, k + 1, mine + theirs, done);
    enter(src, k + 1, mine + theirs, done);
  }

  SparseVectorModel v_;
  KernelCost merge_;
  int pof2_ = 1, levels_ = 0, extra_ = 0;
  std::vector<Time> reached_;  // [x][k]: when core rank x was ready for round k
  std::vector<double> c_;      // [x][k]: how many ranks' vectors it held then
  std::vector<Time> first_arrival_;  // [lower rank of a pair][k]: the first of its two messages
};

}  // namespace

std::unique_ptr<CollectiveSchedule> sparse_allreduce_schedule(const ScheduleContext& ctx, int P,
                                                              const SparseVectorModel& v, const KernelCost& merge) {
  return std::make_unique<SparseAllreduceSchedule>(ctx, P, v, merge);
}

}  // namespace gcsim
