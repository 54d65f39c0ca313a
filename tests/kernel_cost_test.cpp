// A kernel's cost from its fit and the medians it was fitted to
// (sim/kernel_cost.h): the measured points reproduced, the ratio interpolated
// between them and held beyond, the profile's [kernels.OP] measured read,
// checked and written back by calibrate, and the simulator charging it.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

#include "calib/profile_writer.h"
#include "config/input_error.h"
#include "config/profile_loader.h"
#include "scenario_fixture.h"
#include "sim/kernel_cost.h"
#include "sim/collectives/fabric.h"
#include "sim/training/buckets.h"
#include "sim/training/compression_cost.h"
#include "sim/profile.h"
#include "config/scenario_loader.h"

using namespace gcsim;

namespace {

// 1 ns per entry and 10 us, fitted; measured 1.0x at 1e4, 1.5x at 1e6, 2x at 1e7 (the cache running out).
KernelCost curved() {
  KernelCost c{10e-6, 1e-9, 0.0, {}};
  c.set_measured({{1e6, 0.0, 1.5 * c.fit(1e6, 0)}, {1e4, 0.0, c.fit(1e4, 0)}, {1e7, 0.0, 2.0 * c.fit(1e7, 0)}});
  return c;
}

// The default profile with `line` added to its [kernels.ef_topk].
std::string with_ef_topk(const std::string& line) {
  std::string text = test::default_profile_text();
  const std::string header = "[kernels.ef_topk]\n";
  const auto at = text.find(header);
  REQUIRE(at != std::string::npos);
  return text.insert(at + header.size(), line + "\n");
}

std::string load_error(const std::string& line) {
  try {
    load_profile(test::write_temp("bad-kernel.toml", with_ef_topk(line)));
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("a kernel cost without measured points is its fit", "[kernel_cost]") {
  const KernelCost c{2e-6, 0.5e-9, 3e-9, {}};
  CHECK(c.eval(1e6, 1e4) == Approx(2e-6 + 0.5e-3 + 3e-5));
  CHECK(c.scaled(3.0).eval(1e6, 1e4) == Approx(3.0 * c.eval(1e6, 1e4)));
}

TEST_CASE("a kernel cost reproduces its measured points and interpolates the ratio between them", "[kernel_cost]") {
  const KernelCost c = curved();
  REQUIRE(c.correction.size() == 3);  // sorted by the fit's time
  CHECK(c.correction[0].first < c.correction[1].first);
  CHECK(c.eval(1e4, 0) == Approx(c.fit(1e4, 0)));
  CHECK(c.eval(1e6, 0) == Approx(1.5 * c.fit(1e6, 0)));
  CHECK(c.eval(1e7, 0) == Approx(2.0 * c.fit(1e7, 0)));
  // Halfway in log fit time between 1e6 and 1e7: the mean of the ratios.
  const double f_mid = std::sqrt(c.fit(1e6, 0) * c.fit(1e7, 0));
  const double n_mid = (f_mid - 10e-6) / 1e-9;
  CHECK(c.eval(n_mid, 0) == Approx(1.75 * f_mid));
  // Beyond the points: the end ratios.
  CHECK(c.eval(1e8, 0) == Approx(2.0 * c.fit(1e8, 0)));
  CHECK(c.eval(0, 0) == Approx(c.fit(0, 0)));
  // Sharing cores scales the corrected cost, not the fit it is looked up by.
  CHECK(c.scaled(2.0).eval(1e6, 0) == Approx(3.0 * c.fit(1e6, 0)));
}

TEST_CASE("measured points at the same fitted time share their mean ratio", "[kernel_cost]") {
  KernelCost c{0.0, 0.0, 1e-9, {}};  // cost in k alone: two sizes with the same k
  c.set_measured({{1e5, 1e3, 2e-6}, {1e6, 1e3, 4e-6}});
  REQUIRE(c.correction.size() == 1);
  CHECK(c.eval(0, 1e3) == Approx(3e-6));
}

TEST_CASE("bad measured points are refused", "[kernel_cost]") {
  KernelCost c{0.0, 1e-9, 0.0, {}};
  CHECK_THROWS_WITH(c.set_measured({{1e3, 0, 1e-6}, {-1, 0, 1e-6}}), Catch::Contains("measured point 2"));
  CHECK_THROWS_WITH(c.set_measured({{1e3, 0, 0.0}}), Catch::Contains("seconds must be > 0"));
  CHECK_THROWS_WITH(c.set_measured({{0, 0, 1e-6}}), Catch::Contains("the fit is 0 there"));
}

TEST_CASE("a profile's measured kernel points are read and checked", "[kernel_cost][config]") {
  const Profile p = load_profile(test::write_temp(
      "measured.toml",
      with_ef_topk("measured = [{n = 10000, k = 100, seconds = 2e-5}, {n = 10000000, k = 100000, seconds = 0.02}]")));
  const KernelCost& c = p.kernel("ef_topk");
  REQUIRE(c.correction.size() == 2);
  CHECK(c.eval(1e4, 100) == Approx(2e-5));
  CHECK(c.eval(1e7, 1e5) == Approx(0.02));
  CHECK(c.eval(1e8, 1e6) == Approx(0.02 / c.fit(1e7, 1e5) * c.fit(1e8, 1e6)));

  const std::string e1 = load_error("measured = [{n = 1000, k = 0, seconds = 0.0}]");
  CHECK_THAT(e1, Catch::Contains("bad-kernel.toml") && Catch::Contains("kernels.ef_topk.measured") &&
                     Catch::Contains("seconds must be > 0"));
  CHECK_THAT(load_error("measured = [{n = 1000, k = 0, seconds = 1e-6, t = 1}]"), Catch::Contains("unknown key"));
  CHECK_THAT(load_error("measured = [{n = -5, k = 0, seconds = 1e-6}]"), Catch::Contains("n"));
  CHECK_THAT(load_error("measured = []"), Catch::Contains("at least one point"));
  CHECK_THAT(load_error("measured = 3"), Catch::Contains("measured"));
}

TEST_CASE("calibrate writes the measured points beside the fit and they read back", "[kernel_cost][calib]") {
  const std::string base = std::string(GCSIM_SOURCE_DIR) + "/scenarios/profiles/default.toml";
  calib::CostFit f;
  f.alpha_s = 5e-6;
  f.per_element_s = 1e-9;
  f.r2 = 0.9;
  f.points = 2;
  calib::CalibrationRecord rec;
  rec.device = {"cpu", "Test CPU", "", "GCC", 1};
  rec.date = "2026-12-03";
  rec.command = "gcsim calibrate kernels";
  rec.repeats = 5;
  const std::vector<calib::CostPoint> pts = {{1e4, 100, 2e-5}, {1e7, 1e5, 0.018}};
  const std::string text = calib::calibrated_profile_toml(base, {{"ef_topk", f}, {"topk", f}}, rec, {{"ef_topk", pts}});
  const auto path = std::filesystem::temp_directory_path() / ("gcsim_kernel_cost_" + std::to_string(getpid()) + ".toml");
  std::ofstream(path) << text;
  const Profile p = load_profile(path.string());
  std::filesystem::remove(path);
  CHECK(p.kernel("ef_topk").eval(1e7, 1e5) == Approx(0.018));
  CHECK(p.kernel("ef_topk").eval(1e4, 100) == Approx(2e-5));
  CHECK(p.kernel("topk").correction.empty());  // fitted without points: the fit alone
  CHECK(p.kernel("topk").eval(1e7, 0) == Approx(5e-6 + 1e-2));
}

TEST_CASE("the simulator charges a bucket's kernels their corrected cost", "[kernel_cost]") {
  // Top-K with error feedback: ef_topk over the bucket, then pack. Measured at
  // twice its fit everywhere (one point: the ratio is held), ef_topk's share of
  // the bucket's compression time doubles and the rest stays.
  const Scenario base = load_scenario(std::string(GCSIM_SOURCE_DIR) + "/scenarios/h100-cluster.toml",
                                      {"cluster.workers=8", "compression.method=\"topk\"",
                                       "compression.exchange=\"allgather\"", "compression.error_feedback=true"});
  Scenario sc = base;
  KernelCost& ef = sc.profile.kernels.at(op::ef_topk);
  ef.set_measured({{1e6, 1e4, 2.0 * ef.fit(1e6, 1e4)}});
  const auto buckets = make_buckets(sc.model, sc.training.bucket_mb * 1024.0 * 1024.0, sc.compression.granularity);
  const Fabric f = make_fabric(sc.cluster, sc.profile);
  REQUIRE(!buckets.empty());
  for (const Bucket& b : buckets) {
    const double k = static_cast<double>(bucket_cost(base, f, b).selected);
    const double fit = base.profile.kernel(op::ef_topk).fit(static_cast<double>(b.params), k);
    INFO("bucket of " << b.params << " params");
    CHECK(bucket_cost(sc, f, b).compress_s - bucket_cost(base, f, b).compress_s == Approx(fit).epsilon(1e-9));
  }
}
