#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "calib/cost_fit.h"
#include "calib/kernel_sweep.h"
#include "calib/profile_writer.h"
#include "calib/stats.h"
#include "config/profile_loader.h"

using namespace gcsim::calib;

namespace {

std::vector<CostPoint> grid(double a, double b, double c, double noise, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(-noise, noise);
  std::vector<CostPoint> pts;
  for (double n : {1e4, 3e4, 1e5, 3e5, 1e6, 3e6, 1e7, 3e7, 1e8})
    for (double rho : {0.1, 0.01, 0.001}) {
      const double k = std::ceil(rho * n);
      pts.push_back({n, k, (a + b * n + c * k) * (1.0 + u(rng))});
    }
  return pts;
}

}  // namespace

TEST_CASE("fit_cost recovers exact coefficients over four decades", "[calib]") {
  const CostFit f = fit_cost(grid(12e-6, 0.004e-9, 0.9e-9, 0.0, 1));
  CHECK(f.alpha_s == Approx(12e-6).epsilon(1e-9));
  CHECK(f.per_element_s == Approx(0.004e-9).epsilon(1e-9));
  CHECK(f.per_selected_s == Approx(0.9e-9).epsilon(1e-9));
  CHECK(f.r2 == Approx(1.0).margin(1e-12));
  CHECK(f.max_rel_error < 1e-9);
  CHECK(f.points == 27);
}

TEST_CASE("fit_cost weights relative error: the launch cost survives large sizes", "[calib]") {
  // Ordinary least squares would drown alpha in the 1e8 points' noise.
  const CostFit f = fit_cost(grid(20e-6, 1e-9, 2e-9, 0.03, 2));
  CHECK(f.alpha_s == Approx(20e-6).epsilon(0.1));
  CHECK(f.per_element_s == Approx(1e-9).epsilon(0.05));
  CHECK(f.r2 > 0.99);
  CHECK(f.max_rel_error < 0.06);
}

TEST_CASE("fit_cost keeps every coefficient non-negative", "[calib]") {
  // Time that falls slightly with k: the unconstrained gamma is negative.
  std::vector<CostPoint> pts;
  for (double n : {1e4, 1e5, 1e6, 1e7})
    for (double k : {1.0, 10.0, 100.0}) pts.push_back({n, k, 5e-6 + 1e-9 * n - 1e-9 * k});
  const CostFit f = fit_cost(pts);
  CHECK(f.alpha_s >= 0.0);
  CHECK(f.per_element_s > 0.0);
  CHECK(f.per_selected_s == 0.0);
  CHECK(f.r2 > 0.99);

  const CostFit flat = fit_cost({{1e4, 1, 3e-6}, {1e6, 10, 3e-6}, {1e8, 1000, 3e-6}});
  CHECK(flat.alpha_s == Approx(3e-6));
  CHECK(flat.per_element_s == 0.0);
  CHECK(flat.per_selected_s == 0.0);
}

TEST_CASE("fit_cost rejects empty input and non-positive times", "[calib]") {
  CHECK_THROWS_AS(fit_cost({}), std::invalid_argument);
  CHECK_THROWS_AS(fit_cost({{1e4, 1, 0.0}}), std::invalid_argument);
  CHECK_THROWS_AS(fit_cost({{1e4, 1, std::nan("")}}), std::invalid_argument);
}

TEST_CASE("summarize gives median, extremes and spread", "[calib]") {
  const Summary odd = summarize({5.0, 1.0, 3.0});
  CHECK(odd.median == 3.0);
  CHECK(odd.min == 1.0);
  CHECK(odd.max == 5.0);
  CHECK(odd.spread == Approx(4.0 / 3.0));
  CHECK(summarize({4.0, 1.0, 2.0, 3.0}).median == 2.5);
  CHECK(summarize({2.0, 2.0}).spread == 0.0);
  CHECK_THROWS(summarize({}));
}

