// The sparse exchanges of sim/collectives/ (gtopk.h, sparse_allreduce.h):
// closed forms against formulas written out here from the papers, and the
// DES schedules against the closed forms on a network without contention.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <memory>
#include <vector>

#include "sim/collectives/fabric.h"
#include "sim/collectives/gtopk.h"
#include "sim/collectives/ring_allgather.h"
#include "sim/collectives/sparse_allreduce.h"
#include "schedule_fixture.h"

using namespace gcsim;
using namespace gcsim::test;

namespace {

Approx exact(double v) { return Approx(v).epsilon(1e-12); }

Outcome run_schedule(int P, const Factory& make) { return run_collective(switch_topology(P), make); }

const std::vector<int> kRanks = {2, 3, 4, 5, 6, 7, 8, 12, 13, 16, 31, 64, 100, 256};

}  // namespace

TEST_CASE("gtopk on P = 2^L: 2 L (alpha + m/B) + L merges - 2 (P-1) m / P bytes per rank", "[collectives]") {
  for (int L : {1, 2, 3, 6, 10}) {
    const int P = 1 << L;
    for (double m : {8.0, 8e3, 8e6})
      for (double merge : {0.0, 1e-4}) {
        const Fabric f = switch_fabric(P);
        const CollectiveCost c = gtopk_allreduce(f, m, merge);
        INFO("P = " << P << " m = " << m << " merge = " << merge);
        CHECK(c.time_s == exact(2.0 * L * (kAlphaSw + kLatency + m / kBw) + L * merge));
        CHECK(c.bytes_sent == exact(2.0 * (P - 1.0) * m / P));
      }
  }
  CHECK(gtopk_allreduce(switch_fabric(1), 8e3, 1.0).time_s == 0.0);
}

TEST_CASE("gtopk for P not a power of two: the deepest subtree sets the reduce - the root's sends the broadcast", "[collectives]") {
  // P = 3: reduce 2 -> 0 is idle in round 0 (3 does not exist), 1 -> 0 in round 0, 2 -> 0 in round 1:
  // the root merges twice, one message time each; it then sends to 2, then to 1.
  const double m = 8e3, merge = 5e-5, T = kAlphaSw + kLatency + m / kBw;
  CHECK(gtopk_allreduce(switch_fabric(3), m, merge).time_s == exact(2 * (T + merge) + 2 * T));
  // P = 5: rank 4 joins in round 2 only, so the reduce is still 3 rounds; the root sends to 4, 2, 1
  // (3 gets the result from 2 after 2 got it: 2T + T = the same depth as 1 at 3T).
  CHECK(gtopk_allreduce(switch_fabric(5), m, merge).time_s == exact(3 * (T + merge) + 3 * T));
  CHECK(gtopk_allreduce(switch_fabric(5), m, merge).bytes_sent == exact(2.0 * 4 * m / 5));
}

TEST_CASE("gtopk grows as log P where the ring allgather grows as P", "[collectives]") {
  const double m = 8e4;
  for (int P : {16, 64, 256, 1024}) {
    const Fabric f = switch_fabric(P);
    CHECK(gtopk_allreduce(f, m, 0.0).time_s < ring_allgather(f, m).time_s);
    CHECK(gtopk_allreduce(f, m, 0.0).bytes_sent < 2.0 * m);
  }
  // At P = 2 both send one message each way, but gtopk's broadcast is a second message time.
  CHECK(gtopk_allreduce(switch_fabric(2), m, 0.0).time_s == exact(2 * ring_allgather(switch_fabric(2), m).time_s));
}

TEST_CASE("gtopk schedule equals its closed form without contention - also for P not a power of two", "[des]") {
  for (int P : kRanks)
    for (double m : {8.0, 8e4, 8e7})
      for (double merge : {0.0, 3e-5}) {
        const Outcome o = run_schedule(P, [&](const ScheduleContext& c) { return gtopk_schedule(c, P, m, merge); });
        const CollectiveCost cf = gtopk_allreduce(switch_fabric(P), m, merge);
        INFO("P = " << P << " m = " << m << " merge = " << merge);
        CHECK(rel(o.time, cf.time_s) < 1e-9);
        CHECK(rel(o.sent_per_rank, cf.bytes_sent) < 1e-9);
        CHECK(o.messages == static_cast<std::uint64_t>(2 * (P - 1)));
      }
}

