// Bounds at the edge: physical ranges of every scenario and profile quantity,
// derived values, what a run would need (DES memory and events), files that
// are not regular files, and the straggler column never below zero.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "config/input_error.h"
#include "config/profile_loader.h"
#include "config/run_limits.h"
#include "config/scenario_loader.h"
#include "config/sweep_loader.h"
#include "sim/analytic/iteration.h"
#include "sim/des/training_sim.h"
#include "tests/scenario_fixture.h"

namespace fs = std::filesystem;
using gcsim::InputError;

namespace {

using gcsim::test::contains;
using gcsim::test::error_of;
using gcsim::test::replace;
using gcsim::test::temp_dir;
using gcsim::test::write_temp;
const std::string& kValid = gcsim::test::kValidScenario;

using gcsim::test::default_profile_text;

// The message of loading the default profile with `from` replaced by `to`, or "".
std::string profile_error(const std::string& from, const std::string& to) {
  const std::string path = write_temp("p.toml", replace(default_profile_text(), from, to));
  try {
    gcsim::load_profile(path);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

// ---- 4. files that are not regular files --------------------------------------------------

TEST_CASE("a directory given as a scenario - profile or sweep is refused", "[bounds][bad-input]") {
  const fs::path dir = temp_dir() / "a_directory.toml";
  fs::create_directories(dir);
  CHECK_THROWS_WITH(gcsim::load_scenario(dir.string()), Catch::Contains("is a directory, not a file"));
  CHECK_THROWS_WITH(gcsim::load_profile(dir.string()), Catch::Contains("is a directory, not a file"));
  CHECK_THROWS_WITH(gcsim::load_sweep(dir.string()), Catch::Contains("is a directory, not a file"));
  // A scenario naming a directory as its profile: located at the profile key.
  const std::string e = error_of("profile = \"" + dir.string() + "\"\n" + kValid);
  CHECK(contains(e, "s.toml:1:11: profile"));
  CHECK(contains(e, "is a directory, not a file"));
  // A sweep whose base is a directory.
  const std::string sw = write_temp("sw.toml", "base = \"" + dir.string() + "\"\n[axes]\n\"cluster.workers\" = [1]\n");
  try {
    const auto spec = gcsim::load_sweep(sw);
    gcsim::read_scenario_source(spec.base_path);
    FAIL("a directory as a sweep base was accepted");
  } catch (const InputError& err) {
    CHECK(contains(err.what(), "is a directory, not a file"));
  }
  // Other non-regular files (a FIFO) are named too, without blocking on them.
  const fs::path fifo = temp_dir() / "fifo.toml";
  fs::remove(fifo);
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  CHECK_THROWS_WITH(gcsim::load_scenario(fifo.string()), Catch::Contains("is a FIFO, not a regular file"));
  fs::remove(fifo);
}

// ---- 2. physical bounds of scenario quantities ---------------------------------------------

TEST_CASE("bandwidths are bounded to 1e-3 .. 1e6 Gb/s", "[bounds][bad-input]") {
  for (const char* v : {"1e308", "1e-300", "2e6", "0.0009"}) {
    const std::string e = error_of(replace(kValid, "bandwidth_gbps = 10.0", std::string("bandwidth_gbps = ") + v));
    INFO(v << ": " << e);
    CHECK(contains(e, "s.toml:12:18: cluster.inter_node.bandwidth_gbps: must be in [0.001, 1000000] Gb/s"));
  }
  CHECK(error_of(replace(kValid, "bandwidth_gbps = 10.0", "bandwidth_gbps = 1e6")).empty());
  CHECK(error_of(replace(kValid, "bandwidth_gbps = 10.0", "bandwidth_gbps = 1e-3")).empty());
  const std::string e = error_of(kValid, {"cluster.inter_node.bandwidth_gbps=1e308"});
  CHECK(contains(e, "--set cluster.inter_node.bandwidth_gbps=1e308: cluster.inter_node.bandwidth_gbps: must be in"));
}

TEST_CASE("latencies are bounded to 0 .. 1e6 us", "[bounds][bad-input]") {
  const std::string e = error_of(replace(kValid, "latency_us = 5.0", "latency_us = 1e308"));
  CHECK(contains(e, "s.toml:13:14: cluster.inter_node.latency_us: must be in [0, 1000000] us"));
  CHECK(error_of(replace(kValid, "latency_us = 5.0", "latency_us = 1e6")).empty());
}

TEST_CASE("times are bounded: forward_backward_ms and bucket_mb", "[bounds][bad-input]") {
  CHECK(contains(error_of(replace(kValid, "forward_backward_ms = 100.0", "forward_backward_ms = 1e308")),
                 "s.toml:7:23: compute.forward_backward_ms: must be in [1e-06, 100000000] ms"));
  CHECK(contains(error_of(replace(kValid, "forward_backward_ms = 100.0", "forward_backward_ms = 1e-300")),
                 "compute.forward_backward_ms: must be in [1e-06, 100000000] ms"));
  CHECK(contains(error_of(kValid + "[training]\nbucket_mb = 1e-300\n"),
                 "training.bucket_mb: must be in [1e-06, 1000000] MiB"));
}

TEST_CASE("ratios - efficiencies and multipliers are bounded", "[bounds][bad-input]") {
  const std::string roofline = replace(kValid, "forward_backward_ms = 100.0", "gpu = \"H100-SXM\"\nefficiency = 1e-300");
  CHECK(contains(error_of(roofline), "compute.efficiency: must be in [0.0001, 1]"));
  CHECK(contains(error_of(kValid + "[stragglers]\nslow = [{rank = 1, factor = 1e308}]\n"),
                 "stragglers.slow[0].factor: must be in [1, 1000]"));
  const std::string fat = replace(kValid, "workers = 8", "workers = 8\ntopology = \"fat-tree\"\noversubscription = 1e308");
  CHECK(contains(error_of(fat), "cluster.oversubscription: must be in [1, 1000]"));
}

TEST_CASE("counts are bounded", "[bounds][bad-input]") {
  const std::string fat = replace(kValid, "workers = 8", "workers = 8\ntopology = \"fat-tree\"");
  CHECK(contains(error_of(fat, {"cluster.spines=100000000"}),
                 "--set cluster.spines=100000000: cluster.spines: must be <= 1000000 (got 100000000)"));
  CHECK(contains(error_of(fat, {"cluster.nodes_per_leaf=2000000000"}),
                 "cluster.nodes_per_leaf: must be <= 1000000 (got 2000000000)"));
  CHECK(contains(error_of(kValid, {"cluster.nics_per_node=2147483647"}), "cluster.nics_per_node: must be <= 1024 (got 2147483647)"));
  CHECK(contains(error_of(kValid, {"cluster.gpus_per_node=100000"}), "cluster.gpus_per_node: must be <= 1024 (got 100000)"));
  CHECK(contains(error_of(kValid, {"cluster.workers=2000000000"}, "analytic"),
                 "cluster.workers: must be <= 100000000 (got 2000000000)"));
  CHECK(contains(error_of(kValid, {"model.batch_per_worker=1000000000000"}),
                 "model.batch_per_worker: must be <= 100000000"));
  CHECK(contains(error_of(kValid, {"training.iterations=2000000000"}, "analytic"),
                 "training.iterations: must be <= 1000000000"));
  const std::string custom = replace(kValid, "name = \"resnet50\"", "params = 100000000000000");
  CHECK(contains(error_of(custom), "model.params: must be <= 10000000000000"));
}

// ---- 1. what a run needs: DES memory and events ----------------------------------------------

TEST_CASE("a run that would exhaust memory or time is refused and names the key", "[bounds][bad-input]") {
  // A billion DES iterations: per-iteration state alone is tens of GiB.
  const std::string it = error_of(kValid, {"training.iterations=1000000000"});
  INFO(it);
  CHECK(contains(it, "--set training.iterations=1000000000: training.iterations:"));
  CHECK(contains(it, "GiB"));
  CHECK(contains(it, "--backend analytic"));
  CHECK(error_of(kValid, {"training.iterations=1000000000"}, "analytic").empty());
  // Ten million DES workers: about 2 P^2 ring messages per bucket.
  const std::string w = error_of(kValid, {"cluster.workers=10000000"});
  INFO(w);
  CHECK(contains(w, "--set cluster.workers=10000000: cluster.workers:"));
  CHECK(contains(w, "--backend analytic"));
  CHECK(error_of(kValid, {"cluster.workers=10000000"}, "analytic").empty());
  CHECK(error_of(kValid, {"cluster.workers=100000000"}, "analytic").empty());
  // Thousands of DES workers still load.
  CHECK(error_of(kValid, {"cluster.workers=4096"}).empty());
  CHECK(error_of(kValid, {"cluster.workers=16384"}).empty());
  // The key named is the one whose reduction alone brings the run under the limit
  // (on a fat-tree: its rings may share uplinks, so they are not discounted as fast).
  const std::string tree = "cluster.topology=\"fat-tree\"";
  CHECK(contains(error_of(kValid, {"cluster.workers=4096", "training.iterations=1000", tree}),
                 "--set training.iterations=1000: training.iterations: the discrete-event simulator would process"));
  CHECK(contains(error_of(kValid, {"cluster.workers=4096", "collective.chunks=1000", tree}),
                 "--set collective.chunks=1000: collective.chunks:"));
  // On a switch the same rings are computed without events: charged as such, they load.
  CHECK(error_of(kValid, {"cluster.workers=4096", "training.iterations=100"}).empty());
  CHECK(!error_of(kValid, {"cluster.workers=4096", "training.iterations=100", tree}).empty());
  // A fat-tree whose default spine count makes L x S leaf-spine links.
  const std::string fat = replace(kValid, "workers = 8", "workers = 1000000\ntopology = \"fat-tree\"\nnics_per_node = 1024\nnodes_per_leaf = 1000000");
  const std::string f = error_of(replace(fat, "method = \"topk\"", "method = \"none\""), {"collective.algorithm=\"ps\""});
  INFO(f);
  CHECK(contains(f, "cluster.nodes_per_leaf"));
  CHECK(contains(f, "spine"));
  // Given spines: every leaf links to every spine.
  const std::string ps = replace(kValid, "method = \"topk\"", "method = \"none\"");
  const std::vector<std::string> big = {"collective.algorithm=\"ps\"", "cluster.workers=1000000",
                                        "cluster.topology=\"fat-tree\""};
  std::vector<std::string> spines = big;
  spines.push_back("cluster.spines=1000000");
  CHECK(contains(error_of(ps, spines), "--set cluster.spines=1000000: cluster.spines: the discrete-event simulator would need about"));
  // Many NICs per node.
  const std::vector<std::string> nics = {"collective.algorithm=\"ps\"", "cluster.workers=1000000", "cluster.gpus_per_node=8",
                                         "cluster.nics_per_node=1024", "cluster.intra_node.bandwidth_gbps=100"};
  CHECK(contains(error_of(ps, nics), "--set cluster.nics_per_node=1024: cluster.nics_per_node: the discrete-event simulator"));
}

// On one switch (no contention); contention adds rate-change events (up to ~8 per
// message on a 4:1 oversubscribed fat-tree), which docs/limits.md states.
TEST_CASE("the des estimate bounds the events of a contention-free run", "[bounds]") {
  const std::string small = replace(kValid, "workers = 8", "workers = 12\ngpus_per_node = 4") +
                            "[cluster.intra_node]\nbandwidth_gbps = 3600\n";
  for (const char* alg : {"ring", "tree", "halving-doubling", "hierarchical", "ps", "auto"})
    for (const char* method : {"none", "topk"}) {
      const std::string path = write_temp("e.toml", small);
      const gcsim::Scenario s = gcsim::load_scenario(
          path, {std::string("collective.algorithm=\"") + alg + "\"", std::string("compression.method=\"") + method + "\"",
                 "training.iterations=2", "collective.chunks=2"});
      const gcsim::DesEstimate e = gcsim::estimate_des(s);
      gcsim::DesOptions message_level;  // what the estimate's events describe
      message_level.fast_rings = false;
      const gcsim::DesRun r = gcsim::simulate_des(s, message_level);
      INFO(alg << " " << method << ": estimated " << e.events << " events, ran " << r.result.events);
      CHECK(e.events >= static_cast<double>(r.result.events));
      CHECK(e.events <= 4.0 * static_cast<double>(r.result.events) + 1000.0);
      CHECK(e.messages >= static_cast<double>(r.result.messages));
      // the fast path runs fewer events, and the discounted work is never above the estimate
      CHECK(static_cast<double>(gcsim::simulate_des(s).result.events) <= e.events);
      CHECK(e.work_events <= e.events);
    }
}

// ---- 2. derived values ----------------------------------------------------------------------

TEST_CASE("a custom model with params and no FLOPs is a communication-only model", "[bounds]") {
  // forward_flops defaults to 0 (docs/scenario-format.md): the roofline step is
  // exactly 0 s, not "outside the time bounds".
  const std::string roofline = replace(kValid, "forward_backward_ms = 100.0", "gpu = \"H100-SXM\"\nefficiency = 0.15");
  const std::string custom = replace(roofline, "name = \"resnet50\"", "params = 1000000000");
  CHECK(error_of(custom).empty());
  CHECK(error_of(custom, {"model.forward_flops=1e-30"}).find("the roofline step") != std::string::npos);
}

TEST_CASE("a derived compute step outside the time bounds is refused", "[bounds][bad-input]") {
  const std::string roofline = replace(kValid, "forward_backward_ms = 100.0", "gpu = \"H100-SXM\"\nefficiency = 0.0001");
  const std::string e = error_of(roofline, {"model.batch_per_worker=100000000"});
  INFO(e);
  CHECK(contains(e, "compute: the roofline step"));
  CHECK(contains(e, "outside [1e-09, 100000] s"));
}

// ---- 3. profile domains ---------------------------------------------------------------------

TEST_CASE("profile fields are checked: fits - samples - costs - efficiencies", "[bounds][bad-input]") {
  const std::string fit = "alpha_us = 20.0\n";  // the first kernel ([kernels.ef_topk]) line
  CHECK(contains(profile_error(fit, fit + "r2 = 7\n"), "kernels.ef_topk.r2: must be in [0, 1]"));
  CHECK(contains(profile_error(fit, fit + "r2 = -0.5\n"), "kernels.ef_topk.r2: must be in [0, 1]"));
  CHECK(profile_error(fit, fit + "r2 = 0.93\nsamples = 27\n").empty());
  CHECK(contains(profile_error(fit, fit + "samples = -3\n"), "kernels.ef_topk.samples: must be >= 1 (got -3)"));
  CHECK(contains(profile_error(fit, fit + "samples = 2.5\n"), "kernels.ef_topk.samples: expected an integer"));
  CHECK(contains(profile_error("alpha_us = 20.0", "alpha_us = 1e308"), "kernels.ef_topk.alpha_us: must be in [0, 1000000] us"));
  CHECK(contains(profile_error("ns_per_element = 0.00746", "ns_per_element = -1"),
                 "kernels.ef_topk.ns_per_element: must be in [0, 1000000] ns"));
  CHECK(contains(profile_error("launch_us = 8.4", "launch_us = 1e308"), "collective.launch_us: must be in [0, 1000000] us"));
  // What a sanitizer build's calibration measures (microseconds per entry) still loads.
  CHECK(profile_error("ns_per_element = 0.00746", "ns_per_element = 2507.8").empty());
  CHECK(contains(profile_error("inter_node_efficiency = 0.92", "inter_node_efficiency = 1e-300"),
                 "collective.inter_node_efficiency: must be in [0.001, 1]"));
  CHECK(contains(profile_error("peak_tflops = 989.4", "peak_tflops = 1e308"), "peak_tflops: must be in [0.001, 1000000] TFLOP/s"));
  CHECK(contains(profile_error("memory_bandwidth_gbs = 3350", "memory_bandwidth_gbs = -1"),
                 "memory_bandwidth_gbs: must be in [0, 1000000] GB/s"));
  // Located: file:line:col of the value.
  const std::string e = profile_error(fit, fit + "r2 = 7\n");
  CHECK(contains(e, "p.toml:"));
}

// ---- 5. the straggler column ----------------------------------------------------------------

TEST_CASE("straggler_s is exactly 0 without stragglers and never negative", "[bounds][des-training]") {
  for (int P : {3, 5, 6, 7, 10, 12}) {
    for (const char* fb : {"0.1", "0.3", "7.7", "100.0"}) {
      const std::string text = replace(replace(kValid, "workers = 8", "workers = " + std::to_string(P)),
                                       "forward_backward_ms = 100.0", std::string("forward_backward_ms = ") + fb);
      const gcsim::Scenario s = gcsim::load_scenario(write_temp("st.toml", text), {"training.iterations=3"});
      const gcsim::DesRun r = gcsim::simulate_des(s);
      INFO("P = " << P << ", forward_backward_ms = " << fb);
      CHECK(r.result.straggler_s == 0.0);
    }
  }
  const gcsim::Scenario s = gcsim::load_scenario(write_temp("st.toml", kValid), {"stragglers.cv=0.2", "training.iterations=5"});
  CHECK(gcsim::simulate_des(s).result.straggler_s > 0.0);
}

// At the corners of the bounds every output is finite and the breakdown holds
// together: exposed parts never exceed their totals (beyond rounding of the
// iteration time), which is what values like 1e308 used to break.
TEST_CASE("at the corners of the bounds outputs are finite and consistent", "[bounds]") {
  const std::string custom = replace(kValid, "name = \"resnet50\"", "params = 1000");
  for (const char* bw : {"1e-3", "1e6"})
    for (const char* lat : {"0", "1e6"})
      for (const char* fb : {"1e-6", "1e8"})
        for (const char* params : {"1", "2147483647", "10000000000000"})
          for (const char* workers : {"2", "100000000"})
            for (const char* method : {"none", "topk"}) {
              const std::vector<std::string> sets = {std::string("cluster.inter_node.bandwidth_gbps=") + bw,
                                                     std::string("cluster.inter_node.latency_us=") + lat,
                                                     std::string("compute.forward_backward_ms=") + fb,
                                                     std::string("model.params=") + params,
                                                     std::string("cluster.workers=") + workers,
                                                     std::string("compression.method=\"") + method + "\"",
                                                     "compression.index_bytes=8"};
              const bool des = std::string(workers) == "2";
              const gcsim::Scenario s =
                  gcsim::load_scenario(write_temp("c.toml", custom), sets, des ? "des" : "analytic");
              const gcsim::IterationResult r = des ? gcsim::simulate_des(s).result : gcsim::simulate_analytic(s);
              INFO(bw << " Gb/s, " << lat << " us, " << fb << " ms, " << params << " params, P = " << workers << ", "
                      << method);
              for (double v : {r.iteration_time_s, r.compute_s, r.compression_s, r.exposed_compression_s, r.comm_s,
                               r.exposed_comm_s, r.bytes_sent_per_worker, r.bytes_received_per_worker,
                               r.efficiency_weak, r.efficiency_strong, r.speedup, r.straggler_s}) {
                CHECK(std::isfinite(v));
                CHECK(v >= 0.0);
              }
              const double slack = 1e-9 * r.iteration_time_s;
              CHECK(r.exposed_compression_s <= r.compression_s + slack);
              CHECK(r.exposed_comm_s <= r.comm_s + slack);
              CHECK(r.compute_s + r.exposed_compression_s + r.exposed_comm_s <= r.iteration_time_s * (1 + 1e-9));
            }
}

TEST_CASE("int32 indices are refused for any compression unit of 2^31 parameters or more", "[bounds][bad-input]") {
  const std::string big = replace(kValid, "name = \"resnet50\"", "params = 3000000000");
  for (const char* g : {"layer", "bucket", "model"}) {
    const std::string e = error_of(big, {std::string("compression.granularity=\"") + g + "\""});
    INFO(g << ": " << e);
    CHECK(contains(e, "compression.index_bytes: int32 indices cannot address"));
    CHECK(error_of(big, {std::string("compression.granularity=\"") + g + "\"", "compression.index_bytes=8"}).empty());
  }
  CHECK(error_of(replace(kValid, "name = \"resnet50\"", "params = 2147483647")).empty());
}
