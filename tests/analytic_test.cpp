// Tests for the analytic iteration model (sim/analytic/) and what it is built
// from (sim/training/: buckets, compute times, compression costs). Expected
// values are computed here by hand from the formulas in the header comments;
// scenarios are plain structs (no TOML).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "models/zoo.h"
#include "sim/analytic/efficiency.h"
#include "sim/analytic/iteration.h"
#include "sim/analytic/seed_formulas.h"
#include "sim/profile.h"
#include "sim/result.h"
#include "sim/scenario.h"
#include "sim/training/buckets.h"
#include "compress/method.h"
#include "sim/training/compression_cost.h"
#include "sim/training/compute_time.h"

using gcsim::Algorithm;
using gcsim::Exchange;
using gcsim::Granularity;
using gcsim::IterationResult;
using gcsim::KernelCost;
using gcsim::Layer;

using gcsim::ModelSpec;
using gcsim::Profile;
using gcsim::Scenario;

namespace {

Approx exact(double v) { return Approx(v).epsilon(1e-12); }

Profile zero_profile() {
  Profile p;
  p.name = "test";
  for (const auto& o : gcsim::op::required()) p.kernels[o] = KernelCost{};
  p.collective_alpha_s = 0.0;
  p.collective_launch_s = 0.0;
  p.intra_node_efficiency = 1.0;
  p.inter_node_efficiency = 1.0;
  return p;
}

ModelSpec custom_model(const std::vector<std::pair<std::int64_t, double>>& params_flops) {
  ModelSpec m;
  m.name = "custom";
  m.sample_unit = "sample";
  for (std::size_t i = 0; i < params_flops.size(); ++i)
    m.layers.push_back(Layer{"l" + std::to_string(i), "linear", params_flops[i].first, params_flops[i].second});
  return m;
}

// P workers, one GPU per host, one NIC of 8 Gbit/s = 1e9 bytes/s and no latency:
// every flat collective runs on one link class with B = 1e9, alpha = profile alpha.
Scenario make_scenario(ModelSpec model, double step_s, int workers) {
  Scenario s;
  s.name = "test";
  s.model = std::move(model);
  s.batch_per_worker = 1;
  s.compute.forward_backward_s = step_s;
  s.cluster.workers = workers;
  s.cluster.gpus_per_node = 1;
  s.cluster.intra_node = {8.0, 0.0};
  s.cluster.inter_node = {8.0, 0.0};
  s.cluster.nics_per_node = 1;
  s.algorithm = Algorithm::Ring;
  s.compression = gcsim::CompressionSpec{};
  s.training.bucket_mb = 25.0;
  s.training.overlap = true;
  s.profile = zero_profile();
  return s;
}

// Two layers with equal FLOPs and a 3 s step: forward [0,1], backward of l1
// [1,2] (its gradient is ready at 2), backward of l0 [2,3].
ModelSpec two_layers(std::int64_t p0, std::int64_t p1) { return custom_model({{p0, 1.0}, {p1, 1.0}}); }

void check_breakdown(const IterationResult& r) {
  CHECK(r.iteration_time_s == exact(r.compute_s + r.exposed_compression_s + r.exposed_comm_s));
  CHECK(r.exposed_comm_s >= 0.0);
  CHECK(r.exposed_compression_s >= -1e-12 * r.iteration_time_s);
  CHECK(r.exposed_comm_s <= r.comm_s * (1.0 + 1e-12));
  CHECK(r.exposed_compression_s <= r.compression_s + 1e-12 * r.iteration_time_s);
  CHECK(r.compute_s == exact(r.forward_s + r.backward_s + r.optimizer_s));
  CHECK(r.iteration_time_s >= r.compute_s);
  CHECK(r.iteration_time_s <= (r.compute_s + r.comm_s + r.compression_s) * (1.0 + 1e-12));
  // Efficiency definitions (sim/result.h).
  CHECK(r.iteration_time_p1_s == exact(r.compute_s));
  CHECK(r.efficiency_weak == exact(r.iteration_time_p1_s / r.iteration_time_s));
  CHECK(r.speedup == exact(r.workers * r.efficiency_weak));
  const double per = r.compute_s / r.workers;
  CHECK(r.efficiency_strong == exact(per / (per + r.comm_s + r.compression_s)));
}

// resnet50 buckets at 25 MiB (6'553'600 fp32 parameters), computed independently
// (a Python walk over the zoo's layer list in reverse). The first, by hand:
// fc 2'049'000 + layer4.2.{bn3 4'096, conv3 1'048'576, bn2 1'024, conv2 2'359'296,
// bn1 1'024, conv1 1'048'576} + layer4.1.bn3 4'096 = 6'515'688; adding
// layer4.1.conv3 (1'048'576) would make 7'564'264 > 6'553'600.
struct ExpectedBucket {
  std::size_t layers;
  std::int64_t params;
  const char* first;
  const char* last;
};
const ExpectedBucket kResnet50Buckets[] = {
    {8, 6'515'688, "fc", "layer4.1.bn3"},
    {6, 4'462'592, "layer4.1.conv3", "layer4.0.downsample.1"},
    {10, 6'300'160, "layer4.0.downsample.0", "layer3.5.bn2"},
    {32, 6'112'256, "layer3.5.conv2", "layer3.0.bn2"},
    {51, 2'166'336, "layer3.0.conv2", "conv1"},
};

}  // namespace

