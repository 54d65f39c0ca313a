// Simulator throughput (issue 16): one ResNet-50 iteration, 4 gradient
// buckets (bucket_mb = 30), nodes of 8 GPUs on a 3.6 Tb/s NVSwitch, one
// 100 Gb/s NIC per node, in four cases:
//
//   Ring        dense ring allreduce, two-level (nodes on one switch)
//   TopK        Top-K 1 % + error feedback, ring allgather of the pairs, two-level
//   Hierarchical  dense hierarchical allreduce (intra-node reduce-scatter,
//               inter-node rings, intra-node allgather), two-level
//   FatTree     dense ring allreduce on a fat-tree, 2:1 oversubscribed leaf
//               uplinks, 4 spines (ECMP hashing), 2 nodes per leaf
//
// <Case>/P runs the DES as it runs by default (the exclusive-ring fast path
// where its condition holds, sim/collectives/fast_ring.h; message by message
// elsewhere) and reports wall time, events, messages, how many collectives
// ran fast and the peak resident memory (getrusage: it only grows, so run one
// size per process for a clean figure). SideBySide/<case>/P (P <= 2048) runs
// both paths on the same scenario in one process and reports their times,
// the ratio and the largest relative difference of the iteration time,
// exposed communication, bytes and busiest-link loads.
//
//   build/release/benchmarks/des_benchmark --benchmark_filter='Ring/16384'
//   build/release/benchmarks/des_benchmark --benchmark_filter='SideBySide'
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>
#include <vector>

#include "config/scenario_loader.h"
#include "sim/des/training_sim.h"

namespace {

enum Case { kRing, kTopK, kHierarchical, kFatTree };

gcsim::Scenario scenario(Case c, int P) {
  std::vector<std::string> sets = {"training.bucket_mb=30", "cluster.workers=" + std::to_string(P),
                                   "cluster.gpus_per_node=8", "cluster.intra_node={bandwidth_gbps=3600, latency_us=1.0}",
                                   "cluster.inter_node.bandwidth_gbps=100"};
  sets.push_back(c == kTopK ? "compression.method=\"topk\"" : "compression.method=\"none\"");
  if (c == kTopK) sets.insert(sets.end(), {"compression.ratio=0.01", "compression.error_feedback=true"});
  if (c == kHierarchical) sets.push_back("collective.algorithm=\"hierarchical\"");
  if (c == kFatTree)
    sets.insert(sets.end(), {"cluster.topology=\"fat-tree\"", "cluster.oversubscription=2.0", "cluster.spines=4",
                             "cluster.nodes_per_leaf=2"});
  else
    sets.push_back("cluster.topology=\"two-level\"");
  // Loaded as for the analytic backend: the DES's event limit (config/run_limits.h) counts a
  // fat-tree's rings at message cost, as they may collide on ECMP uplinks, and would refuse
  // P = 65536 there; the benchmark measures what the run really takes.
  return gcsim::load_scenario(std::string(GCSIM_SOURCE_DIR) + "/scenarios/h100-cluster.toml", sets, "analytic");
}

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

void Run(benchmark::State& state, Case c) {
  const gcsim::Scenario s = scenario(c, static_cast<int>(state.range(0)));
  gcsim::IterationResult r;
  for (auto _ : state) {
    r = gcsim::simulate_des(s).result;
    benchmark::ClobberMemory();  // (DoNotOptimize on the double itself clobbered it: Debian's libbenchmark, GCC 12)
  }
  state.counters["events"] = static_cast<double>(r.events);
  state.counters["messages"] = static_cast<double>(r.messages);
  state.counters["collectives"] = static_cast<double>(r.collectives);
  state.counters["fast"] = static_cast<double>(r.fast_collectives);
  state.counters["iteration_us"] = 1e6 * r.iteration_time_s;
  state.counters["peak_rss_MB"] = peak_rss_mb();
}

double rel(double a, double b) { return a == b ? 0.0 : std::abs(a - b) / std::max(std::abs(a), std::abs(b)); }

void SideBySide(benchmark::State& state, Case c) {
  const gcsim::Scenario s = scenario(c, static_cast<int>(state.range(0)));
  gcsim::DesOptions fast, slow;
  slow.fast_rings = false;
  double fast_s = 0, slow_s = 0, diff = 0;
  gcsim::IterationResult a;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    a = gcsim::simulate_des(s, fast).result;
    const auto t1 = std::chrono::steady_clock::now();
    const gcsim::IterationResult b = gcsim::simulate_des(s, slow).result;
    const auto t2 = std::chrono::steady_clock::now();
    fast_s = std::chrono::duration<double>(t1 - t0).count();
    slow_s = std::chrono::duration<double>(t2 - t1).count();
    diff = std::max({rel(a.iteration_time_s, b.iteration_time_s), rel(a.exposed_comm_s, b.exposed_comm_s),
                     rel(a.bytes_sent_per_worker, b.bytes_sent_per_worker)});
    for (std::size_t i = 0; i < std::min(a.busiest_links.size(), b.busiest_links.size()); ++i)
      diff = std::max(diff, rel(a.busiest_links[i].bytes, b.busiest_links[i].bytes));
  }
  state.counters["fast_s"] = fast_s;
  state.counters["message_s"] = slow_s;
  state.counters["ratio"] = fast_s > 0 ? slow_s / fast_s : 0.0;
  state.counters["max_rel_diff"] = diff;
  state.counters["fast"] = static_cast<double>(a.fast_collectives);
  state.counters["collectives"] = static_cast<double>(a.collectives);
}

}  // namespace

BENCHMARK_CAPTURE(Run, Ring, kRing)->Arg(4096)->Arg(16384)->Arg(65536)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();
BENCHMARK_CAPTURE(Run, TopK, kTopK)->Arg(4096)->Arg(16384)->Arg(65536)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();
BENCHMARK_CAPTURE(Run, Hierarchical, kHierarchical)->Arg(4096)->Arg(16384)->Arg(65536)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();
BENCHMARK_CAPTURE(Run, FatTree, kFatTree)->Arg(4096)->Arg(16384)->Arg(65536)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();
BENCHMARK_CAPTURE(SideBySide, Ring, kRing)->Arg(64)->Arg(512)->Arg(2048)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();
BENCHMARK_CAPTURE(SideBySide, TopK, kTopK)->Arg(64)->Arg(512)->Arg(2048)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();
BENCHMARK_CAPTURE(SideBySide, Hierarchical, kHierarchical)->Arg(64)->Arg(512)->Arg(2048)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();
BENCHMARK_CAPTURE(SideBySide, FatTree, kFatTree)->Arg(64)->Arg(512)->Arg(2048)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

BENCHMARK_MAIN();
