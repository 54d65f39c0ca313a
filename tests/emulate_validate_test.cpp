// Issue 14's pieces: the overlapped exchange (buckets to a communication
// thread as backward fills them), the trainer with and without overlap, the
// emulated-compute worker against the simulator's bytes, buckets and
// timeline, the one bucket rule of simulator and trainer, and gcsim
// validate's parts: the emulated cluster's arguments, the measured run's
// reader, the row and the error summary. (The end-to-end validate run on
// real namespaces is tests/validate_test.sh.)
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>

#include "config/input_error.h"
#include "config/scenario_loader.h"
#include "config/train_loader.h"
#include "kernels/backend.h"
#include "models/zoo.h"
#include "sim/des/training_sim.h"
#include "sim/training/buckets.h"
#include "sim/training/kernel_sharing.h"
#include "tests/train_support.h"
#include "train/emulate/emulated_trainer.h"
#include "train/emulate/synthetic_gradient.h"
#include "train/loop/gradient_exchange.h"
#include "train/loop/overlapped_exchange.h"
#include "validate/emulated_cluster.h"
#include "validate/host_check.h"
#include "validate/measured_run.h"
#include "validate/validation_row.h"

namespace fs = std::filesystem;
using namespace gcsim;
using namespace gcsim::train;
using namespace gcsim::train::test;

namespace {

fs::path fresh_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("gcsim_emulate_test_" + std::to_string(getpid())) / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// Five layers of different sizes, 4-byte entries: with a 0.002 MiB cap (2097 bytes, 524 entries) several buckets.
std::vector<NamedRange> five_layers() {
  const std::size_t sizes[] = {300, 700, 200, 500, 90};
  std::vector<NamedRange> out;
  std::size_t at = 0;
  for (std::size_t i = 0; i < 5; ++i) {
    out.push_back({"l" + std::to_string(i), at, sizes[i], {}});
    at += sizes[i];
  }
  return out;
}

std::vector<float> rank_gradient(int rank, std::size_t n, std::uint64_t step) {
  std::mt19937 gen(static_cast<unsigned>(1000 * rank + step));
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> g(n);
  for (float& x : g) x = d(gen);
  return g;
}

// A scenario file of an emulated worker: a custom model of `layers` layers
// (parameters, forward FLOPs), the shipped default profile.
std::string emulated_scenario(const fs::path& dir, int workers, const std::string& method, bool overlap,
                              int steps = 3) {
  const fs::path f = dir / ("emulated-" + method + (overlap ? "-overlap" : "") + std::to_string(steps) + ".toml");
  std::ofstream o(f);
  o << "name = \"emulated\"\nprofile = \"" << GCSIM_SOURCE_DIR << "/scenarios/profiles/default.toml\"\n"
    << "[model]\nname = \"custom\"\nbatch_per_worker = 8\n"
    << "layers = [{name = \"a\", params = 3000, forward_flops = 1e6}, {name = \"b\", params = 9000, forward_flops = 3e6},"
    << " {name = \"c\", params = 0, forward_flops = 1e6}, {name = \"d\", params = 6000, forward_flops = 2e6}]\n"
    << "[compute]\nforward_backward_ms = 60\nemulate = true\n"
    << (steps > 0 ? "emulate_steps = " + std::to_string(steps) + "\n" : std::string())
    << "[cluster]\nworkers = " << workers << "\n[cluster.inter_node]\nbandwidth_gbps = 1\nlatency_us = 10\n"
    << "[compression]\nmethod = \"" << method << "\"\nratio = 0.05\n"
    << "[training]\nbucket_mb = 0.03\noverlap = " << (overlap ? "true" : "false") << "\n";
  return f.string();
}

struct EmulatedOut {
  std::vector<StepRecord> steps;  // rank 0's
  std::vector<float> gradient;    // rank 0's last average
  bool identical = false;
};

class Keep final : public TrainObserver {
 public:
  void on_step(const StepRecord& r) override { steps.push_back(r); }
  std::vector<StepRecord> steps;
};

EmulatedOut run_emulated(const TrainConfig& cfg) {
  EmulatedOut out;
  std::mutex mu;
  on_ranks(cfg.scenario.cluster.workers, [&](comm::Communicator& comm) {
    EmulatedTrainer t(comm, cfg);
    Keep keep;
    const RunResult r = t.run(&keep);
    RANK_REQUIRE(r.global_steps == static_cast<std::uint64_t>(cfg.scenario.compute.emulate_steps));
    if (comm.rank() != 0) return;
    std::lock_guard lock(mu);
    out.steps = keep.steps;
    out.gradient.assign(t.gradient().begin(), t.gradient().end());
    out.identical = r.replicas_identical;
  });
  return out;
}

}  // namespace