TEST_CASE("fill-in model: support(c) = N (1 - (1 - k/N)^c) and the switch to dense where sparse costs more", "[collectives]") {
  SparseVectorModel v;
  v.entries = 1e6;
  v.selected = 1e4;  // rho = 1 %
  v.pair_bytes = 8.0;
  CHECK(v.support(1) == exact(1e4));
  CHECK(v.support(2) == exact(1e6 * (1 - 0.99 * 0.99)));
  CHECK(v.support(64) == exact(1e6 * (1 - std::pow(0.99, 64))));
  // 8 support(c) >= 4 N  <=>  (0.99)^c <= 1/2  <=>  c >= 68.97: dense from c = 69 on.
  CHECK_FALSE(v.dense(68));
  CHECK(v.dense(69));
  CHECK(v.bytes(2) == exact(8 * v.support(2)));
  CHECK(v.bytes(128) == exact(4e6));
  // k = N: dense from the start.
  v.selected = 1e6;
  CHECK(v.dense(1));
}

TEST_CASE("sparse allreduce on P = 2^L: round s sends the sum of 2^s vectors - dense after the switch", "[collectives]") {
  SparseVectorModel v;
  v.entries = 1e6;
  v.selected = 1e4;
  const KernelCost merge{2e-6, 1e-9, 5e-9};
  for (int L : {1, 3, 7, 9}) {
    const int P = 1 << L;
    const Fabric f = switch_fabric(P);
    double want = 0.0, sent = 0.0;
    int sparse_rounds = L;
    for (int s = 0; s < L; ++s) {
      const double c = std::pow(2.0, s);
      if (v.dense(c) && sparse_rounds == L) sparse_rounds = s;
      const bool dense_out = v.dense(c) || v.dense(2 * c);
      const double k_in = v.dense(c) ? 0.0 : 2 * v.support(c);
      want += kAlphaSw + kLatency + v.bytes(c) / kBw + merge.eval(dense_out ? v.entries : 0.0, k_in);
      sent += v.bytes(c);
    }
    const SparseAllreduceCost c = sparse_allreduce(f, v, merge);
    INFO("P = " << P);
    CHECK(c.cost.time_s == exact(want));
    CHECK(c.cost.bytes_sent == exact(sent));
    CHECK(c.rounds == L);
    CHECK(c.sparse_rounds == sparse_rounds);
  }
  // rho = 1 %, 8-byte pairs: the 2^s-vector sum is dense from 2^s >= 69, i.e. round 7 (c = 128).
  CHECK(sparse_allreduce(switch_fabric(512), v, merge).sparse_rounds == 7);
  CHECK(sparse_allreduce(switch_fabric(64), v, merge).sparse_rounds == 6);  // never switches
}

TEST_CASE("sparse allreduce for P not a power of two: hand-off - P' core - return", "[collectives]") {
  SparseVectorModel v;
  v.entries = 1e5;
  v.selected = 100;
  const KernelCost merge{1e-6, 0.0, 1e-9};
  const double a = kAlphaSw + kLatency;
  // P = 3: rank 2 hands 1 vector to 0 (0 then holds c = 2); 0 and 1 exchange (0 sends c = 2, 1 sends c = 1);
  // 0 returns the c = 3 sum to 2.
  const double t0 = a + v.bytes(1) / kBw + merge.eval(0, 2 * v.support(1));
  const double start = t0;  // 1 waits for 0 (rendezvous)
  // The round ends for both when the longer message (0's, c = 2) has arrived.
  const double t0_end = start + a + v.bytes(2) / kBw + merge.eval(0, v.support(2) + v.support(1));
  const double t1_end = t0_end;
  const double t2_end = t0_end + a + v.bytes(3) / kBw;
  const SparseAllreduceCost c = sparse_allreduce(switch_fabric(3), v, merge);
  CHECK(c.cost.time_s == exact(std::max({t0_end, t1_end, t2_end})));
  CHECK(c.cost.bytes_sent == exact((v.bytes(1) + v.bytes(2) + v.bytes(1) + v.bytes(3)) / 3));
}

TEST_CASE("sparse allreduce schedule equals its closed form without contention - also for P not a power of two", "[des]") {
  const KernelCost merge{2e-6, 1e-10, 4e-9};
  for (double rho : {1e-5, 1e-3, 0.02, 0.05, 0.3, 1.0})
  for (double N : {1e6, 2.56e7}) {
    const double k = rho * N;
    SparseVectorModel v;
    v.entries = N;
    v.selected = k;
    for (int P : kRanks) {
      const Outcome o = run_schedule(P, [&](const ScheduleContext& c) { return sparse_allreduce_schedule(c, P, v, merge); });
      const SparseAllreduceCost cf = sparse_allreduce(switch_fabric(P), v, merge);
      INFO("P = " << P << " k = " << k << " N = " << N);
      CHECK(rel(o.time, cf.cost.time_s) < 1e-9);
      CHECK(rel(o.sent_per_rank, cf.cost.bytes_sent) < 1e-9);
    }
  }
}
