// Sweeps: all points, row by row, resume after an interruption, no overwrite.
#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

#include "config/input_error.h"
#include "config/sweep_loader.h"
#include "sim/analytic/iteration.h"
#include "sweep/csv.h"
#include "sweep/sweep_runner.h"

namespace fs = std::filesystem;

namespace {

const char* kBase = R"(
[model]
name = "resnet18"
batch_per_worker = 32
[compute]
forward_backward_ms = 40.0
[cluster]
workers = 4
[cluster.inter_node]
bandwidth_gbps = 10.0
[compression]
method = "topk"
ratio = 0.01
)";

struct Fixture {
  fs::path dir;
  gcsim::SweepSpec spec;
  explicit Fixture(const std::string& axes) {
    dir = fs::temp_directory_path() / ("gcsim_sweep_test_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    std::ofstream(dir / "base.toml") << kBase;
    std::ofstream(dir / "sweep.toml") << "base = \"base.toml\"\n[axes]\n" << axes;
    spec = gcsim::load_sweep((dir / "sweep.toml").string());
  }
  ~Fixture() { fs::remove_all(dir); }
  std::string out() const { return (dir / "out").string(); }
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

}  // namespace

TEST_CASE("a sweep writes one row per point - in point order", "[sweep]") {
  Fixture f("\"cluster.workers\" = [2, 4, 8, 16]\n\"compression.method\" = [\"none\", \"topk\"]\n");
  gcsim::SweepOptions o;
  o.backend = "analytic";
  o.out_dir = f.out();
  o.jobs = 3;
  const auto r = gcsim::run_sweep(f.spec, o, gcsim::simulate_analytic);
  CHECK(r.points == 8);
  CHECK(r.ran == 8);
  const auto lines = lines_of(slurp(r.results_csv));
  REQUIRE(lines.size() == 9);
  CHECK(lines[0].rfind("point,model,workers,", 0) == 0);
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const auto fields = gcsim::split_csv_line(lines[i]);
    CHECK(fields[0] == std::to_string(i - 1));
  }
  // First axis varies slowest: point 3 = workers 4, topk.
  const auto p3 = gcsim::split_csv_line(lines[4]);
  CHECK(p3[2] == "4");
  CHECK(p3[8] == "topk");
}

TEST_CASE("an existing results.csv is kept unless --resume or --force", "[sweep]") {
  Fixture f("\"cluster.workers\" = [2, 4]\n");
  gcsim::SweepOptions o;
  o.backend = "analytic";
  o.out_dir = f.out();
  const auto first = gcsim::run_sweep(f.spec, o, gcsim::simulate_analytic);
  const std::string before = slurp(first.results_csv);
  CHECK_THROWS_AS(gcsim::run_sweep(f.spec, o, gcsim::simulate_analytic), gcsim::InputError);
  CHECK(slurp(first.results_csv) == before);
  o.force = true;
  CHECK(gcsim::run_sweep(f.spec, o, gcsim::simulate_analytic).ran == 2);
}

TEST_CASE("resume skips finished points and ends with the same file", "[sweep]") {
  Fixture f("\"cluster.workers\" = [2, 4, 8, 16, 32]\n");
  gcsim::SweepOptions o;
  o.backend = "analytic";
  o.out_dir = f.out();
  const auto full = gcsim::run_sweep(f.spec, o, gcsim::simulate_analytic);
  const std::string complete = slurp(full.results_csv);
  const auto lines = lines_of(complete);

  // Interrupted: header, points 0 and 3, and half a row of point 4.
  std::ofstream(full.results_csv, std::ios::trunc)
      << lines[0] << "\n" << lines[1] << "\n" << lines[4] << "\n" << lines[5].substr(0, 20);
  std::atomic<int> calls{0};
  o.resume = true;
  const auto r = gcsim::run_sweep(f.spec, o, [&](const gcsim::Scenario& s) {
    ++calls;
    return gcsim::simulate_analytic(s);
  });
  CHECK(r.resumed == 2);
  CHECK(r.ran == 3);
  CHECK(calls == 3);
  CHECK(slurp(r.results_csv) == complete);
}

TEST_CASE("resume refuses rows from a different sweep", "[sweep]") {
  Fixture f("\"cluster.workers\" = [2, 4]\n");
  gcsim::SweepOptions o;
  o.backend = "analytic";
  o.out_dir = f.out();
  gcsim::run_sweep(f.spec, o, gcsim::simulate_analytic);
  std::ofstream(f.dir / "sweep.toml") << "base = \"base.toml\"\n[axes]\n\"cluster.workers\" = [2, 8]\n";
  const auto other = gcsim::load_sweep((f.dir / "sweep.toml").string());
  o.resume = true;
  CHECK_THROWS_WITH(gcsim::run_sweep(other, o, gcsim::simulate_analytic), Catch::Contains("another sweep"));
}

TEST_CASE("a bad point stops the sweep before any output", "[sweep][bad-input]") {
  Fixture f("\"cluster.workers\" = [2, 4, -1]\n");
  gcsim::SweepOptions o;
  o.backend = "analytic";
  o.out_dir = f.out();
  CHECK_THROWS_WITH(gcsim::run_sweep(f.spec, o, gcsim::simulate_analytic),
                    Catch::Contains("sweep.toml:3:28") && Catch::Contains("cluster.workers: must be >= 1"));
  CHECK_FALSE(fs::exists(f.dir / "out"));
}