TEST_CASE("overlapped exchange: the same average as the exchange after backward - buckets last first - timings ordered",
          "[train][exchange][overlap]") {
  for (const std::string method : {"none", "topk"}) {
    INFO("method " << method);
    CompressionSpec spec;
    spec.method = method;
    spec.ratio = 0.1;
    const auto layers = five_layers();
    const std::size_t total = 1790;
    std::vector<std::vector<float>> plain(3), overlapped(3);
    std::vector<std::vector<BucketTiming>> timings(3);
    std::mutex mu;
    on_ranks(3, [&](comm::Communicator& comm) {
      const int r = comm.rank();
      GradientExchange a(comm, spec, make_segments(layers, spec, 0.002), total);
      GradientExchange b(comm, spec, make_segments(layers, spec, 0.002), total);
      RANK_REQUIRE(a.buckets() >= 3);
      OverlappedExchange ov(b);
      std::vector<float> ga, gb;
      std::vector<BucketTiming> tb;
      for (std::uint64_t step = 0; step < 3; ++step) {
        ga = rank_gradient(r, total, step);
        gb = ga;
        a.exchange(ga, step);
        const auto t0 = GradientExchange::Clock::now();
        ov.begin(gb, step, t0);
        // Backward, last layer first: post as each layer is final.
        for (std::size_t i = layers.size(); i-- > 0;) ov.ready_from(layers[i].offset);
        const ExchangeStats st = ov.finish(&tb);
        RANK_REQUIRE(st.bytes_sent > 0);
      }
      std::lock_guard lock(mu);
      plain[r] = ga;
      overlapped[r] = gb;
      timings[r] = tb;
    });
    for (int r = 0; r < 3; ++r) {
      CHECK(overlapped[r] == plain[r]);  // bitwise: same kernels, same order
      CHECK(overlapped[r] == overlapped[0]);
    }
    const auto& t = timings[0];
    REQUIRE(t.size() >= 3);
    for (std::size_t i = 0; i < t.size(); ++i) {
      CHECK(t[i].order == i);
      CHECK(t[i].bucket == t.size() - 1 - i);  // the last layers' bucket first
      CHECK(t[i].ready_s <= t[i].start_s);
      CHECK(t[i].start_s <= t[i].end_s);
      if (i > 0) CHECK(t[i - 1].end_s <= t[i].start_s);  // one after another on the thread
    }
  }
}

TEST_CASE("overlapped exchange: a non-finite gradient fails the step at finish - the thread stays usable",
          "[train][exchange][overlap]") {
  CompressionSpec spec;
  spec.method = "topk";
  spec.ratio = 0.1;
  spec.error_feedback = false;  // a rejected step leaves no residual behind (with EF the run ends anyway: exit 2)
  const auto layers = five_layers();
  on_ranks(2, [&](comm::Communicator& comm) {
    GradientExchange ex(comm, spec, make_segments(layers, spec, 0.002), 1790);
    OverlappedExchange ov(ex);
    std::vector<float> g = rank_gradient(comm.rank(), 1790, 0);
    g[1700] = std::nanf("");  // in the last bucket, the first exchanged: rejected before anything is sent
    ov.begin(g, 0, GradientExchange::Clock::now());
    bool threw = false;
    try {
      ov.finish();
    } catch (const kernels::NonFiniteError&) {
      threw = true;
    }
    RANK_REQUIRE(threw);
    // Both ranks refused before sending: the next step runs normally on the same thread.
    std::vector<float> ok = rank_gradient(comm.rank(), 1790, 1);
    ov.begin(ok, 1, GradientExchange::Clock::now());
    std::vector<BucketTiming> t;
    const ExchangeStats st = ov.finish(&t);
    RANK_REQUIRE(st.bytes_sent > 0);
    RANK_REQUIRE(t.size() == ex.buckets());
  });
}

