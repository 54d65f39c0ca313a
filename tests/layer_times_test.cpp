// Measured per-layer compute: a profile's [layer_times.MODEL]
// (config/layer_times_loader.h, sim/layer_times.h) and its use by
// compute_times (sim/training/compute_time.h) in place of the FLOP split.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "config/input_error.h"
#include "config/profile_loader.h"
#include "config/scenario_loader.h"
#include "models/zoo.h"
#include "scenario_fixture.h"
#include "sim/analytic/iteration.h"
#include "sim/des/training_sim.h"
#include "sim/training/compute_time.h"

namespace {

using gcsim::test::replace;
using gcsim::test::write_temp;

std::string shipped_profile() {
  std::ifstream f(std::string(GCSIM_SOURCE_DIR) + "/scenarios/profiles/default.toml");
  std::stringstream ss;
  ss << f.rdbuf();
  REQUIRE(!ss.str().empty());
  return ss.str();
}

// SimpleCNN's four layers (models/simplecnn.cpp), with times chosen unlike
// its FLOP split (conv2 has 8x conv1's FLOPs; here its backward is 2x).
// Forward sums to 4 ms and backward to 6 ms (not the FLOP rule's 1:2): 10 ms, as step_ms.
const std::string kSection = R"(
[layer_times.simplecnn]
batch = 16
device = "test cpu"
measured_on = "2026-01-01, torch 1.13"
repeats = 5
step_ms = 10.0
names = ["conv1", "conv2", "fc1", "fc2"]
params = [416, 12832, 188280, 1210]
forward_ms = [1.0, 1.5, 0.5, 1.0]
backward_ms = [1.5, 3.0, 1, 0.5]
)";

std::string profile_with(const std::string& section) { return write_temp("layers_profile.toml", shipped_profile() + section); }

std::string load_error(const std::string& section) {
  try {
    gcsim::load_profile(profile_with(section));
  } catch (const gcsim::InputError& e) {
    return e.what();
  }
  return "";
}

// A one-worker SimpleCNN scenario on `profile`, the roofline named (it is replaced).
gcsim::Scenario scenario(const std::string& profile, int batch, const std::string& compute = "gpu = \"H100-SXM\"",
                         const std::string& model = "name = \"simplecnn\"") {
  const std::string text = "name = \"m\"\nprofile = \"" + profile + "\"\n[model]\n" + model +
                           "\nbatch_per_worker = " + std::to_string(batch) + "\n[compute]\n" + compute +
                           "\n[cluster]\nworkers = 1\n[cluster.inter_node]\nbandwidth_gbps = 10.0\n"
                           "latency_us = 5.0\n[compression]\nmethod = \"none\"\n";
  return gcsim::load_scenario(write_temp("layers_scenario.toml", text));
}

}  // namespace

TEST_CASE("layer_times: a measured section loads - times in seconds - checked against the zoo", "[config]") {
  const std::string path = profile_with(kSection);
  const gcsim::Profile p = gcsim::load_profile(path);
  REQUIRE(p.layer_times.size() == 1);
  const gcsim::MeasuredLayers& m = p.layer_times.at("simplecnn");
  CHECK(m.model == "simplecnn");
  CHECK(m.where == path + ": layer_times.simplecnn");
  CHECK(m.batch == 16);
  CHECK(m.device == "test cpu");
  CHECK(m.step_s == Approx(10e-3));
  CHECK(m.names == std::vector<std::string>{"conv1", "conv2", "fc1", "fc2"});
  CHECK(m.params == std::vector<std::int64_t>{416, 12832, 188280, 1210});
  REQUIRE(m.backward_s.size() == 4);
  CHECK(m.backward_s[1] == Approx(3e-3));
  CHECK(m.backward_s[2] == Approx(1e-3));  // an integer is a number of ms too
  CHECK(m.forward_sum_s() == Approx(4e-3));
  CHECK(m.backward_sum_s() == Approx(6e-3));
  CHECK(gcsim::load_profile(profile_with("")).layer_times.empty());
}