// ------------------------------------------------------------- buckets ----

TEST_CASE("buckets: reverse order - cap respected - zero-parameter layers skipped", "[analytic]") {
  // params: l0 100, l1 0, l2 300, l3 200, l4 500, l5 50; cap 600 parameters (2400 bytes).
  const ModelSpec m = custom_model({{100, 1}, {0, 1}, {300, 1}, {200, 1}, {500, 1}, {50, 1}});
  const auto b = gcsim::make_buckets(m, 2400.0, Granularity::Bucket);
  // Reverse: l5 50, l4 500 -> 550; +l3 would be 750 > 600: close.
  //          l3 200, l2 300 -> 500; l1 skipped; +l0 -> 600 (not above the cap).
  REQUIRE(b.size() == 2);
  CHECK(b[0].layers == std::vector<std::size_t>{5, 4});
  CHECK(b[0].params == 550);
  CHECK(b[1].layers == std::vector<std::size_t>{3, 2, 0});
  CHECK(b[1].params == 600);

  // A smaller cap: 300 parameters.
  const auto c = gcsim::make_buckets(m, 1200.0, Granularity::Bucket);
  // l5 50 | l4 500 (alone, over the cap) | l3 200 | l2 300 | l0 100
  //  l5 + l4 = 550 > 300 closes {5}; {4} alone; {3} (+l2 = 500 > 300); {2} (+l0 = 400 > 300); {0}.
  REQUIRE(c.size() == 5);
  CHECK(c[0].layers == std::vector<std::size_t>{5});
  CHECK(c[1].layers == std::vector<std::size_t>{4});
  CHECK(c[2].layers == std::vector<std::size_t>{3});
  CHECK(c[3].layers == std::vector<std::size_t>{2});
  CHECK(c[4].layers == std::vector<std::size_t>{0});
  for (const auto& bk : c) {
    CHECK_FALSE(bk.layers.empty());
    if (4.0 * static_cast<double>(bk.params) > 1200.0) CHECK(bk.layers.size() == 1);
  }
}

TEST_CASE("buckets: a layer larger than the cap gets a bucket of its own", "[analytic]") {
  const ModelSpec m = custom_model({{1000, 1}, {10, 1}, {20, 1}});
  const auto b = gcsim::make_buckets(m, 400.0, Granularity::Bucket);  // cap 100 parameters
  REQUIRE(b.size() == 2);
  CHECK(b[0].layers == std::vector<std::size_t>{2, 1});
  CHECK(b[0].params == 30);
  CHECK(b[1].layers == std::vector<std::size_t>{0});
  CHECK(b[1].params == 1000);
}

TEST_CASE("buckets: granularity model is one bucket and layer granularity buckets by the cap", "[analytic]") {
  const ModelSpec m = custom_model({{100, 1}, {0, 1}, {300, 1}, {200, 1}, {500, 1}, {50, 1}});
  const auto one = gcsim::make_buckets(m, 400.0, Granularity::Model);
  REQUIRE(one.size() == 1);
  CHECK(one[0].layers == std::vector<std::size_t>{5, 4, 3, 2, 0});
  CHECK(one[0].params == 1150);
  const auto by_bucket = gcsim::make_buckets(m, 2400.0, Granularity::Bucket);
  const auto by_layer = gcsim::make_buckets(m, 2400.0, Granularity::Layer);
  REQUIRE(by_layer.size() == by_bucket.size());
  for (std::size_t i = 0; i < by_layer.size(); ++i) CHECK(by_layer[i].layers == by_bucket[i].layers);

  const auto rn = gcsim::make_buckets(gcsim::make_resnet50(), 25.0 * 1024 * 1024, Granularity::Model);
  REQUIRE(rn.size() == 1);
  CHECK(rn[0].params == 25'557'032);
}