TEST_CASE("the trainer overlapped and not ends with bitwise the same parameters", "[train][run][overlap]") {
  const auto data = synthetic_data(160, 40);
  auto cfg = small_config(2, std::string("topk"), 0.05, true);
  cfg.settings.epochs = 1;
  cfg.scenario.compression.granularity = Granularity::Bucket;
  cfg.scenario.training.bucket_mb = 0.2;  // SimpleCNN's 0.8 MB in several buckets
  cfg.scenario.training.overlap = true;
  const auto on = train_inprocess(data, cfg, {});
  cfg.scenario.training.overlap = false;
  const auto off = train_inprocess(data, cfg, {});
  REQUIRE(on.result.replicas_identical);
  CHECK(on.params == off.params);
  CHECK(on.residual == off.residual);
}

TEST_CASE("trainer and simulator bucket alike - one rule", "[train][exchange][buckets]") {
  for (const auto& name : {"resnet18", "resnet50", "vgg16", "simplecnn"}) {
    const ModelSpec m = *find_model(name);
    for (const double mb : {1.0, 5.0, 25.0}) {
      INFO(name << " at " << mb << " MiB");
      std::vector<NamedRange> layers;
      std::size_t at = 0;
      std::vector<std::size_t> index;  // model layer of each range
      for (std::size_t i = 0; i < m.layers.size(); ++i) {
        const auto n = static_cast<std::size_t>(m.layers[i].params);
        if (n == 0) continue;
        layers.push_back({m.layers[i].name, at, n, {}});
        index.push_back(i);
        at += n;
      }
      CompressionSpec spec;  // dense: one segment per bucket
      const auto segs = make_segments(layers, spec, mb);
      const auto sim = make_buckets(m, mb * 1024 * 1024, Granularity::Bucket);
      REQUIRE(segs.size() == sim.size());
      for (std::size_t s = 0; s < segs.size(); ++s) {
        // Trainer bucket s (forward order) is simulator bucket B-1-s (backward order).
        const Bucket& b = sim[sim.size() - 1 - s];
        CHECK(static_cast<std::int64_t>(segs[s].size) == b.params);
        CHECK(layers[0].offset + segs[s].offset == [&] {
          std::size_t off = 0;
          for (std::size_t j = 0; j < index.size() && index[j] < b.layers.back(); ++j) off += layers[j].size;
          return off;
        }());
      }
    }
  }
}

TEST_CASE("emulated compute: real bytes and buckets of the simulated model - replicas agree - overlap changes nothing but time",
          "[train][emulate]") {
  const fs::path dir = fresh_dir("emulated");
  for (const std::string method : {"none", "topk"}) {
    INFO("method " << method);
    const TrainConfig on_cfg = load_train_config(emulated_scenario(dir, 3, method, true));
    const TrainConfig off_cfg = load_train_config(emulated_scenario(dir, 3, method, false));
    const EmulatedOut on = run_emulated(on_cfg), off = run_emulated(off_cfg);
    REQUIRE(on.identical);
    REQUIRE(off.identical);
    CHECK(on.gradient == off.gradient);
    Scenario sim = on_cfg.scenario;
    sim.training.iterations = 2;
    const DesRun des = simulate_des(sim);
    REQUIRE(on.steps.size() == 3);
    for (const StepRecord& r : on.steps) {
      CHECK(static_cast<double>(r.bytes_sent) == Approx(des.result.bytes_sent_per_worker));
      REQUIRE(r.buckets.size() == des.buckets.size());
      CHECK(r.buckets.size() >= 2);
      // The sleeps end no earlier than the simulator's times: a bucket is
      // never ready before the DES says, and backward not before its end.
      for (std::size_t b = 0; b < r.buckets.size(); ++b) {
        CHECK(r.buckets[b].order == b);
        CHECK(r.buckets[b].ready_s >= des.buckets[b].ready_s - 1e-9);
        CHECK(r.buckets[b].end_s >= r.buckets[b].start_s);
      }
      CHECK(r.compute_s >= des.result.forward_s + des.result.backward_s - 1e-9);
    }
    // Without overlap every bucket waits for the whole backward pass.
    for (const StepRecord& r : off.steps)
      for (const BucketTiming& b : r.buckets) CHECK(b.ready_s >= off_cfg.scenario.compute.forward_backward_s.value() - 1e-9);
  }
}

