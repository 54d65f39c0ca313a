// Simulator throughput (issue: "Speed"): one ResNet-50 iteration, 4 gradient
// buckets, dense ring allreduce, two-level topology with 8 GPUs per node, at
// P = 64, 512, 4096 and 16384. Reports events per second, messages, wall time
// and the process's peak resident memory (getrusage; it only grows, so run
// one size per process for a clean figure: --benchmark_filter=.../4096).
//
//   build/release/benchmarks/des_benchmark --benchmark_filter='ResNet50/4096'
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <string>

#include "config/scenario_loader.h"
#include "sim/des/training_sim.h"

namespace {

gcsim::Scenario resnet50(int P) {
  return gcsim::load_scenario(std::string(GCSIM_SOURCE_DIR) + "/scenarios/h100-cluster.toml",
                              {"compression.method=\"none\"", "training.bucket_mb=30", "cluster.workers=" + std::to_string(P),
                               "cluster.gpus_per_node=8", "cluster.topology=\"two-level\"",
                               "cluster.intra_node={bandwidth_gbps=3600, latency_us=1.0}",
                               "cluster.inter_node.bandwidth_gbps=100"});
}

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

void ResNet50(benchmark::State& state) {
  const gcsim::Scenario s = resnet50(static_cast<int>(state.range(0)));
  std::uint64_t events = 0, messages = 0;
  int buckets = 0;
  for (auto _ : state) {
    const gcsim::DesRun r = gcsim::simulate_des(s);
    events += r.result.events;
    messages += r.result.messages;
    buckets = r.result.buckets;
    benchmark::DoNotOptimize(r.result.iteration_time_s);
  }
  state.counters["events_per_s"] = benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
  state.counters["events"] = benchmark::Counter(static_cast<double>(events), benchmark::Counter::kAvgIterations);
  state.counters["messages"] = benchmark::Counter(static_cast<double>(messages), benchmark::Counter::kAvgIterations);
  state.counters["buckets"] = buckets;
  state.counters["peak_rss_MB"] = peak_rss_mb();
}

}  // namespace

BENCHMARK(ResNet50)->Arg(64)->Arg(512)->Arg(4096)->Arg(16384)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

BENCHMARK_MAIN();