TEST_CASE("buckets: resnet50 at 25 MiB", "[analytic]") {
  const ModelSpec m = gcsim::make_resnet50();
  const double cap = 25.0 * 1024 * 1024;
  const auto b = gcsim::make_buckets(m, cap, Granularity::Bucket);
  REQUIRE(b.size() == 5);
  std::int64_t total = 0;
  for (std::size_t i = 0; i < b.size(); ++i) {
    INFO("bucket " << i);
    CHECK(b[i].layers.size() == kResnet50Buckets[i].layers);
    CHECK(b[i].params == kResnet50Buckets[i].params);
    CHECK(m.layers[b[i].layers.front()].name == kResnet50Buckets[i].first);
    CHECK(m.layers[b[i].layers.back()].name == kResnet50Buckets[i].last);
    total += b[i].params;
  }
  CHECK(total == 25'557'032);

  // Properties: layers strictly decreasing across all buckets (reverse forward
  // order, each once), params consistent, cap respected, and greedy: a bucket
  // closes only because the next layer would overflow it.
  std::vector<std::size_t> seen;
  for (const auto& bk : b) {
    std::int64_t sum = 0;
    for (std::size_t li : bk.layers) {
      CHECK(m.layers[li].params > 0);
      sum += m.layers[li].params;
      seen.push_back(li);
    }
    CHECK(sum == bk.params);
    if (4.0 * static_cast<double>(bk.params) > cap) CHECK(bk.layers.size() == 1);
  }
  for (std::size_t i = 1; i < seen.size(); ++i) CHECK(seen[i] < seen[i - 1]);
  std::size_t with_params = 0;
  for (const auto& l : m.layers) with_params += l.params > 0 ? 1 : 0;
  CHECK(seen.size() == with_params);
  for (std::size_t i = 0; i + 1 < b.size(); ++i) {
    const std::int64_t next = m.layers[b[i + 1].layers.front()].params;
    CHECK(4.0 * static_cast<double>(b[i].params + next) > cap);
  }
}

// ------------------------------------------------------- compute times ----

TEST_CASE("compute_times: forward = step/3 - backward = 2/3 step split by FLOPs", "[analytic]") {
  Scenario s = make_scenario(custom_model({{10, 1.0}, {20, 3.0}, {0, 0.0}, {30, 4.0}}), 0.24, 1);
  s.profile.kernels[gcsim::op::optimizer] = KernelCost{1e-3, 2e-6, 5.0};  // per_selected unused (k = 0)
  const auto t = gcsim::compute_times(s);
  CHECK(t.forward_s == exact(0.08));
  CHECK(t.backward_s == exact(0.16));
  REQUIRE(t.backward_layer_s.size() == 4);
  CHECK(t.backward_layer_s[0] == exact(0.16 * 1.0 / 8.0));
  CHECK(t.backward_layer_s[1] == exact(0.16 * 3.0 / 8.0));
  CHECK(t.backward_layer_s[2] == 0.0);
  CHECK(t.backward_layer_s[3] == exact(0.16 * 4.0 / 8.0));
  CHECK(t.optimizer_s == exact(1e-3 + 2e-6 * 60.0));
  CHECK(t.step_s() == exact(0.24 + 1e-3 + 1.2e-4));
}

TEST_CASE("compute_times: backward split by parameters when no layer has FLOPs", "[analytic]") {
  const Scenario s = make_scenario(custom_model({{10, 0.0}, {30, 0.0}, {60, 0.0}}), 0.3, 1);
  const auto t = gcsim::compute_times(s);
  CHECK(t.backward_s == exact(0.2));
  CHECK(t.backward_layer_s[0] == exact(0.2 * 0.1));
  CHECK(t.backward_layer_s[1] == exact(0.2 * 0.3));
  CHECK(t.backward_layer_s[2] == exact(0.2 * 0.6));
  CHECK(t.optimizer_s == 0.0);
}

TEST_CASE("compute_times: roofline step = 3 F batch / (peak x efficiency)", "[analytic]") {
  Scenario s = make_scenario(custom_model({{100, 2e9}, {200, 6e9}}), 0.0, 1);
  s.compute.forward_backward_s.reset();
  s.compute.gpu = "h100";
  s.compute.efficiency = 0.4;
  s.profile.gpus["h100"] = gcsim::GpuEntry{"h100", 989e12, 3.35e12, 0.4};
  s.batch_per_worker = 32;
  const auto t = gcsim::compute_times(s);
  const double step = 3.0 * 8e9 * 32.0 / (989e12 * 0.4);
  CHECK(t.forward_s == exact(step / 3.0));
  CHECK(t.backward_s == exact(2.0 * step / 3.0));
  CHECK(t.backward_layer_s[0] == exact(2.0 * step / 3.0 * 0.25));
  CHECK(t.backward_layer_s[1] == exact(2.0 * step / 3.0 * 0.75));
  CHECK(t.step_s() == exact(step));
}

// ------------------------------------------------------------ timeline ----