TEST_CASE("emulated compute: the scenario keys - train accepts any model with it - refuses without",
          "[train][emulate][config]") {
  const fs::path dir = fresh_dir("keys");
  const std::string f = emulated_scenario(dir, 2, "topk", true);
  CHECK(load_train_config(f).scenario.compute.emulate_steps == 3);
  CHECK(load_train_config(f).scenario.model.total_params() == 18000);
  const std::string g = emulated_scenario(dir, 2, "topk", true, 0);  // no emulate_steps: the default
  CHECK(load_train_config(g).scenario.compute.emulate_steps == 12);
  CHECK_THROWS_WITH(load_train_config(g, {"compute.emulate=false"}), Catch::Contains("simulate only"));
  CHECK_THROWS_WITH(load_scenario(f, {"compute.emulate=false"}),
                    Catch::Contains("emulate_steps") && Catch::Contains("only with emulate = true"));
  CHECK_THROWS_WITH(load_train_config(f, {"compute.emulate_steps=0"}), Catch::Contains("emulate_steps"));
  CHECK_THROWS_WITH(load_train_config(f, {"compute.hosts=1"}), Catch::Contains("only with cores_per_host"));
  CHECK_THROWS_WITH(load_train_config(f, {"compute.cores_per_host=2", "compute.hosts=3"}), Catch::Contains("hosts"));
  CHECK_THROWS_AS(load_train_config(f, {"cluster.workers=100000", "model.name=\"gpt2-small\""}), InputError);
  // The simulator prices the same scenario either way.
  const Scenario with = load_scenario(g), without = load_scenario(g, {"compute.emulate=false"});
  CHECK(simulate_des(with).result.iteration_time_s == simulate_des(without).result.iteration_time_s);
}

TEST_CASE("synthetic gradients: seeded per rank and layer - heavy-tailed - rotated per step", "[train][emulate]") {
  std::vector<float> a(20000), b(20000), c(20000);
  synthetic_layer_gradient(a, 1, 0, 3);
  synthetic_layer_gradient(b, 1, 0, 3);
  synthetic_layer_gradient(c, 1, 1, 3);
  CHECK(a == b);
  CHECK(a != c);
  // Student-t(3): kurtosis far above a normal's 3.
  double m2 = 0, m4 = 0;
  for (float x : a) {
    m2 += static_cast<double>(x) * x;
    m4 += std::pow(static_cast<double>(x), 4);
  }
  m2 /= static_cast<double>(a.size());
  m4 /= static_cast<double>(a.size());
  CHECK(m4 / (m2 * m2) > 6.0);
  std::vector<float> s0(a.size()), s1(a.size());
  step_gradient(a, s0, 0);
  step_gradient(a, s1, 1);
  CHECK(s0 == a);
  CHECK(s1 != a);
  std::vector<float> sa = a, sb = s1;
  std::sort(sa.begin(), sa.end());
  std::sort(sb.begin(), sb.end());
  CHECK(sa == sb);  // the same values, moved
}

TEST_CASE("the DES timeline of buckets: ready - started - ended in order and within the iteration", "[des][validate]") {
  const fs::path dir = fresh_dir("timeline");
  for (const bool overlap : {true, false}) {
    Scenario s = load_scenario(emulated_scenario(dir, 4, "topk", overlap), {"training.iterations=2"});
    const DesRun r = simulate_des(s);
    REQUIRE(r.buckets.size() == static_cast<std::size_t>(r.result.buckets));
    for (std::size_t b = 0; b < r.buckets.size(); ++b) {
      const BucketSpan& x = r.buckets[b];
      CHECK(x.ready_s <= x.compressed_s);
      CHECK(x.compressed_s <= x.collective_start_s);
      CHECK(x.collective_start_s <= x.end_s);
      CHECK(x.end_s <= r.iteration_s.back() + 1e-12);
      if (b > 0) CHECK(r.buckets[b - 1].end_s <= x.end_s);
      if (!overlap) CHECK(x.ready_s == Approx(r.result.forward_s + r.result.backward_s));
    }
    if (overlap) CHECK(r.buckets[0].ready_s < r.buckets.back().ready_s);
  }
}

