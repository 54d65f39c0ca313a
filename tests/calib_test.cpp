#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <map>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "calib/collective_csv.h"
#include "calib/collective_sweep.h"
#include "calib/communicator_bench.h"
#include "calib/cost_fit.h"
#include "calib/kernel_sweep.h"
#include "calib/nccl_tests_log.h"
#include "calib/profile_writer.h"
#include "calib/stats.h"
#include "config/profile_loader.h"
#include "tests/train_support.h"

using namespace gcsim::calib;
using gcsim::EfficiencyCurve;
using gcsim::EfficiencyPoint;

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

TEST_CASE("summarize gives median - extremes and spread", "[calib]") {
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

TEST_CASE("run_kernel_sweep measures every op - size and ratio", "[calib]") {
  auto backend = gcsim::kernels::make_backend("cpu", 1);
  KernelSweepOptions o;
  o.sizes = {1000, 5000};
  o.repeats = 2;
  o.warmup = 1;
  o.parts = 3;
  int calls = 0;
  const auto ms = run_kernel_sweep(*backend, o, [&] { ++calls; });
  REQUIRE(ms.size() == sweep_points(o));
  // 6 selection ops x 2 sizes x 3 ratios; cast, ef_sign, qsgd_quantize,
  // dense_sum and the 4 host passes once per size; sign_decode and
  // qsgd_dequantize at 1 and 3 parts per size; matmul and orthogonalize at
  // ranks 1 and 4 per size.
  REQUIRE(ms.size() == 6 * 2 * 3 + 8 * 2 + 2 * 2 * 2 + 2 * 2 * 2);
  CHECK(calls == static_cast<int>(ms.size()));
  std::map<std::string, int> per_op;
  for (const auto& m : ms) {
    INFO(m.op << " n=" << m.n << " rho=" << m.rho);
    ++per_op[m.op];
    CHECK(m.seconds.median > 0.0);
    CHECK(m.seconds.count == 2);
    const double k = std::ceil(m.rho * m.n);
    if (m.op == "cast" || m.op == "ef_sign" || m.op == "qsgd_quantize") {
      CHECK(m.rho == 0.0);
      CHECK(m.k == 0.0);
    } else if (m.op == "sign_decode" || m.op == "qsgd_dequantize") {
      CHECK(m.rho == 0.0);
      CHECK((m.k == m.n || m.k == 3 * m.n));
    } else if (m.op == "matmul") {  // n = rows x 512 entries of M (n = 1000: one row), k = those x r
      const double entries = m.n >= 1024 ? std::floor(m.n / 512) * 512 : m.n;
      CHECK((m.k == entries || m.k == 4 * entries));
    } else if (m.op == "orthogonalize") {  // P of max(r, n / 256) rows: k = rows r^2
      const double rows1 = std::max(1.0, std::floor(m.n / 256)), rows4 = std::max(4.0, std::floor(m.n / 256));
      CHECK((m.k == rows1 || m.k == rows4 * 16));
    } else {
      CHECK(m.k == (m.op == "scatter_add" ? 3 * k : k));
    }
  }
  CHECK(per_op.size() == kernel_ops().size());
  CHECK(per_op["sign_decode"] == 4);
  CHECK(per_op["cast"] == 2);
  CHECK(per_op["ef_residual"] == 2);
  // Cold: the caches swept before every timed repeat; the same points are measured.
  o.evict_bytes = std::size_t{8} << 20;
  o.ops = {"scale", "ef_topk"};
  const auto cold = run_kernel_sweep(*backend, o, nullptr);
  CHECK(cold.size() == 2 + 2 * 3);
  for (const auto& m : cold) CHECK(m.seconds.median > 0.0);
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
  const auto path = std::filesystem::temp_directory_path() /
                    ("gcsim_calib_test_profile_" + std::to_string(getpid()) + ".toml");
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

// ---- collectives ---------------------------------------------------------------

namespace {

// What the simulator's ring model charges (collective_sweep.h), for synthetic measurements.
std::vector<CollectiveMeasurement> model_points(int p, double launch, double alpha, double bytes_per_s) {
  std::vector<CollectiveMeasurement> ms;
  for (const std::size_t bytes : collective_size_grid(4, 4u << 20)) {
    CollectiveMeasurement ar{"allreduce", bytes, 2.0 * (p - 1) / p * static_cast<double>(bytes), {}};
    ar.seconds.median = launch + 2 * (p - 1) * alpha + ar.wire_bytes / bytes_per_s;
    CollectiveMeasurement ag{"allgather", bytes, (p - 1.0) * static_cast<double>(bytes), {}};
    ag.seconds.median = launch + (p - 1) * alpha + ag.wire_bytes / bytes_per_s;
    ms.push_back(ar);
    ms.push_back(ag);
  }
  return ms;
}

}  // namespace

TEST_CASE("fit_collectives recovers launch - per-step alpha and bandwidth from the ring model", "[calib]") {
  for (const int p : {2, 4, 16}) {
    INFO("P = " << p);
    const CollectiveFit f = fit_collectives(model_points(p, 30e-6, 12e-6, 1.25e9), p);
    CHECK(f.launch_s == Approx(30e-6).epsilon(1e-6));
    CHECK(f.step_alpha_s == Approx(12e-6).epsilon(1e-6));
    CHECK(f.bytes_per_s == Approx(1.25e9).epsilon(1e-6));
    CHECK(f.allreduce.r2 == Approx(1.0));
  }
  // A host where every collective costs the same fixed time, whatever its steps: all launch, no alpha.
  auto flat = model_points(4, 2.5e-3, 0.0, 1e9);
  const CollectiveFit f = fit_collectives(flat, 4);
  CHECK(f.step_alpha_s == Approx(0.0).margin(1e-12));
  CHECK(f.launch_s == Approx(2.5e-3).epsilon(1e-6));
  // Noise that makes the allgather dearer than the allreduce is clamped: alpha 0, not negative.
  for (auto& m : flat)
    if (m.op == "allgather") m.seconds.median *= 1.5;
  CHECK(fit_collectives(flat, 4).step_alpha_s == 0.0);
  CHECK_THROWS_AS(fit_collectives(flat, 1), std::invalid_argument);
  CHECK_THROWS_AS(fit_collectives({flat.front()}, 4), std::invalid_argument);
  CHECK(collective_size_grid(4, 1024) == std::vector<std::size_t>{4, 16, 64, 256, 1024});
  CHECK(collective_size_grid(10, 300) == std::vector<std::size_t>{16, 64, 256});
}

TEST_CASE("fit_allgather recovers the allgather's own alpha and rate where it differs from the allreduce's", "[calib]") {
  for (const int p : {2, 4, 16}) {
    INFO("P = " << p);
    auto ms = model_points(p, 30e-6, 12e-6, 1.25e9);
    for (auto& m : ms)  // an allgather at 0.4 GB/s and 50 us per step, the allreduce as it was
      if (m.op == "allgather") m.seconds.median = 30e-6 + (p - 1) * 50e-6 + m.wire_bytes / 0.4e9;
    const CollectiveFit ring = fit_collectives(ms, p);
    CHECK(ring.bytes_per_s == Approx(1.25e9).epsilon(1e-6));  // the ring family: the allreduce's rate
    const AllgatherFit g = fit_allgather(ms, p, 30e-6);
    CHECK(g.bytes_per_s == Approx(0.4e9).epsilon(1e-6));
    CHECK(g.step_alpha_s == Approx(50e-6).epsilon(1e-6));
    CHECK(g.launch_s == 30e-6);
    CHECK(g.allgather.r2 == Approx(1.0));
    CHECK(fit_allgather(ms, p, 1.0).step_alpha_s == 0.0);  // a launch above the intercept: clamped, not negative
  }
  CHECK_THROWS_AS(fit_allgather(model_points(4, 0, 0, 1e9), 1, 0.0), std::invalid_argument);
  std::vector<CollectiveMeasurement> one_size = {{"allgather", 64, 192.0, {}}};
  one_size[0].seconds.median = 1e-3;
  CHECK_THROWS_AS(fit_allgather(one_size, 4, 0.0), std::invalid_argument);
}

TEST_CASE("efficiency_curve gives at each size of the bandwidth regime the efficiency that reproduces its time",
          "[calib]") {
  const int p = 8;
  const double fixed = 2e-3, line = 12.5e6;  // 100 Mbit/s
  auto ms = model_points(p, 0.0, 0.0, 1.0);  // sizes and wire bytes; times set below
  auto e_of = [](double bytes) { return bytes < 1e5 ? 0.95 : bytes < 1e6 ? 0.55 : 0.8; };  // a mid-size dip
  double cheapest = 1e9;
  for (auto& m : ms) {
    m.seconds.median = fixed + m.wire_bytes / (line * e_of(static_cast<double>(m.bytes)));
    if (m.op == "allgather") cheapest = std::min(cheapest, m.seconds.median);
  }
  ms.push_back(ms.back());  // a repeated size: counted once
  const std::vector<EfficiencyPoint> c = efficiency_curve(ms, "allgather", fixed, line);
  // The sizes whose transfer at the line rate takes at least the fixed part and the cheapest time: 4 KiB up.
  std::size_t expected = 0;
  for (const std::size_t b : collective_size_grid(4, 4u << 20))
    if ((p - 1.0) * static_cast<double>(b) / line >= std::max(fixed, cheapest)) ++expected;
  CHECK(expected == 6);
  REQUIRE(c.size() == expected);
  CHECK(c.front().bytes == 4096.0);
  for (std::size_t i = 0; i < c.size(); ++i) {
    INFO("size " << c[i].bytes);
    CHECK(c[i].efficiency == Approx(e_of(c[i].bytes)).epsilon(1e-9));
    if (i > 0) CHECK(c[i].bytes > c[i - 1].bytes);
  }
  // The curve reproduces every measured time of the regime through the simulator's cost: fixed + wire / (line e).
  const EfficiencyCurve curve(c);
  for (const auto& m : ms)
    if (m.op == "allgather" && static_cast<double>(m.bytes) >= c.front().bytes)
      CHECK(fixed + m.wire_bytes / (line * curve.at(static_cast<double>(m.bytes))) == Approx(m.seconds.median).epsilon(1e-9));
  // In the regime: faster than the line clamps to 1, a crawl to 1e-3; a latency-bound size is left out.
  std::vector<CollectiveMeasurement> odd = {{"allreduce", 16, 28.0, {}}, {"allreduce", 65536, 114688.0, {}},
                                            {"allreduce", 262144, 458752.0, {}}};
  odd[0].seconds.median = fixed / 2;
  odd[1].seconds.median = fixed + 114688.0 / (line * 4.0);
  odd[2].seconds.median = 1e6;
  const auto oc = efficiency_curve(odd, "allreduce", fixed, line);
  REQUIRE(oc.size() == 2);
  CHECK(oc[0].bytes == 65536.0);
  CHECK(oc[0].efficiency == 1.0);
  CHECK(oc[1].efficiency == 1e-3);
  CHECK(efficiency_curve(odd, "allgather", fixed, line).empty());
  CHECK(efficiency_curve({odd[0]}, "allreduce", fixed, line).empty());  // nothing in the regime: no curve
  CHECK_THROWS_AS(efficiency_curve(odd, "allreduce", fixed, 0.0), std::invalid_argument);
}

TEST_CASE("run_collective_sweep times the four collectives at every size with ring byte counts", "[calib]") {
  const int p = 3;
  CollectiveSweepOptions o;
  o.sizes = {16, 1024};
  o.repeats = 3;
  o.warmup = 1;
  gcsim::train::test::on_ranks(p, [&](gcsim::comm::Communicator& c) {
    int ticks = 0;
    const auto ms = run_collective_sweep(c, o, [&] { ++ticks; });
    if (ms.size() != 8 || ticks != 8) throw std::runtime_error("want 4 ops x 2 sizes");
    for (const auto& m : ms) {
      // allgather and p2p_ring (one ring of all p ranks by default): p - 1 parts; allreduce_half as allreduce
      const bool allreduce = m.op == "allreduce" || m.op == "allreduce_half";
      const double want = allreduce ? 2.0 * (p - 1) / p * m.bytes : (p - 1.0) * m.bytes;
      if (m.wire_bytes != want || m.seconds.count != 3 || !(m.seconds.median > 0))
        throw std::runtime_error("bad measurement for " + m.op);
    }
  });
  // compute_s: every rank works that long before each collective (not timed): 2 ops x 2 sizes x 4 runs
  o.compute_s = 0.002;
  o.collectives = {"allreduce", "allgather"};
  const auto t0 = std::chrono::steady_clock::now();
  gcsim::train::test::on_ranks(2, [&](gcsim::comm::Communicator& c) { run_collective_sweep(c, o); });
  CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() >= 16 * 0.002);
  o.compute_s = 0.0;
  o.collectives = {};
  o.sizes = {6};  // not a multiple of 4
  CHECK_THROWS_AS(gcsim::train::test::on_ranks(2, [&](gcsim::comm::Communicator& c) { run_collective_sweep(c, o); }),
                  std::invalid_argument);
}

TEST_CASE("a collectives profile reads back with the measured figures and the base's kernels", "[calib]") {
  const std::string base = std::string(GCSIM_SOURCE_DIR) + "/scenarios/profiles/default.toml";
  CollectiveRecord rec;
  rec.network = "4 processes, Gloo TCP on loopback";
  rec.date = "2026-11-22";
  rec.command = "gcsim calibrate collectives --out x.toml";
  rec.workers = 4;
  rec.repeats = 15;
  rec.launch_us = 2400.0;
  rec.alpha_us = 35.0;
  rec.achieved_mbit = 95.0;
  rec.inter_node_efficiency = 0.95;
  const auto path = std::filesystem::temp_directory_path() /
                    ("gcsim_calib_test_collectives_" + std::to_string(getpid()) + ".toml");
  std::ofstream(path) << collective_profile_toml(base, rec);
  const gcsim::Profile p = gcsim::load_profile(path.string());
  const gcsim::Profile b = gcsim::load_profile(base);
  CHECK(p.name == "calibrated-collectives");
  CHECK(p.collective_launch_s == Approx(2400e-6));
  CHECK(p.collective_alpha_s == Approx(35e-6));
  CHECK(p.inter_node_efficiency == Approx(0.95));
  CHECK(p.intra_node_efficiency == Approx(b.intra_node_efficiency));
  CHECK(p.device.find("Gloo TCP on loopback") != std::string::npos);
  CHECK(p.kernel("ef_topk").alpha_s == Approx(b.kernel("ef_topk").alpha_s));
  // Without a rate the base's efficiency stays.
  rec.inter_node_efficiency = -1.0;
  std::ofstream(path) << collective_profile_toml(base, rec);
  CHECK(gcsim::load_profile(path.string()).inter_node_efficiency == Approx(b.inter_node_efficiency));
  std::filesystem::remove(path);
}

// ---- k-quant: the quantization ops are optional in a profile -------------------

TEST_CASE("profiles without the quantization ops still load - those with them are checked", "[calib]") {
  const std::string base = std::string(GCSIM_SOURCE_DIR) + "/scenarios/profiles/default.toml";
  std::ifstream in(base);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const gcsim::Profile shipped = gcsim::load_profile(base);
  for (const char* op : {"cast", "ef_sign", "sign_decode", "qsgd_quantize", "qsgd_dequantize"}) {
    INFO(op);
    CHECK(shipped.kernel(op).alpha_s > 0.0);
    CHECK(shipped.kernel(op).per_element_s > 0.0);
  }
  CHECK(shipped.kernel("sign_decode").per_selected_s > 0.0);
  // The profile as it was before the quantization ops: cut them out.
  const auto first = text.find("[kernels.cast]"), after = text.find("[gpus.H100-SXM]");
  REQUIRE(first != std::string::npos);
  REQUIRE(after > first);
  const auto dir = std::filesystem::temp_directory_path();
  const auto old_path = dir / ("gcsim_old_profile_" + std::to_string(getpid()) + ".toml");
  std::ofstream(old_path) << text.substr(0, first) << text.substr(after);
  const gcsim::Profile old = gcsim::load_profile(old_path.string());
  std::filesystem::remove(old_path);
  CHECK(old.kernels.size() == 7);
  CHECK(old.kernel("ef_topk").alpha_s == Approx(shipped.kernel("ef_topk").alpha_s));
  CHECK_THROWS_AS(old.kernel("qsgd_quantize"), std::logic_error);
  // A present entry is checked like any other; a misspelt op is still refused.
  const auto bad_path = dir / ("gcsim_bad_profile_" + std::to_string(getpid()) + ".toml");
  std::string negative = text;
  const auto cast_figure = negative.find("ns_per_element = 0.00448", first);
  REQUIRE(cast_figure < negative.find("[kernels.", first + 1));  // inside the cast entry
  negative.replace(cast_figure, 24, "ns_per_element = -1.0");
  std::ofstream(bad_path) << negative;
  CHECK_THROWS_WITH(gcsim::load_profile(bad_path.string()), Catch::Contains("ns_per_element"));
  std::string misspelt = text;
  misspelt.replace(misspelt.find("[kernels.cast]"), 14, "[kernels.casts]");
  std::ofstream(bad_path) << misspelt;
  CHECK_THROWS_WITH(gcsim::load_profile(bad_path.string()), Catch::Contains("casts"));
  std::filesystem::remove(bad_path);
}

namespace {

// nccl-tests rows for the ring model: t = launch + steps alpha + wire / B, in us.
std::vector<std::pair<std::size_t, double>> nccl_rows(bool allreduce, int p, double launch, double alpha, double bw) {
  std::vector<std::pair<std::size_t, double>> rows;
  for (std::size_t size = 8 * static_cast<std::size_t>(p); size <= (std::size_t{1} << 30); size *= 4) {
    const double n = static_cast<double>(size);
    const double t = allreduce ? launch + 2.0 * (p - 1) * alpha + 2.0 * (p - 1) / p * n / bw
                               : launch + (p - 1) * alpha + (p - 1) * (n / p) / bw;
    rows.emplace_back(size, 1e6 * t);
  }
  return rows;
}

}  // namespace

TEST_CASE("nccl-tests logs: the parser and the fit recover the launch - alpha and bandwidth they were made from",
          "[calib][nccl]") {
  for (const int p : {2, 8, 16}) {
    INFO("P = " << p);
    const double launch = 18e-6, alpha = 4e-6, bw = 45e9;
    const std::string ar = format_nccl_tests_log("allreduce", p, nccl_rows(true, p, launch, alpha, bw));
    const std::string ag = format_nccl_tests_log("allgather", p, nccl_rows(false, p, launch, alpha, bw));
    const NcclTestsLog a = parse_nccl_tests_log(ar, "all_reduce_perf.log");
    const NcclTestsLog g = parse_nccl_tests_log(ag, "all_gather_perf.log");
    CHECK(a.op == "allreduce");
    CHECK(g.op == "allgather");
    CHECK(a.ranks == p);
    REQUIRE(a.rows.size() == nccl_rows(true, p, launch, alpha, bw).size());
    // nccl-tests' sizes: the buffer (allreduce), the P parts together (allgather).
    const std::size_t largest = nccl_rows(true, p, launch, alpha, bw).back().first;
    CHECK(a.rows.back().bytes == largest);
    CHECK(g.rows.back().bytes == largest / static_cast<std::size_t>(p));
    CHECK(a.rows.back().wire_bytes == Approx(2.0 * (p - 1) / p * static_cast<double>(largest)));
    CHECK(g.rows.back().wire_bytes == Approx((p - 1.0) / p * static_cast<double>(largest)));
    std::vector<CollectiveMeasurement> ms = a.rows;
    ms.insert(ms.end(), g.rows.begin(), g.rows.end());
    const CollectiveFit f = fit_collectives(ms, p);
    CHECK(f.bytes_per_s == Approx(bw).epsilon(2e-3));
    CHECK(f.launch_s == Approx(launch).epsilon(0.02));
    CHECK(f.step_alpha_s == Approx(alpha).epsilon(0.02));
  }
}

TEST_CASE("nccl-tests logs: what is not one fails with a located line", "[calib][nccl]") {
  const std::string ok = format_nccl_tests_log("allreduce", 4, nccl_rows(true, 4, 1e-5, 1e-6, 1e10));
  CHECK(parse_nccl_tests_log(ok, "x.log").op == "allreduce");  // from the header nccl-tests prints
  std::string wrong = ok;
  const auto at = wrong.rfind("0\n# Out");  // the last row's in-place #wrong
  REQUIRE(at != std::string::npos);
  wrong[at] = '3';
  CHECK_THROWS_WITH(parse_nccl_tests_log(wrong, "w.log"), Catch::Contains("w.log:") && Catch::Contains("#wrong = 3"));
  CHECK_THROWS_WITH(parse_nccl_tests_log("hello world\n", "h.log"), Catch::Contains("h.log:1"));
  std::string no_ranks;
  for (std::size_t i = 0; i < ok.size();) {
    const std::size_t nl = ok.find('\n', i);
    const std::string line = ok.substr(i, nl - i + 1);
    if (line.find("Rank") == std::string::npos) no_ranks += line;
    i = nl + 1;
  }
  CHECK_THROWS_WITH(parse_nccl_tests_log(no_ranks, "all_reduce_perf.log"), Catch::Contains("0 rank(s)"));
  std::string odd = format_nccl_tests_log("allgather", 4, {{4 * 1024 + 2, 10.0}});
  CHECK_THROWS_WITH(parse_nccl_tests_log(odd, "all_gather_perf.log"), Catch::Contains("equal parts"));
}

// ---- the shared harness: benches, nccl-tests tables, tree fit, CSV, family profiles ----

TEST_CASE("nccl-tests definitions: sizes and bus bandwidth factors of the four collectives", "[calib][nccl]") {
  CHECK(nccl_tests_size("allreduce", 1024, 8) == 1024);
  CHECK(nccl_tests_size("broadcast", 1024, 8) == 1024);
  CHECK(nccl_tests_size("allgather", 1024, 8) == 8192);      // the gathered buffer
  CHECK(nccl_tests_size("reduce_scatter", 1024, 8) == 8192);  // the input buffer
  CHECK(bus_factor("allreduce", 8) == Approx(2.0 * 7 / 8));
  CHECK(bus_factor("allgather", 8) == Approx(7.0 / 8));
  CHECK(bus_factor("reduce_scatter", 8) == Approx(7.0 / 8));
  CHECK(bus_factor("broadcast", 8) == 1.0);
  CHECK(wire_bytes("reduce_scatter", 100, 4) == 300.0);
  CHECK(wire_bytes("allreduce", 100, 4) == Approx(150.0));
  CHECK_THROWS_AS(wire_bytes("alltoall", 1, 2), std::invalid_argument);
}

TEST_CASE("gcsim tables in nccl-tests layout read back through the nccl-tests parser for all four collectives",
          "[calib][nccl]") {
  const int p = 8;
  for (const std::string op : {"allreduce", "allgather", "reduce_scatter", "broadcast"}) {
    INFO(op);
    std::vector<CollectiveMeasurement> rows;
    for (std::size_t bytes : {std::size_t{64}, std::size_t{4096}, std::size_t{1} << 20}) {
      CollectiveMeasurement m;
      m.op = op;
      m.bytes = bytes;
      m.seconds.median = 1e-5 + static_cast<double>(bytes) / 2e10;
      rows.push_back(m);
    }
    const std::string text = format_nccl_tests_table(op, p, rows, std::vector<std::string>(p, "NVIDIA H200"), "NCCL_ALGO=Tree");
    CHECK(text.find(nccl_tests_binary(op)) != std::string::npos);
    const NcclTestsLog log = parse_nccl_tests_log(text, "gcsim.log");
    CHECK(log.op == op);
    CHECK(log.ranks == p);
    REQUIRE(log.rows.size() == rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
      CHECK(log.rows[i].bytes == rows[i].bytes);
      CHECK(log.rows[i].seconds.median == Approx(rows[i].seconds.median).margin(0.006e-6));  // %.2f us
      CHECK(log.rows[i].wire_bytes == Approx(wire_bytes(op, rows[i].bytes, p)));
    }
    // the busbw column is algbw x nccl-tests' factor
    std::istringstream in(text);
    int checked = 0;
    for (std::string line; std::getline(in, line);) {
      if (line.empty() || line[0] == '#') continue;
      std::istringstream ls(line);
      double size, count, root, us, algbw, busbw;
      std::string type, redop;
      ls >> size >> count >> type >> redop >> root >> us >> algbw >> busbw;
      CHECK(algbw == Approx(size / (us * 1e-6) / 1e9).epsilon(2e-3).margin(0.006));  // %.2f GB/s
      CHECK(busbw == Approx(size / (us * 1e-6) / 1e9 * bus_factor(op, p)).epsilon(2e-3).margin(0.006));
      CHECK(redop == ((op == "allreduce" || op == "reduce_scatter") ? "sum" : "none"));
      ++checked;
    }
    CHECK(checked == 3);
  }
}

TEST_CASE("fit_tree_allreduce recovers the tree alpha and bandwidth the simulator charges", "[calib][nccl]") {
  for (const int p : {2, 8, 16, 12}) {
    INFO("P = " << p);
    const double launch = 8e-6, alpha = 3e-6, bw = 150e9;
    int levels = 0;
    while ((1 << levels) < p) ++levels;
    std::vector<CollectiveMeasurement> ms;
    for (const std::size_t bytes : collective_size_grid(4, std::size_t{1} << 30)) {
      CollectiveMeasurement m;
      m.op = "allreduce";
      m.bytes = bytes;
      m.seconds.median = launch + 2.0 * levels * alpha + 2.0 * static_cast<double>(bytes) / bw;
      ms.push_back(m);
    }
    const TreeFit t = fit_tree_allreduce(ms, p, launch);
    CHECK(t.step_alpha_s == Approx(alpha).epsilon(1e-6));
    CHECK(t.bytes_per_s == Approx(bw).epsilon(1e-6));
    CHECK(t.launch_s == launch);
    // a launch larger than the whole fixed cost clamps alpha at 0
    CHECK(fit_tree_allreduce(ms, p, 1.0).step_alpha_s == 0.0);
  }
  CHECK_THROWS_AS(fit_tree_allreduce({}, 4, 0.0), std::invalid_argument);
}

TEST_CASE("the measurements CSV round-trips with its variant and wrong columns and old files still read", "[calib]") {
  std::vector<CollectiveMeasurement> ms(2);
  ms[0].op = "reduce_scatter";
  ms[0].bytes = 4096;
  ms[0].wire_bytes = 12288;
  ms[0].seconds = summarize({1e-5, 2e-5, 3e-5});
  ms[0].variant = "Tree/LL128";
  ms[1].op = "allreduce";
  ms[1].bytes = 64;
  ms[1].wire_bytes = 96;
  ms[1].seconds = summarize({4e-6});
  const auto dir = std::filesystem::temp_directory_path() / ("gcsim_calib_csv_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const auto path = (dir / "m.csv").string();
  std::ofstream(path) << measurements_csv(ms);
  const auto back = read_measurements_csv(path);
  REQUIRE(back.size() == 2);
  CHECK(back[0].op == "reduce_scatter");
  CHECK(back[0].variant == "Tree/LL128");
  CHECK(back[0].seconds.median == Approx(2e-5));
  CHECK(back[1].variant.empty());
  CHECK(back[1].bytes == 64);
  const auto old = (dir / "old.csv").string();
  std::ofstream(old) << "op,bytes,wire_bytes,median_s,min_s,max_s,spread,repeats\nallgather,16,16,1e-05,1e-05,1e-05,0,3\n";
  CHECK(read_measurements_csv(old).at(0).op == "allgather");
  std::ofstream(old) << "op,bytes,wire_bytes,median_s,min_s,max_s,spread,repeats\nalltoall,16,16,1e-05,1e-05,1e-05,0,3\n";
  CHECK_THROWS_WITH(read_measurements_csv(old), Catch::Contains("old.csv:2"));
  std::filesystem::remove_all(dir);
}

namespace {

// A bench whose data check finds `wrong` bad elements.
class FakeBench final : public CollectiveBench {
 public:
  explicit FakeBench(std::uint64_t wrong) : wrong_(wrong) {}
  int ranks() const override { return 4; }
  std::vector<std::string> collectives() const override { return all_collectives(); }
  void prepare(const std::string& op, std::size_t bytes) override { prepared.emplace_back(op, bytes); }
  double run_timed() override { return 1e-5 * ++runs; }
  std::uint64_t check() override { return wrong_; }
  std::vector<std::pair<std::string, std::size_t>> prepared;
  int runs = 0;

 private:
  std::uint64_t wrong_;
};

}  // namespace

TEST_CASE("the sweep times what it is asked in a fixed order and stops at a failed data check", "[calib]") {
  CollectiveSweepOptions o;
  o.sizes = {16, 256};
  o.repeats = 2;
  o.warmup = 1;
  o.collectives = {"broadcast", "allreduce"};
  FakeBench good(0);
  const auto ms = run_collective_sweep(good, o);
  REQUIRE(ms.size() == 4);
  CHECK(ms[0].op == "allreduce");  // all_collectives() order, whatever the list's
  CHECK(ms[3].op == "broadcast");
  CHECK(good.runs == 4 * 3);
  CHECK(ms[0].seconds.count == 2);
  CHECK(ms[0].seconds.median == Approx(2.5e-5));  // runs 2 and 3 of the first point; run 1 was warm-up
  FakeBench bad(7);
  CHECK_THROWS_WITH(run_collective_sweep(bad, o), Catch::Contains("allreduce") && Catch::Contains("16 bytes") &&
                                                      Catch::Contains("7 wrong"));
  o.check = false;
  CHECK(run_collective_sweep(bad, o).size() == 4);
  o.collectives = {"reduce_scatter"};
  CHECK_THROWS_AS(gcsim::train::test::on_ranks(2, [&](gcsim::comm::Communicator& c) { run_collective_sweep(c, o); }),
                  std::invalid_argument);  // the communicator bench has allreduce and allgather only
}

TEST_CASE("the communicator bench checks allreduce - allgather and allreduce_half results element by element", "[calib]") {
  gcsim::train::test::on_ranks(3, [&](gcsim::comm::Communicator& c) {
    CommunicatorBench bench(c);
    for (const std::string op : {"allreduce", "allgather", "allreduce_half"})
      for (std::size_t bytes : {std::size_t{4}, std::size_t{52}, std::size_t{4096}}) {
        bench.prepare(op, bytes);
        bench.run_timed();  // in place: the allreduce's buffer now holds the sum, not the inputs
        if (bench.check() != 0) throw std::runtime_error(op + ": the data check failed on a correct collective");
      }
  });
}

TEST_CASE("a profile with ring and tree family figures per link class reads back as written", "[calib][nccl]") {
  const std::string base = std::string(GCSIM_SOURCE_DIR) + "/scenarios/profiles/default.toml";
  CollectiveRecord rec;
  rec.network = "8 GPUs (NVIDIA H200), NCCL 2.28.9, one process";
  rec.date = "2026-12-02";
  rec.command = "gcsim calibrate collectives --backend nccl";
  rec.workers = 8;
  rec.repeats = 20;
  rec.launch_us = 9.0;
  rec.alpha_us = 2.5;
  rec.link_class = "intra_node";
  rec.inter_node_efficiency = 0.8;  // of the measured class
  rec.families.push_back({"ring", "allreduce + allgather, NCCL_ALGO=Ring", 9.0, 2.5, 0.8, 360.0, 0.99});
  rec.families.push_back({"tree", "allreduce, NCCL_ALGO=Tree", 9.0, 4.0, 0.55, 250.0, 0.98});
  rec.families.push_back({"allgather", "allgather, NCCL_ALGO=Ring", 9.0, 3.0, 0.7, 300.0, 0.97,
                          {{4096.0, 0.2}, {1048576.0, 0.5}, {67108864.0, 0.7}}});
  const auto dir = std::filesystem::temp_directory_path() / ("gcsim_calib_fam_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const auto path = (dir / "p.toml").string();
  std::ofstream(path) << collective_profile_toml(base, rec);
  const gcsim::Profile p = gcsim::load_profile(path);
  const gcsim::Profile b = gcsim::load_profile(base);
  CHECK(p.intra_node_efficiency == Approx(0.8));
  CHECK(p.inter_node_efficiency == Approx(b.inter_node_efficiency));  // not measured: the base's
  const gcsim::CollectiveFigures tree = p.collective("tree");
  CHECK(tree.launch_s == Approx(9e-6));
  CHECK(tree.intra.alpha_s == Approx(4e-6));
  CHECK(tree.intra.efficiency == Approx(0.55));
  CHECK(tree.inter.efficiency == Approx(b.inter_node_efficiency));  // the other class: the defaults
  const gcsim::CollectiveFigures ag = p.collective("allgather");
  CHECK(ag.intra.alpha_s == Approx(3e-6));
  CHECK(ag.intra.efficiency == Approx(0.7));
  REQUIRE(ag.intra.curve.points().size() == 3);
  CHECK(ag.intra.curve.points()[1].bytes == 1048576.0);
  CHECK(ag.intra.curve.points()[1].efficiency == Approx(0.5));
  CHECK(ag.inter.curve.empty());
  const gcsim::CollectiveFigures ring = p.collective("ring");
  CHECK(ring.intra.alpha_s == Approx(2.5e-6));
  CHECK(ring.intra.efficiency == Approx(0.8));
  // A second calibration of the other link class keeps the first one's figures.
  rec.link_class = "inter_node";
  rec.families = {{"ring", "ring allreduce + ring allgather", 9.0, 30.0, 0.9, 45.0, 0.97}};
  const auto path2 = (dir / "p2.toml").string();
  std::ofstream(path2) << collective_profile_toml(path, rec);
  const gcsim::Profile q = gcsim::load_profile(path2);
  CHECK(q.collective("ring").intra.alpha_s == Approx(2.5e-6));
  CHECK(q.collective("ring").inter.alpha_s == Approx(30e-6));
  CHECK(q.collective("tree").intra.alpha_s == Approx(4e-6));
  std::filesystem::remove_all(dir);
}

TEST_CASE("calibrating a profile that has measured layer times keeps them", "[calib]") {
  const std::string base = std::string(GCSIM_SOURCE_DIR) + "/scenarios/profiles/default.toml";
  std::ifstream in(base);
  std::stringstream text;
  text << in.rdbuf()
       << "\n[layer_times.simplecnn]\nbatch = 16\nstep_ms = 10.0\nnames = [\"conv1\", \"conv2\", \"fc1\", \"fc2\"]\n"
          "params = [416, 12832, 188280, 1210]\nforward_ms = [1.0, 1.5, 0.5, 1.0]\nbackward_ms = [1.5, 3.0, 1.0, 0.5]\n";
  const auto dir = std::filesystem::temp_directory_path() / ("gcsim_calib_layers_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const auto with_layers = (dir / "base.toml").string();
  std::ofstream(with_layers) << text.str();
  CollectiveRecord rec;
  rec.network = "2 processes";
  rec.date = "2026-12-02";
  rec.workers = 2;
  const auto out = (dir / "out.toml").string();
  std::ofstream(out) << collective_profile_toml(with_layers, rec);
  const gcsim::Profile p = gcsim::load_profile(out);
  REQUIRE(p.layer_times.count("simplecnn") == 1);
  CHECK(p.layer_times.at("simplecnn").backward_s.at(1) == Approx(3e-3));
  CHECK(p.layer_times.at("simplecnn").names.at(3) == "fc2");
  std::filesystem::remove_all(dir);
}