TEST_CASE("analytic with no overlap and no compression: compute + sum of per-bucket ring times", "[analytic]") {
  Scenario s = make_scenario(gcsim::make_resnet50(), 0.3, 8);
  s.cluster.gpus_per_node = 8;  // one node of 8: the intra link
  s.cluster.intra_node = {2400.0, 1.0};
  s.cluster.inter_node = {100.0, 5.0};
  s.profile.collective_alpha_s = 5e-6;
  s.profile.collective_launch_s = 20e-6;
  s.profile.kernels[gcsim::op::optimizer] = KernelCost{1e-4, 1e-9, 0.0};
  s.training.overlap = false;
  const IterationResult r = gcsim::simulate_analytic(s);

  const double compute = 0.3 + 1e-4 + 1e-9 * 25'557'032.0;
  const double a = 5e-6 + 1e-6, B = 2400e9 / 8.0, P = 8.0;
  double comm = 0.0, bytes = 0.0;
  for (const auto& eb : kResnet50Buckets) {
    const double n = 4.0 * static_cast<double>(eb.params);
    comm += 2.0 * (P - 1.0) * a + 2.0 * (P - 1.0) / P * n / B + 20e-6;
    bytes += 2.0 * (P - 1.0) / P * n;
  }
  CHECK(r.buckets == 5);
  CHECK(r.algorithm == "ring");
  CHECK(r.compute_s == exact(compute));
  CHECK(r.comm_s == exact(comm));
  CHECK(r.compression_s == 0.0);
  CHECK(r.exposed_comm_s == exact(comm));
  CHECK(r.exposed_compression_s == Approx(0.0).margin(1e-15));
  CHECK(r.iteration_time_s == exact(compute + comm));
  CHECK(r.bytes_sent_per_worker == exact(bytes));
  CHECK(r.bytes_received_per_worker == exact(bytes));
  CHECK(r.selected == 25'557'032);
  CHECK(r.params == 25'557'032);
  check_breakdown(r);

  // Four hosts of one GPU on a 100 Gbit/s NIC with 5 us latency.
  Scenario h = make_scenario(gcsim::make_resnet50(), 0.3, 4);
  h.cluster.inter_node = {100.0, 5.0};
  h.profile.collective_alpha_s = 5e-6;
  h.profile.collective_launch_s = 20e-6;
  h.training.overlap = false;
  const IterationResult rh = gcsim::simulate_analytic(h);
  double comm_h = 0.0;
  for (const auto& eb : kResnet50Buckets)
    comm_h += 2.0 * 3.0 * 10e-6 + 2.0 * 3.0 / 4.0 * 4.0 * static_cast<double>(eb.params) / 12.5e9 + 20e-6;
  CHECK(rh.iteration_time_s == exact(0.3 + comm_h));
}

TEST_CASE("analytic: the timeline is not max of T_compute and T_comm", "[analytic]") {
  // Ring at P = 2, alpha = 0, B = 1e9: a bucket of p parameters takes 4p / 1e9 s, + 10 ms launch.
  SECTION("the first bucket hides behind the rest of backward, the second cannot") {
    Scenario s = make_scenario(two_layers(125'000'000, 200'000'000), 3.0, 2);
    s.profile.collective_launch_s = 0.01;
    const IterationResult r = gcsim::simulate_analytic(s);
    // l1's bucket: ready at 2.0, 0.8 + 0.01 -> ends 2.81 (hidden by l0's backward, to 3.0).
    // l0's bucket: ready at 3.0, 0.5 + 0.01 -> ends 3.51.
    REQUIRE(r.buckets == 2);
    CHECK(r.compute_s == exact(3.0));
    CHECK(r.comm_s == exact(1.32));
    CHECK(r.iteration_time_s == exact(3.51));
    CHECK(r.exposed_comm_s == exact(0.51));
    CHECK(r.exposed_compression_s == Approx(0.0).margin(1e-12));
    CHECK(r.iteration_time_s != Approx(std::max(r.compute_s, r.comm_s)));
    CHECK(r.iteration_time_s != Approx(r.compute_s + r.comm_s));
    check_breakdown(r);
    // Efficiency by hand.
    CHECK(r.efficiency_weak == exact(3.0 / 3.51));
    CHECK(r.speedup == exact(2.0 * 3.0 / 3.51));
    CHECK(r.efficiency_strong == exact(1.5 / (1.5 + 1.32)));

    s.training.overlap = false;  // both at 3.0, back to back
    const IterationResult serial = gcsim::simulate_analytic(s);
    CHECK(serial.iteration_time_s == exact(4.32));
    CHECK(serial.exposed_comm_s == exact(1.32));
    CHECK(r.iteration_time_s < serial.iteration_time_s);
  }
  SECTION("a first bucket longer than the rest of backward is partly exposed and delays the second") {
    Scenario s = make_scenario(two_layers(125'000'000, 375'000'000), 3.0, 2);
    s.profile.collective_launch_s = 0.01;
    const IterationResult r = gcsim::simulate_analytic(s);
    // l1's bucket: 2.0 -> 3.51 (0.51 past the end of backward); l0's: 3.51 -> 4.02.
    CHECK(r.comm_s == exact(2.02));
    CHECK(r.iteration_time_s == exact(4.02));
    CHECK(r.exposed_comm_s == exact(1.02));
    check_breakdown(r);
  }
  SECTION("one bucket (granularity model): overlap changes nothing") {
    Scenario s = make_scenario(two_layers(125'000'000, 200'000'000), 3.0, 2);
    s.profile.collective_launch_s = 0.01;
    s.compression.granularity = Granularity::Model;
    const IterationResult on = gcsim::simulate_analytic(s);
    s.training.overlap = false;
    const IterationResult off = gcsim::simulate_analytic(s);
    CHECK(on.buckets == 1);
    CHECK(on.iteration_time_s == exact(3.0 + 1.3 + 0.01));
    CHECK(off.iteration_time_s == exact(on.iteration_time_s));
    CHECK(off.exposed_comm_s == exact(on.exposed_comm_s));
  }
}