TEST_CASE("the emulated cluster of a scenario: switch - two-level - fat-tree - and what cannot be emulated",
          "[validate]") {
  const fs::path dir = fresh_dir("cluster");
  const std::string f = emulated_scenario(dir, 4, "topk", true);
  const auto args = [](const Scenario& s) {
    std::string j;
    for (const auto& a : netem_arguments(s, "n")) j += a + " ";
    return j;
  };
  CHECK(args(load_scenario(f)) == "--workers 4 --rate-mbit 1000 --name n --no-measure ");
  CHECK(args(load_scenario(f, {"cluster.workers=8", "cluster.gpus_per_node=4", "cluster.topology=\"two-level\"",
                               "cluster.intra_node.bandwidth_gbps=10", "cluster.intra_node.latency_us=1",
                               "cluster.inter_node.bandwidth_gbps=0.05"})) ==
        "--workers 8 --rate-mbit 50 --name n --no-measure --gpus-per-node 4 ");
  CHECK(args(load_scenario(f, {"cluster.topology=\"fat-tree\"", "cluster.nodes_per_leaf=2",
                               "cluster.oversubscription=4", "cluster.placement=\"spread\""})) ==
        "--workers 4 --rate-mbit 1000 --name n --no-measure --topology fat-tree --nodes-per-leaf 2 "
        "--oversubscription 4 --placement spread ");
  CHECK_THROWS_WITH(netem_arguments(load_scenario(f, {"cluster.topology=\"fat-tree\"", "cluster.nodes_per_leaf=4"}), "n"),
                    Catch::Contains("one spine"));
  CHECK_THROWS_WITH(netem_arguments(load_scenario(f, {"cluster.topology=\"ring\""}), "n"), Catch::Contains("ring"));
  CHECK_THROWS_WITH(netem_arguments(load_scenario(f, {"cluster.workers=128"}), "n"), Catch::Contains("2 to 64"));
}

TEST_CASE("a measured run is read back: medians over steps - means over ranks - buckets by order - bad logs named",
          "[validate]") {
  const fs::path dir = fresh_dir("measured");
  const char* header =
      "epoch,step,global_step,samples,loss,correct,data_s,compute_s,wait_s,compress_s,communicate_s,"
      "decompress_s,optimizer_s,step_s,bytes_sent,entries_sent\n";
  for (int r = 0; r < 2; ++r) {
    std::ofstream o(dir / ("steps-rank" + std::to_string(r) + ".csv"));
    o << header;
    // step s: step_s = 1 + s + r, wait 0.5 -> (step - wait) = 0.5 + s + r
    for (int s = 0; s < 4; ++s)
      o << "1," << s + 1 << "," << s + 1 << ",8,0,0,0,0.3,0.5,0.01,0.2,0.02,0.001," << 1 + s + r << ",1000,10\n";
  }
  {
    std::ofstream o(dir / "buckets-rank0.csv");
    o << "global_step,order,bucket,ready_s,start_s,end_s,compress_s,communicate_s,decompress_s,bytes_sent\n";
    for (int s = 1; s <= 4; ++s) {
      o << s << ",0,1,0.1,0.11," << 0.2 + s << ",0,0,0,500\n";
      o << s << ",1,0,0.3,0.31," << 0.5 + s << ",0,0,0,500\n";
    }
  }
  const MeasuredRun m = read_measured_run(dir.string(), 2, 1);
  CHECK(m.steps == 3);
  // steps 2..4: per-step means over ranks 1.0+s (s = 1, 2, 3): 2.0, 3.0, 4.0; median 3.0
  CHECK(m.step_s == Approx(3.0));
  CHECK(m.step_p90_s == Approx(3.8));
  CHECK(m.communicate_s == Approx(0.2));
  CHECK(m.bytes_per_step == Approx(1000));
  REQUIRE(m.buckets.size() == 2);
  CHECK(m.buckets[0].end_s == Approx(3.2));  // steps 2..4: 2.2, 3.2, 4.2
  CHECK(m.buckets[1].end_s == Approx(3.5));
  CHECK_THROWS_WITH(read_measured_run(dir.string(), 3, 1), Catch::Contains("steps-rank2.csv"));
  std::ofstream(dir / "steps-rank1.csv") << header << "1,1,1,8,0,0,0,0.3,0.5,x,0.2,0.02,0.001,1,1000,10\n";
  CHECK_THROWS_WITH(read_measured_run(dir.string(), 2, 1), Catch::Contains("steps-rank1.csv:2") && Catch::Contains("compress_s"));
}