TEST_CASE("layer_times: a section whose layer count differs from the zoo model is refused", "[config]") {
  const std::string e = load_error(replace(kSection, "forward_ms = [1.0, 1.5, 0.5, 1.0]", "forward_ms = [1.0, 1.5, 0.5]"));
  CHECK_THAT(e, Catch::Contains("layers_profile.toml:"));
  CHECK_THAT(e, Catch::Contains("layer_times.simplecnn.forward_ms: has 3 entries, the zoo's model has 4 layers"));
  const std::string names = load_error(replace(kSection, R"(, "fc2"])", "]"));
  CHECK_THAT(names, Catch::Contains("layer_times.simplecnn.names: has 3 entries"));
}

TEST_CASE("layer_times: a parameter count unlike the zoo layer is refused", "[config]") {
  const std::string e = load_error(replace(kSection, "188280", "188281"));
  CHECK_THAT(e, Catch::Contains("layers_profile.toml:"));
  CHECK_THAT(e, Catch::Contains("layer_times.simplecnn.params[2]: 188281 parameters, the zoo's fc1 has 188280"));
  const std::string name = load_error(replace(kSection, R"("fc1")", R"("fc")"));
  CHECK_THAT(name, Catch::Contains("layer_times.simplecnn.names[2]: is 'fc', the zoo's layer 2 of simplecnn is 'fc1'"));
}

TEST_CASE("layer_times: a negative or non-finite time is refused", "[config]") {
  CHECK_THAT(load_error(replace(kSection, "backward_ms = [1.5", "backward_ms = [-1.5")),
             Catch::Contains("layer_times.simplecnn.backward_ms[0]: must be in [0, 1000000000] ms (got -1.5)"));
  CHECK_THAT(load_error(replace(kSection, "forward_ms = [1.0, 1.5", "forward_ms = [1.0, nan")),
             Catch::Contains("layer_times.simplecnn.forward_ms[1]: must be in"));
  CHECK_THAT(load_error(replace(kSection, "backward_ms = [1.5", "backward_ms = [inf")),
             Catch::Contains("layer_times.simplecnn.backward_ms[0]: must be in"));
  CHECK_THAT(load_error(replace(kSection, "step_ms = 10.0", "step_ms = 0.0")),
             Catch::Contains("layer_times.simplecnn.step_ms: must be in (0,"));
  CHECK_THAT(load_error(replace(kSection, "backward_ms = [1.5", R"(backward_ms = ["1.5")")),
             Catch::Contains("layer_times.simplecnn.backward_ms[0]: expected a number (ms), got string"));
}

TEST_CASE("layer_times: a section for a model not in the zoo is refused with a suggestion", "[config]") {
  const std::string e = load_error(replace(kSection, "[layer_times.simplecnn]", "[layer_times.resnet19]"));
  CHECK_THAT(e, Catch::Contains("layer_times.resnet19"));
  CHECK_THAT(e, Catch::Contains("resnet18"));
  CHECK_THAT(load_error(replace(kSection, "batch = 16", "batch = 0")),
             Catch::Contains("layer_times.simplecnn.batch: must be in [1,"));
}

TEST_CASE("compute_times: measured layers replace the FLOP split", "[analytic]") {
  const gcsim::Scenario s = scenario(profile_with(kSection), 16);
  const gcsim::ComputeTimes t = gcsim::compute_times(s);
  REQUIRE(t.backward_layer_s.size() == 4);
  const double want[] = {1.5e-3, 3e-3, 1e-3, 0.5e-3};  // the section's, as step_ms is their sum
  for (int i = 0; i < 4; ++i) CHECK(t.backward_layer_s[i] == Approx(want[i]).epsilon(1e-12));
  CHECK(t.forward_s == Approx(4e-3).epsilon(1e-12));
  CHECK(t.backward_s == Approx(6e-3).epsilon(1e-12));
  // Not the FLOP split, nor the roofline the scenario names.
  const gcsim::ModelSpec cnn = gcsim::make_simplecnn();
  CHECK(cnn.layers[1].forward_flops / cnn.layers[0].forward_flops > 7.0);
  CHECK(t.backward_layer_s[1] / t.backward_layer_s[0] == Approx(2.0));
  CHECK(t.forward_s * 3.0 != Approx(t.forward_s + t.backward_s));
  CHECK(t.optimizer_s == Approx(s.profile.kernel(gcsim::op::optimizer).eval(202738.0, 0.0)));
  // Without the section: the FLOP split of the roofline.
  const gcsim::ComputeTimes flops = gcsim::compute_times(scenario(profile_with(""), 16));
  CHECK(flops.backward_layer_s[1] / flops.backward_layer_s[0] ==
        Approx(cnn.layers[1].forward_flops / cnn.layers[0].forward_flops));
}