TEST_CASE("analytic: compression on the timeline - by hand", "[analytic]") {
  // P = 2, Top-K with error feedback, rho = 0.5, int32 indices (8 bytes/entry),
  // allgather at B = 1e9: (P-1) * 8k / 1e9 s. ef_topk costs 0.2 s per call,
  // scatter-add 1 ns per received entry (P k of them), pack free.
  Scenario s = make_scenario(two_layers(75'000'000, 225'000'000), 3.0, 2);
  s.compression.method = std::string("topk");
  s.compression.ratio = 0.5;
  s.compression.index_bytes = 4;
  s.compression.error_feedback = true;
  s.profile.kernels[gcsim::op::ef_topk] = KernelCost{0.2, 0.0, 0.0};
  s.profile.kernels[gcsim::op::scatter_add] = KernelCost{0.0, 0.0, 1e-9};
  const IterationResult r = gcsim::simulate_analytic(s);
  // l1: k = 112.5e6, payload 0.9e9 bytes: ready 2.0, compress -> 2.2, allgather -> 3.1,
  //     scatter-add of 225e6 entries (0.225 s) -> 3.325.
  // l0: k = 37.5e6, payload 0.3e9 bytes: ready 3.0, compress -> 3.2, allgather waits
  //     for the stream: 3.325 -> 3.625, scatter-add 75e6 entries -> 3.7.
  CHECK(r.algorithm == "ring-allgather");
  CHECK(r.selected == 150'000'000);
  CHECK(r.comm_s == exact(1.2));
  CHECK(r.compression_s == exact(0.2 + 0.2 + 0.225 + 0.075));
  CHECK(r.iteration_time_s == exact(3.7));
  CHECK(r.exposed_comm_s == exact(0.1 + 0.3));
  CHECK(r.exposed_compression_s == exact(0.3));
  CHECK(r.bytes_sent_per_worker == exact(1.2e9));
  check_breakdown(r);
}

TEST_CASE("analytic: breakdown and overlap properties over many scenarios", "[analytic]") {
  Profile prof = zero_profile();
  prof.collective_alpha_s = 8e-6;
  prof.collective_launch_s = 15e-6;
  prof.intra_node_efficiency = 0.8;
  prof.inter_node_efficiency = 0.9;
  prof.kernels[gcsim::op::topk] = KernelCost{30e-6, 1e-11, 2e-10};
  prof.kernels[gcsim::op::ef_topk] = KernelCost{40e-6, 2e-11, 2e-10};
  prof.kernels[gcsim::op::randomk] = KernelCost{10e-6, 1e-12, 1e-10};
  prof.kernels[gcsim::op::threshold] = KernelCost{20e-6, 5e-12, 1e-10};
  prof.kernels[gcsim::op::pack] = KernelCost{5e-6, 0.0, 1e-10};
  prof.kernels[gcsim::op::scatter_add] = KernelCost{5e-6, 1e-12, 3e-10};
  prof.kernels[gcsim::op::optimizer] = KernelCost{50e-6, 1e-11, 0.0};

  struct Comp {
    std::string method;
    Exchange exchange;
    double ratio;
  };
  const Comp comps[] = {{std::string("none"), Exchange::Allgather, 1.0},
                        {std::string("topk"), Exchange::Allgather, 0.01},
                        {std::string("topk"), Exchange::Dense, 0.01},
                        {std::string("threshold"), Exchange::Allgather, 0.001}};
  int checked = 0;
  for (const char* model : {"simplecnn", "resnet50", "gpt2-small"}) {
    const ModelSpec m = *gcsim::find_model(model);
    for (int P : {1, 2, 16, 64}) {
      for (int G : {1, 8}) {
        for (const Comp& c : comps) {
          for (Granularity g : {Granularity::Layer, Granularity::Bucket, Granularity::Model}) {
            for (Algorithm alg : {Algorithm::Ring, Algorithm::Auto}) {
              Scenario s = make_scenario(m, 0.05, P);
              s.cluster.gpus_per_node = G;
              s.cluster.intra_node = {2400.0, 1.0};
              s.cluster.inter_node = {100.0, 4.0};
              s.cluster.nics_per_node = 2;
              s.profile = prof;
              s.algorithm = alg;
              s.compression.method = c.method;
              s.compression.exchange = c.exchange;
              s.compression.ratio = c.ratio;
              s.compression.granularity = g;
              s.training.overlap = true;
              const IterationResult on = gcsim::simulate_analytic(s);
              s.training.overlap = false;
              const IterationResult off = gcsim::simulate_analytic(s);
              INFO(model << " P=" << P << " G=" << G << " method=" << c.method
                         << " exchange=" << gcsim::to_string(c.exchange) << " granularity="
                         << gcsim::to_string(g) << " algorithm=" << gcsim::to_string(alg));
              check_breakdown(on);
              check_breakdown(off);
              CHECK(on.iteration_time_s <= off.iteration_time_s * (1.0 + 1e-12));
              // Overlap moves work in time; it does not change how much there is.
              CHECK(on.comm_s == exact(off.comm_s));
              CHECK(on.compression_s == exact(off.compression_s));
              CHECK(on.bytes_sent_per_worker == exact(off.bytes_sent_per_worker));
              if (P == 1) {
                CHECK(on.iteration_time_s == exact(on.compute_s));
                CHECK(on.comm_s == 0.0);
              }
              if (g == Granularity::Model) CHECK(on.iteration_time_s == exact(off.iteration_time_s));
              ++checked;
            }
          }
        }
      }
    }
  }
  CHECK(checked == 3 * 4 * 2 * 4 * 3 * 2);
}