// A one-rank run directory whose steps all take step_s (wait 0) and whose one
// bucket ends at end_s.
static void write_run(const fs::path& dir, double step_s, double end_s) {
  fs::create_directories(dir);
  std::ofstream o(dir / "steps-rank0.csv");
  o << "epoch,step,global_step,samples,loss,correct,data_s,compute_s,wait_s,compress_s,communicate_s,"
       "decompress_s,optimizer_s,step_s,bytes_sent,entries_sent\n";
  for (int s = 1; s <= 3; ++s) o << "1," << s << "," << s << ",8,0,0,0,0.3,0,0.01," << step_s / 2 << ",0.02,0.001," << step_s << ",1000,10\n";
  std::ofstream b(dir / "buckets-rank0.csv");
  b << "global_step,order,bucket,ready_s,start_s,end_s,compress_s,communicate_s,decompress_s,bytes_sent\n";
  for (int s = 1; s <= 3; ++s) b << s << ",0,0,0.1,0.11," << end_s << ",0,0,0,500\n";
}

TEST_CASE("repeated measurements: every repeat kept read back - medians over the runs - their spread in the row",
          "[validate]") {
  const fs::path dir = fresh_dir("repeats");
  const std::string run = (dir / "point-3").string();
  CHECK(repeat_dir(run, 0) == run);
  CHECK(repeat_dir(run, 2) == run + ".rep-3");
  write_run(run, 1.0, 0.9);
  write_run(repeat_dir(run, 1), 1.4, 1.2);
  write_run(repeat_dir(run, 2), 1.1, 1.0);
  write_run(dir / "point-3.rep-5", 9.0, 9.0);  // after a gap: not one of point 3's repeats
  const MeasuredRun m = read_measured_repeats(run, 1, 0);
  REQUIRE(m.repeat_step_s.size() == 3);
  CHECK(m.repeat_step_s[1] == Approx(1.4));
  CHECK(m.step_s == Approx(1.1));          // the median of 1.0, 1.4, 1.1
  CHECK(m.communicate_s == Approx(0.55));  // of 0.5, 0.7, 0.55
  CHECK(m.steps == 9);
  REQUIRE(m.buckets.size() == 1);
  CHECK(m.buckets[0].end_s == Approx(1.0));
  CHECK(read_measured_repeats(repeat_dir(run, 1), 1, 0).repeat_step_s.size() == 1);  // point-3.rep-2 alone
  DesRun p;
  p.result.iteration_time_s = 1.21;
  p.buckets = {{0.1, 0.1, 0.1, 1.0}};
  const Columns c = validation_columns(p, m, "runs/point-3");
  const auto get = [&](const std::string& k) {
    for (const auto& [n, v] : c)
      if (n == k) return v;
    return std::string("?");
  };
  CHECK(std::stod(get("step_error")) == Approx(0.1));
  CHECK(get("measured_repeats") == "3");
  CHECK(std::stod(get("measured_step_spread")) == Approx(0.4 / 1.1));
  const Columns one = validation_columns(p, read_measured_run(run, 1, 0), "runs/point-3");
  for (const auto& [n, v] : one) {
    if (n == "measured_repeats") CHECK(v == "1");
    if (n == "measured_step_spread") CHECK(std::stod(v) == 0.0);
  }
  CHECK_THROWS_AS(median_of_repeats({}), std::invalid_argument);
}