TEST_CASE("compute_times: measured layers are scaled to step_ms and linearly by batch", "[analytic]") {
  // step_ms 20 is twice the per-layer sum, and the scenario's batch twice the measured: x 4.
  const gcsim::Scenario s = scenario(profile_with(replace(kSection, "step_ms = 10.0", "step_ms = 20.0")), 32);
  const gcsim::ComputeTimes t = gcsim::compute_times(s);
  CHECK(t.forward_s + t.backward_s == Approx(40e-3).epsilon(1e-12));
  CHECK(t.forward_s == Approx(16e-3).epsilon(1e-12));
  CHECK(t.backward_layer_s[1] == Approx(12e-3).epsilon(1e-12));
  CHECK(t.backward_layer_s[3] == Approx(2e-3).epsilon(1e-12));
}

TEST_CASE("compute_times: a scenario forward_backward_ms is the step the measured layers split", "[analytic]") {
  const gcsim::Scenario s = scenario(profile_with(kSection), 64, "forward_backward_ms = 90.0");
  const gcsim::ComputeTimes t = gcsim::compute_times(s);
  CHECK(t.forward_s == Approx(36e-3).epsilon(1e-12));
  CHECK(t.backward_s == Approx(54e-3).epsilon(1e-12));
  CHECK(t.backward_layer_s[1] == Approx(27e-3).epsilon(1e-12));
}

TEST_CASE("compute_times: a custom model that borrows a measured zoo name is refused", "[analytic]") {
  // Refused as the scenario loads (its run limits price the step).
  const std::string path = profile_with(kSection);
  CHECK_THROWS_WITH(scenario(path, 16, "gpu = \"H100-SXM\"", "name = \"simplecnn\"\nparams = 1000"),
                    Catch::Contains(path + ": layer_times.simplecnn: measured for the zoo's simplecnn (4 layers), "
                                           "but the scenario's model 'simplecnn' has other layers (1)"));
  CHECK_NOTHROW(scenario(path, 16, "gpu = \"H100-SXM\"", "name = \"mine\"\nparams = 1000"));
}

TEST_CASE("simulate: both backends price the measured step", "[analytic]") {
  const gcsim::Scenario s = scenario(profile_with(kSection), 16);
  const double optimizer = gcsim::compute_times(s).optimizer_s;
  const gcsim::IterationResult a = gcsim::simulate_analytic(s);
  const gcsim::IterationResult d = gcsim::simulate_des(s, {}).result;
  for (const gcsim::IterationResult* r : {&a, &d}) {
    CHECK(r->forward_s == Approx(4e-3).epsilon(1e-9));
    CHECK(r->backward_s == Approx(6e-3).epsilon(1e-9));
    CHECK(r->compute_s == Approx(10e-3 + optimizer).epsilon(1e-9));
  }
}

TEST_CASE("compute: a profile with the model measured needs neither forward_backward_ms nor gpu", "[config]") {
  // [compute] with only the sharing keys: the measured step (10 ms at batch 16) x 2 at batch 32
  const gcsim::Scenario s = scenario(profile_with(kSection), 32, "cores_per_host = 0");
  const gcsim::ComputeTimes t = gcsim::compute_times(s);
  CHECK(t.forward_s + t.backward_s == Approx(20e-3).epsilon(1e-12));
  // without the section the same scenario is refused, naming what is missing
  try {
    scenario(profile_with(""), 32, "cores_per_host = 0");
    FAIL("loaded without a step");
  } catch (const gcsim::InputError& e) {
    CHECK(gcsim::test::contains(e.what(), "forward_backward_ms"));
    CHECK(gcsim::test::contains(e.what(), "layer_times"));
  }
}