TEST_CASE("analytic: overlap is strictly faster when backward can hide a bucket", "[analytic]") {
  // resnet50, 8 hosts: the first buckets (fc, layer4) are ready long before backward ends.
  Scenario s = make_scenario(gcsim::make_resnet50(), 0.3, 8);
  s.cluster.inter_node = {100.0, 5.0};
  const IterationResult on = gcsim::simulate_analytic(s);
  s.training.overlap = false;
  const IterationResult off = gcsim::simulate_analytic(s);
  CHECK(on.iteration_time_s < off.iteration_time_s);
  CHECK(on.exposed_comm_s < off.exposed_comm_s);
  CHECK(off.exposed_comm_s == exact(off.comm_s));
  CHECK(on.comm_s == exact(off.comm_s));
}

TEST_CASE("analytic: one worker does not communicate", "[analytic]") {
  Scenario s = make_scenario(gcsim::make_resnet50(), 0.25, 1);
  s.profile.collective_launch_s = 1e-3;
  s.profile.kernels[gcsim::op::ef_topk] = KernelCost{1e-3, 1e-9, 1e-9};
  s.profile.kernels[gcsim::op::optimizer] = KernelCost{2e-3, 0.0, 0.0};
  for (const std::string& method : {std::string("none"), std::string("topk")}) {
    s.compression.method = method;
    s.compression.ratio = method == std::string("none") ? 1.0 : 0.01;
    const IterationResult r = gcsim::simulate_analytic(s);
    CHECK(r.workers == 1);
    CHECK(r.comm_s == 0.0);
    CHECK(r.compression_s == 0.0);
    CHECK(r.exposed_comm_s == 0.0);
    CHECK(r.bytes_sent_per_worker == 0.0);
    CHECK(r.algorithm == "none");
    CHECK(r.iteration_time_s == exact(0.25 + 2e-3));
    CHECK(r.iteration_time_p1_s == exact(r.iteration_time_s));
    CHECK(r.efficiency_weak == 1.0);
    CHECK(r.efficiency_strong == 1.0);
    CHECK(r.speedup == 1.0);
  }
}

// ----------------------------------------------------------- efficiency ----

TEST_CASE("efficiency: weak = T1/TP - strong = (Tc/P)/(Tc/P + Tcomm) - speedup = P E_weak", "[analytic]") {
  CHECK(gcsim::weak_efficiency(2.0, 4.0) == exact(0.5));
  CHECK(gcsim::weak_efficiency(3.0, 3.0) == exact(1.0));
  CHECK(gcsim::strong_efficiency(8.0, 1.0, 4) == exact(2.0 / 3.0));
  CHECK(gcsim::strong_efficiency(1.0, 0.0, 1) == exact(1.0));
  CHECK(gcsim::strong_efficiency(0.05, 0.736, 2) == exact(0.025 / 0.761));

  IterationResult r;
  r.workers = 16;
  r.compute_s = 0.2;
  r.comm_s = 0.03;
  r.compression_s = 0.01;
  r.iteration_time_s = 0.25;
  r.iteration_time_p1_s = 0.2;
  gcsim::fill_efficiency(r);
  CHECK(r.efficiency_weak == exact(0.8));
  CHECK(r.speedup == exact(12.8));
  CHECK(r.efficiency_strong == exact(0.0125 / (0.0125 + 0.04)));
}

// ---------------------------------------------------------- compression ----