TEST_CASE("validation rows: relative errors - and the summary median - p90 and max", "[validate]") {
  DesRun p;
  p.result.iteration_time_s = 1.1;
  p.result.comm_s = 0.5;
  p.result.bytes_sent_per_worker = 1000;
  p.buckets = {{0.1, 0.1, 0.1, 0.6}};
  MeasuredRun m;
  m.steps = 4;
  m.step_s = 1.0;
  m.communicate_s = 0.4;
  m.bytes_per_step = 1000;
  m.buckets = {{0.1, 0.1, 0.5}};
  const Columns c = validation_columns(p, m, "runs/point-0");
  REQUIRE(c.size() == validation_blank().size());
  const auto get = [&](const std::string& k) {
    for (const auto& [n, v] : c)
      if (n == k) return v;
    return std::string("?");
  };
  CHECK(std::stod(get("step_error")) == Approx(0.1));
  CHECK(std::stod(get("comm_error")) == Approx(0.25));
  CHECK(std::stod(get("bytes_error")) == Approx(0.0));
  CHECK(std::stod(get("bucket_end_error_max")) == Approx(0.1));
  CHECK(get("run_dir") == "runs/point-0");

  std::vector<std::vector<std::string>> rows = {{"point", "step_error"}};
  const double errs[] = {0.01, -0.03, 0.02, -0.15, 0.04, 0.06, -0.08, 0.09, 0.005, 0.25};
  for (int i = 0; i < 10; ++i) rows.push_back({std::to_string(i), std::to_string(errs[i])});
  const ErrorSummary s = summarize_errors(rows);
  CHECK(s.points == 10);
  CHECK(s.max == Approx(0.25));
  CHECK(s.worst == 9);
  CHECK(s.median == Approx(0.05));          // sorted |e|: ... 0.04, 0.06 ...
  CHECK(s.p90 == Approx(0.15 + 0.1 * 0.1));  // between 0.15 and 0.25
  CHECK(s.within_5 == 5);
  CHECK(s.within_10 == 8);
  CHECK(s.within_20 == 9);
  CHECK_THROWS(summarize_errors({{"point", "other"}, {"0", "1"}}));
}

TEST_CASE("kernel sharing: workers of a host stretch the kernels by workers per core - nothing without cores",
          "[validate][analytic]") {
  const fs::path dir = fresh_dir("sharing");
  const std::string f = emulated_scenario(dir, 8, "topk", true);
  const Scenario plain = load_scenario(f);
  CHECK(kernel_sharing_factor(plain) == 1.0);
  const Scenario one_host = load_scenario(f, {"compute.cores_per_host=2", "compute.hosts=1"});
  CHECK(kernel_sharing_factor(one_host) == 4.0);  // 8 workers on 2 cores
  CHECK(kernel_sharing_factor(load_scenario(f, {"compute.cores_per_host=2", "compute.hosts=4"})) == 1.0);
  CHECK(kernel_sharing_factor(load_scenario(f, {"compute.cores_per_host=2", "compute.hosts=3"})) == 1.5);  // 3 per host
  // One node per worker by default: 1 worker per host, never stretched.
  CHECK(kernel_sharing_factor(load_scenario(f, {"compute.cores_per_host=1"})) == 1.0);
  const DesRun a = simulate_des(plain), b = simulate_des(one_host);
  CHECK(b.result.compression_s == Approx(4.0 * a.result.compression_s));
  CHECK(b.result.comm_s == Approx(a.result.comm_s));
}

TEST_CASE("validate warns when a profile's kernels were measured on another CPU", "[validate]") {
  gcsim::Profile p;
  p.source_path = "reports/validation/profile-shaped100-p4.toml";
  p.device = "collectives: 4 processes, Gloo TCP; kernels: AMD EPYC (backend cpu, 1 thread(s))";
  const auto w = gcsim::kernel_cpu_mismatch(p, "Intel(R) Xeon(R) Processor");
  REQUIRE(w);
  CHECK_THAT(*w, Catch::Contains("profile-shaped100-p4.toml") && Catch::Contains("measured on AMD EPYC,") &&
                     Catch::Contains("this host is Intel(R) Xeon(R) Processor"));
  CHECK_FALSE(gcsim::kernel_cpu_mismatch(p, "AMD EPYC"));
  p.device = "Intel(R) Xeon(R) Processor (backend cpu, 1 thread(s))";  // a kernel profile of this CPU
  CHECK_FALSE(gcsim::kernel_cpu_mismatch(p, "Intel(R) Xeon(R) Processor"));
  p.device = "H100-class GPU node, published figures";  // nothing measured on a CPU
  CHECK_FALSE(gcsim::kernel_cpu_mismatch(p, "Intel(R) Xeon(R) Processor"));
  CHECK_FALSE(gcsim::this_cpu().empty());
}