TEST_CASE("size_grid spans the decades inclusively", "[calib]") {
  CHECK(size_grid(1e4, 1e8, 1) == std::vector<double>{1e4, 1e5, 1e6, 1e7, 1e8});
  CHECK(size_grid(1e4, 1e6, 2) == std::vector<double>{1e4, 3e4, 1e5, 3e5, 1e6});
  CHECK(size_grid(1e2, 1e3, 3) == std::vector<double>{100, 200, 500, 1000});
  CHECK(size_grid(2.5e7, 2.5e7, 1).empty());
  CHECK(size_grid(3e4, 3e4, 2) == std::vector<double>{3e4});
  CHECK_THROWS(size_grid(0, 10, 1));
  CHECK_THROWS(size_grid(1e4, 1e5, 4));
}

TEST_CASE("run_kernel_sweep measures every op, size and ratio", "[calib]") {
  auto backend = gcsim::kernels::make_backend("cpu", 1);
  KernelSweepOptions o;
  o.sizes = {1000, 5000};
  o.repeats = 2;
  o.warmup = 1;
  o.parts = 3;
  int calls = 0;
  const auto ms = run_kernel_sweep(*backend, o, [&] { ++calls; });
  REQUIRE(ms.size() == sweep_points(o));
  REQUIRE(ms.size() == 6 * 2 * 3);
  CHECK(calls == static_cast<int>(ms.size()));
  for (const auto& m : ms) {
    INFO(m.op << " n=" << m.n << " rho=" << m.rho);
    CHECK(m.seconds.median > 0.0);
    CHECK(m.seconds.count == 2);
    const double k = std::ceil(m.rho * m.n);
    CHECK(m.k == (m.op == "scatter_add" ? 3 * k : k));
  }
  o.ops = {"nope"};
  CHECK_THROWS_AS(run_kernel_sweep(*backend, o, nullptr), std::invalid_argument);
}

TEST_CASE("a calibrated profile reads back with the measured kernels and the base's rest", "[calib]") {
  const std::string base = std::string(GCSIM_SOURCE_DIR) + "/scenarios/profiles/default.toml";
  CostFit f;
  f.alpha_s = 7e-6;
  f.per_element_s = 0.25e-9;
  f.per_selected_s = 3e-9;
  f.r2 = 0.998;
  f.points = 27;
  CalibrationRecord rec;
  rec.device = {"cpu", "Test CPU \"quoted\"", "", "GCC 14", 4};
  rec.date = "2026-11-22";
  rec.command = "gcsim calibrate kernels --out x.toml";
  rec.repeats = 7;
  const std::string text = calibrated_profile_toml(base, {{"topk", f}, {"ef_topk", f}}, rec);
  const auto path = std::filesystem::temp_directory_path() / "gcsim_calib_test_profile.toml";
  std::ofstream(path) << text;
  const gcsim::Profile p = gcsim::load_profile(path.string());
  const gcsim::Profile b = gcsim::load_profile(base);
  std::filesystem::remove(path);
  CHECK(p.name == "calibrated-cpu");
  CHECK(p.device.find("Test CPU \"quoted\"") != std::string::npos);
  CHECK(p.measured_on.find("2026-11-22") != std::string::npos);
  CHECK(p.kernel("topk").alpha_s == Approx(7e-6));
  CHECK(p.kernel("ef_topk").per_element_s == Approx(0.25e-9));
  CHECK(p.kernel("ef_topk").per_selected_s == Approx(3e-9));
  // Not measured: copied from the base.
  CHECK(p.kernel("optimizer").per_element_s == Approx(b.kernel("optimizer").per_element_s));
  CHECK(p.kernel("randomk").per_selected_s == Approx(b.kernel("randomk").per_selected_s));
  CHECK(p.collective_alpha_s == Approx(b.collective_alpha_s));
  CHECK(p.gpus.size() == b.gpus.size());
}