TEST_CASE("compression: k = ceil(rho n) per bucket - per layer at granularity layer", "[analytic]") {
  // One bucket of 1001 + 999 + 50 = 2050 parameters.
  const ModelSpec m = custom_model({{1001, 1.0}, {999, 1.0}, {50, 1.0}});
  Scenario s = make_scenario(m, 0.1, 2);
  s.compression.method = std::string("topk");
  s.compression.ratio = 0.01;
  s.compression.granularity = Granularity::Bucket;
  const IterationResult rb = gcsim::simulate_analytic(s);
  CHECK(rb.buckets == 1);
  CHECK(rb.selected == 21);  // ceil(20.5)
  s.compression.granularity = Granularity::Layer;
  const IterationResult rl = gcsim::simulate_analytic(s);
  CHECK(rl.selected == 11 + 10 + 1);  // ceil(10.01) + ceil(9.99) + ceil(0.5)
  CHECK(rl.bytes_sent_per_worker == exact(22.0 * 8.0));
  CHECK(rb.bytes_sent_per_worker == exact(21.0 * 8.0));

  // resnet50 at rho = 0.01: ceil(n/100) in integers, per bucket and per layer.
  const ModelSpec rn = gcsim::make_resnet50();
  std::int64_t k_bucket = 0, k_layer = 0;
  for (const auto& eb : kResnet50Buckets) k_bucket += (eb.params + 99) / 100;
  for (const auto& l : rn.layers)
    if (l.params > 0) k_layer += (l.params + 99) / 100;
  Scenario r = make_scenario(rn, 0.1, 4);
  r.compression.method = std::string("topk");
  r.compression.ratio = 0.01;
  r.compression.granularity = Granularity::Bucket;
  const IterationResult a = gcsim::simulate_analytic(r);
  r.compression.granularity = Granularity::Layer;
  const IterationResult b = gcsim::simulate_analytic(r);
  r.compression.granularity = Granularity::Model;
  const IterationResult c = gcsim::simulate_analytic(r);
  CHECK(a.selected == k_bucket);
  CHECK(b.selected == k_layer);
  CHECK(c.selected == (25'557'032 + 99) / 100);
  CHECK(b.selected >= a.selected);
  CHECK(a.selected >= c.selected);
  // Wire bytes: k (4 + idx) per rank, (P-1) times over in the ring allgather.
  CHECK(a.bytes_sent_per_worker == exact(3.0 * 8.0 * static_cast<double>(k_bucket)));
  r.compression.granularity = Granularity::Bucket;
  r.compression.index_bytes = 8;
  CHECK(gcsim::simulate_analytic(r).bytes_sent_per_worker == exact(3.0 * 12.0 * static_cast<double>(k_bucket)));
}

TEST_CASE("topk_count = ceil(rho n) - at least 1 - at most n", "[analytic]") {
  CHECK(gcsim::compress::topk_count(0.01, 1000) == 10);
  CHECK(gcsim::compress::topk_count(0.01, 1001) == 11);
  CHECK(gcsim::compress::topk_count(0.1, 30) == 3);  // 0.1 * 30 = 3.0000000000000004 in floating point
  CHECK(gcsim::compress::topk_count(0.001, 10) == 1);
  CHECK(gcsim::compress::topk_count(1e-9, 5) == 1);
  CHECK(gcsim::compress::topk_count(1.0, 7) == 7);
  CHECK(gcsim::compress::topk_count(0.3, 10) == 3);
  for (std::int64_t n : {1, 99, 100, 101, 12345, 2'359'296, 25'557'032, 123'456'789})
    CHECK(gcsim::compress::topk_count(0.01, n) == (n + 99) / 100);
}

// Regression: an over-wide guard against floating-point noise once rounded
// a genuine fractional part away for rho * n above ~1e7.
TEST_CASE("topk_count = ceil(rho n) for large n", "[analytic]") {
  CHECK(gcsim::compress::topk_count(0.01, 2'000'000'001) == 20'000'001);
  CHECK(gcsim::compress::topk_count(0.1, 3'000'000'001) == 300'000'001);
}

TEST_CASE("compression: kernel costs add up to alpha + beta n + gamma k per call", "[analytic]") {
  // Layers l0 3e6, l1 5e6, l2 0, l3 1e6 parameters; 25 MiB = 6'553'600 parameters:
  // buckets {l3, l1} = 6e6 and {l0} = 3e6. rho = 0.01: k = 60'000 and 30'000.
  const ModelSpec m = custom_model({{3'000'000, 3.0}, {5'000'000, 5.0}, {0, 0.0}, {1'000'000, 1.0}});
  Scenario s = make_scenario(m, 0.1, 4);
  s.profile.collective_alpha_s = 3e-6;
  s.profile.collective_launch_s = 7e-6;
  const KernelCost ef{1e-4, 2e-10, 3e-9};
  const KernelCost topk{5e-5, 1e-10, 1e-9};
  const KernelCost randk{1e-5, 1e-11, 1e-10};
  const KernelCost thr{2e-5, 3e-11, 4e-10};
  const KernelCost pack{7e-6, 1.0 /* n is 0 for pack */, 2e-10};
  const KernelCost scat{9e-6, 5e-11, 6e-10};
  s.profile.kernels[gcsim::op::ef_topk] = ef;
  s.profile.kernels[gcsim::op::topk] = topk;
  s.profile.kernels[gcsim::op::randomk] = randk;
  s.profile.kernels[gcsim::op::threshold] = thr;
  s.profile.kernels[gcsim::op::pack] = pack;
  s.profile.kernels[gcsim::op::scatter_add] = scat;
  s.compression.ratio = 0.01;
  const double P = 4.0;
  const double n[2] = {6e6, 3e6};
  const double k[2] = {6e4, 3e4};

  auto lin = [](const KernelCost& c, double nn, double kk) {
    return c.alpha_s + c.per_element_s * nn + c.per_selected_s * kk;
  };
  struct Case {
    std::string method;
    bool ef;
    const KernelCost* sel;
  };
  const Case cases[] = {{std::string("topk"), true, &ef},
                        {std::string("topk"), false, &topk},
                        {std::string("randomk"), false, &randk},
                        {std::string("threshold"), false, &thr}};

  s.compression.method = std::string("none");
  const IterationResult none = gcsim::simulate_analytic(s);
  CHECK(none.buckets == 2);
  CHECK(none.compression_s == 0.0);

  for (const Case& c : cases) {
    INFO("method=" << c.method << " ef=" << c.ef);
    s.compression.method = c.method;
    s.compression.error_feedback = c.ef;

    s.compression.exchange = Exchange::Allgather;
    const IterationResult ag = gcsim::simulate_analytic(s);
    double comp = 0.0, comm = 0.0, bytes = 0.0;
    for (int b = 0; b < 2; ++b) {
      comp += (c.sel->alpha_s + c.sel->per_element_s * n[b] + c.sel->per_selected_s * k[b]) +
              (pack.alpha_s + pack.per_selected_s * k[b]) +                      // pack of k entries
              (scat.alpha_s + scat.per_element_s * n[b] + scat.per_selected_s * P * k[b]);  // P k received
      comm += (P - 1.0) * (3e-6 + 8.0 * k[b] / 1e9) + 7e-6;
      bytes += (P - 1.0) * 8.0 * k[b];
    }
    CHECK(ag.selected == 90'000);
    CHECK(ag.compression_s == exact(comp));
    CHECK(ag.comm_s == exact(comm));
    CHECK(ag.bytes_sent_per_worker == exact(bytes));
    CHECK(ag.algorithm == "ring-allgather");
    check_breakdown(ag);

    // Dense exchange: local scatter to a dense buffer, then the dense allreduce:
    // the same collective, the same bytes as no compression at all.
    s.compression.exchange = Exchange::Dense;
    const IterationResult de = gcsim::simulate_analytic(s);
    double comp_d = 0.0;
    for (int b = 0; b < 2; ++b) comp_d += lin(*c.sel, n[b], k[b]) + lin(scat, n[b], k[b]);
    CHECK(de.compression_s == exact(comp_d));
    CHECK(de.selected == 90'000);
    CHECK(de.bytes_sent_per_worker == exact(none.bytes_sent_per_worker));
    CHECK(de.bytes_received_per_worker == exact(none.bytes_received_per_worker));
    CHECK(de.comm_s == exact(none.comm_s));
    CHECK(de.algorithm == "ring");
    CHECK(de.iteration_time_s >= none.iteration_time_s);
    check_breakdown(de);
  }
  // The dense baseline itself: ring of 4n bytes per bucket.
  double comm_none = 0.0, bytes_none = 0.0;
  for (int b = 0; b < 2; ++b) {
    comm_none += 2.0 * (P - 1.0) * 3e-6 + 2.0 * (P - 1.0) / P * 4.0 * n[b] / 1e9 + 7e-6;
    bytes_none += 2.0 * (P - 1.0) / P * 4.0 * n[b];
  }
  CHECK(none.comm_s == exact(comm_none));
  CHECK(none.bytes_sent_per_worker == exact(bytes_none));
}

// --------------------------------------------------------- seed formulas ----

TEST_CASE("seed formulas reproduce the problem statement's numbers", "[analytic]") {
  namespace seed = gcsim::seed;
  CHECK(seed::gradient_bytes(23e6) == exact(92e6));
  CHECK(seed::table_comm_time_s(23e6, 1.0) == exact(0.736));
  CHECK(seed::ring_allreduce_time_s(23e6, 2, 1.0) == exact(0.736));
  CHECK(seed::ring_allreduce_time_s(23e6, 4, 1.0) == exact(1.104));  // 2 * 3/4 * 0.736
  CHECK(seed::efficiency(0.05, 0.736, 2) == exact(0.025 / 0.761));
  CHECK(seed::efficiency(0.05, 0.736, 2) == Approx(0.0329).margin(5e-5));
  CHECK(seed::reduction(0.01, 8) == exact(100.0 / 3.0));
  CHECK(seed::reduction(0.01, 4) == exact(50.0));
  CHECK(seed::section_5_2_comm_time_s(44.0, 10.0) == exact(0.0704));
  CHECK(seed::efficiency(0.5, 0.352, 8) == exact(0.0625 / 0.4145));
  CHECK(seed::efficiency(0.5, 0.352, 8) == Approx(0.1508).margin(5e-5));
  CHECK(seed::efficiency(0.5, 0.352 / 33.0, 8) == exact(0.0625 / (0.0625 + 0.352 / 33.0)));
  CHECK(seed::efficiency(0.5, 0.352 / 33.0, 8) == Approx(0.854).margin(5e-4));
}
