// Sweeps: all points, row by row, resume after an interruption, no overwrite.
#include <catch2/catch.hpp>

#include "compress/method.h"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <tuple>
#include <sstream>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>

#include "config/input_error.h"
#include "config/scenario_loader.h"
#include "config/sweep_loader.h"
#include "sim/analytic/iteration.h"
#include "sweep/config_hash.h"
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

// --- the issue's tryout: configuration identity, axis columns, robustness ------

namespace {

gcsim::SweepOptions analytic_options(const std::string& out) {
  gcsim::SweepOptions o;
  o.backend = "analytic";
  o.out_dir = out;
  o.jobs = 1;
  return o;
}

std::vector<std::string> header_of(const std::string& csv) { return gcsim::split_csv_line(lines_of(slurp(csv))[0]); }

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
  return s;
}

}  // namespace

TEST_CASE("resume refuses rows simulated with another base configuration", "[sweep]") {
  Fixture f("\"cluster.workers\" = [2, 4]\n");
  auto o = analytic_options(f.out());
  const auto first = gcsim::run_sweep(f.spec, o, gcsim::simulate_analytic);
  const std::string before = slurp(first.results_csv);
  // Not a swept key, and not a column: only the configuration identity sees it.
  std::ofstream(f.dir / "base.toml") << replace_all(kBase, "bandwidth_gbps = 10.0", "bandwidth_gbps = 10.0\nlatency_us = 50");
  o.resume = true;
  CHECK_THROWS_WITH(gcsim::run_sweep(f.spec, o, gcsim::simulate_analytic),
                    Catch::Contains("results.csv:2") && Catch::Contains("point 0") &&
                        Catch::Contains("another configuration"));
  CHECK(slurp(first.results_csv) == before);
}

TEST_CASE("resume refuses rows simulated with another profile", "[sweep]") {
  Fixture f("\"cluster.workers\" = [2, 4]\n");
  const std::string profile = slurp(gcsim::default_profile_path());
  std::ofstream(f.dir / "profile.toml") << profile;
  std::ofstream(f.dir / "base.toml") << "profile = \"profile.toml\"\n" << kBase;
  auto o = analytic_options(f.out());
  gcsim::run_sweep(f.spec, o, gcsim::simulate_analytic);
  REQUIRE(profile.find("alpha_us = 3.4") != std::string::npos);
  std::ofstream(f.dir / "profile.toml") << replace_all(profile, "alpha_us = 3.4", "alpha_us = 3.5");
  o.resume = true;
  CHECK_THROWS_WITH(gcsim::run_sweep(f.spec, o, gcsim::simulate_analytic), Catch::Contains("another configuration"));
}

TEST_CASE("resume accepts a base file that is only reformatted", "[sweep]") {
  Fixture f("\"cluster.workers\" = [2, 4]\n");
  auto o = analytic_options(f.out());
  const auto first = gcsim::run_sweep(f.spec, o, gcsim::simulate_analytic);
  const std::string before = slurp(first.results_csv);
  std::ofstream(f.dir / "base.toml") << "# a comment\n"
                                     << replace_all(replace_all(kBase, "bandwidth_gbps = 10.0", "bandwidth_gbps   =  1e1"),
                                                    "ratio = 0.01", "ratio = 1.0e-2  # same value");
  o.resume = true;
  const auto r = gcsim::run_sweep(f.spec, o, gcsim::simulate_analytic);
  CHECK(r.resumed == 2);
  CHECK(r.ran == 0);
  CHECK(slurp(r.results_csv) == before);
}

TEST_CASE("every swept key has a column named by the key", "[sweep]") {
  Fixture f(
      "\"stragglers.cv\" = [0.0, 0.25]\n"
      "\"cluster.inter_node.latency_us|collective.chunks\" = [[5, 1], [7.5, 4]]\n"
      "\"model.batch_per_worker\" = [16]\n");
  const auto r = gcsim::run_sweep(f.spec, analytic_options(f.out()), gcsim::simulate_analytic);
  const auto header = header_of(r.results_csv);
  const auto col = [&](const std::string& name) {
    for (std::size_t i = 0; i < header.size(); ++i)
      if (header[i] == name) return i;
    FAIL("no column " << name);
    return std::size_t{0};
  };
  // The standard columns keep their places (tools/plot_sweep.py reads them by name; tests by index).
  CHECK(header[0] == "point");
  CHECK(header[1] == "model");
  const auto lines = lines_of(slurp(r.results_csv));
  REQUIRE(lines.size() == 5);
  const auto p3 = gcsim::split_csv_line(lines[4]);
  CHECK(p3[col("stragglers.cv")] == "0.25");
  CHECK(p3[col("cluster.inter_node.latency_us")] == "7.5");
  CHECK(p3[col("collective.chunks")] == "4");
  CHECK(p3[col("model.batch_per_worker")] == "16");
  CHECK(p3[col("config_hash")].size() == 16);
  CHECK(gcsim::split_csv_line(lines[1])[col("config_hash")] != p3[col("config_hash")]);
}

TEST_CASE("a key in two axes is refused at the second axis", "[sweep][bad-input]") {
  const auto load = [](const std::string& axes) { Fixture f(axes); };
  CHECK_THROWS_WITH(load("\"cluster.workers\" = [2, 4]\n\"cluster.workers \" = [8]\n"),
                    Catch::Contains("sweep.toml:4:1: cluster.workers : sets 'cluster.workers'") &&
                        Catch::Contains("sweep.toml:3:1"));
  CHECK_THROWS_WITH(load("\"cluster.workers|compression.ratio\" = [[2, 0.1]]\n\"compression.ratio\" = [0.01]\n"),
                    Catch::Contains("sweep.toml:4:1") && Catch::Contains("sets 'compression.ratio'"));
  CHECK_THROWS_WITH(load("\"cluster.workers|cluster.workers\" = [[2, 4]]\n"),
                    Catch::Contains("sweep.toml:3:1") && Catch::Contains("earlier in this axis"));
  CHECK_THROWS_WITH(load("\"cluster.inter_node\" = [{bandwidth_gbps = 1.0}]\n"
                         "\"cluster.inter_node.latency_us\" = [5]\n"),
                    Catch::Contains("sweep.toml:4:1") && Catch::Contains("overlaps 'cluster.inter_node'"));
}

TEST_CASE("an empty axes table is refused", "[sweep][bad-input]") {
  CHECK_THROWS_WITH(Fixture(""), Catch::Contains("sweep.toml:2:1: axes: is empty"));
}

TEST_CASE("a sweep over more than the point limit is refused naming the axes", "[sweep][bad-input]") {
  std::string ten = "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]";
  std::string axes;
  for (const char* k : {"stragglers.seed", "training.iterations", "cluster.workers", "collective.chunks",
                        "model.batch_per_worker", "training.bucket_mb"})
    axes += std::string("\"") + k + "\" = " + ten + "\n";
  CHECK_THROWS_WITH(Fixture(axes), Catch::Contains("sweep.toml:2:1: axes:") &&
                                       Catch::Contains("\"stragglers.seed\" 10 x \"training.iterations\" 10") &&
                                       Catch::Contains("= 1000000 points") && Catch::Contains("limit of 100000"));
}

TEST_CASE("identical points are simulated once and their rows share the result", "[sweep]") {
  Fixture f("\"cluster.workers\" = [4, 8, 4]\n\"training.bucket_mb\" = [25, 25.0]\n");
  auto o = analytic_options(f.out());
  std::atomic<int> calls{0};
  const auto r = gcsim::run_sweep(f.spec, o, [&](const gcsim::Scenario& s) {
    ++calls;
    return gcsim::simulate_analytic(s);
  });
  CHECK(calls == 2);
  const auto lines = lines_of(slurp(r.results_csv));
  REQUIRE(lines.size() == 7);
  // Points 0, 1, 4 and 5 are workers = 4: the same row but for the point index and the axis values.
  const auto p0 = gcsim::split_csv_line(lines[1]);
  const auto p5 = gcsim::split_csv_line(lines[6]);
  CHECK(p5[0] == "5");
  CHECK(std::vector<std::string>(p0.begin() + 1, p0.end()) == std::vector<std::string>(p5.begin() + 1, p5.end()));
}

TEST_CASE("resume drops a torn last row with the wrong field count", "[sweep]") {
  Fixture f("\"cluster.workers\" = [2, 4, 8]\n");
  auto o = analytic_options(f.out());
  const auto full = gcsim::run_sweep(f.spec, o, gcsim::simulate_analytic);
  const std::string complete = slurp(full.results_csv);
  const auto lines = lines_of(complete);
  // A row cut short that still ends in a newline.
  std::ofstream(full.results_csv, std::ios::trunc) << lines[0] << "\n" << lines[1] << "\n" << lines[2].substr(0, 30) << "\n";
  o.resume = true;
  const auto r = gcsim::run_sweep(f.spec, o, gcsim::simulate_analytic);
  CHECK(r.resumed == 1);
  CHECK(r.ran == 2);
  CHECK(slurp(r.results_csv) == complete);
  // The same damage before the last row is not a torn write: refused.
  std::ofstream(full.results_csv, std::ios::trunc) << lines[0] << "\n" << lines[2].substr(0, 30) << "\n" << lines[1] << "\n";
  CHECK_THROWS_WITH(gcsim::run_sweep(f.spec, o, gcsim::simulate_analytic),
                    Catch::Contains("results.csv:2") && Catch::Contains("malformed row"));
}

TEST_CASE("a failed append stops the sweep and leaves only whole rows", "[sweep]") {
  Fixture f("\"cluster.workers\" = [2, 4, 8, 16, 32, 64]\n");
  auto o = analytic_options(f.out());
  const auto full = gcsim::run_sweep(f.spec, o, gcsim::simulate_analytic);
  const std::string complete = slurp(full.results_csv);
  const auto lines = lines_of(complete);
  fs::remove_all(f.out());
  // Room for the header and two and a half rows: RLIMIT_FSIZE makes the third append short.
  const rlim_t limit = lines[0].size() + 1 + lines[1].size() + 1 + lines[2].size() + 1 + lines[3].size() / 2;
  struct rlimit old {};
  ::getrlimit(RLIMIT_FSIZE, &old);
  struct rlimit small = old;
  small.rlim_cur = limit;
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  ::setrlimit(RLIMIT_FSIZE, &small);
  std::string error;
  try {
    gcsim::run_sweep(f.spec, o, gcsim::simulate_analytic);
  } catch (const std::exception& e) {
    error = e.what();
  }
  ::setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, old_handler);
  CHECK_THAT(error, Catch::Contains("results.csv: cannot append a row"));
  const std::string partial = slurp(f.out() + "/results.csv");
  CHECK(partial == lines[0] + "\n" + lines[1] + "\n" + lines[2] + "\n");
  o.resume = true;
  const auto r = gcsim::run_sweep(f.spec, o, gcsim::simulate_analytic);
  CHECK(r.resumed == 2);
  CHECK(slurp(r.results_csv) == complete);
}

TEST_CASE("a second sweep into a locked output directory is refused", "[sweep][bad-input]") {
  Fixture f("\"cluster.workers\" = [2, 4]\n");
  fs::create_directories(f.out());
  const int fd = ::open((f.out() + "/.lock").c_str(), O_RDWR | O_CREAT, 0644);
  REQUIRE(fd >= 0);
  REQUIRE(::flock(fd, LOCK_EX | LOCK_NB) == 0);
  CHECK_THROWS_WITH(gcsim::run_sweep(f.spec, analytic_options(f.out()), gcsim::simulate_analytic),
                    Catch::Contains("another gcsim sweep is writing into this directory"));
  CHECK_FALSE(fs::exists(f.out() + "/results.csv"));
  ::close(fd);
  CHECK(gcsim::run_sweep(f.spec, analytic_options(f.out()), gcsim::simulate_analytic).ran == 2);
}

TEST_CASE("an output path that is a file is bad input", "[sweep][bad-input]") {
  Fixture f("\"cluster.workers\" = [2, 4]\n");
  std::ofstream(f.out()) << "keep me\n";
  CHECK_THROWS_AS(gcsim::run_sweep(f.spec, analytic_options(f.out()), gcsim::simulate_analytic), gcsim::InputError);
  CHECK_THROWS_AS(gcsim::run_sweep(f.spec, analytic_options(f.out() + "/sub"), gcsim::simulate_analytic),
                  gcsim::InputError);
  CHECK(slurp(f.out()) == "keep me\n");
}

TEST_CASE("the default sweep simulates dense once per model - P and bandwidth", "[sweep]") {
  const auto spec = gcsim::load_sweep("scenarios/sweeps/default.toml");
  const auto base = gcsim::read_scenario_source(spec.base_path);
  // Per (model, P, bandwidth): the variants simulated (gcsim::compress labels), each once.
  std::map<std::tuple<std::string, int, double>, std::multiset<std::string>> seen;
  std::set<std::string> hashes;
  for (std::size_t i = 0; i < spec.point_count(); ++i) {
    const auto s = gcsim::build_scenario(spec.point_source(base, i));
    hashes.insert(gcsim::config_hash_hex(s));
    seen[{s.model.name, s.cluster.workers, s.cluster.inter_node.bandwidth_gbps}].insert(
        gcsim::compress::method(s.compression.method).label(s.compression));
  }
  CHECK(hashes.size() == spec.point_count());
  CHECK(seen.size() == 4 * 9 * 4);
  // What the plots draw: dense, the two DDP baselines and three Top-K ratios, by allgather and by
  // the cheapest exchange.
  const std::multiset<std::string> want = {"none",     "fp16",      "powersgd r=4",
                                           "topk 10%", "topk 1%",   "topk 0.1%",
                                           "topk 10% auto-exchange", "topk 1% auto-exchange",
                                           "topk 0.1% auto-exchange"};
  for (const auto& [key, e] : seen) CHECK(e == want);
}

TEST_CASE("a sweep removes the temporary file of a killed sweep's rewrite", "[sweep]") {
  Fixture f("\"cluster.workers\" = [2, 4]\n");
  fs::create_directories(f.out());
  std::ofstream(f.out() + "/results.csv.tmp.99999") << "point,half a rewrite";
  std::ofstream(f.out() + "/notes.txt") << "mine\n";
  gcsim::run_sweep(f.spec, analytic_options(f.out()), gcsim::simulate_analytic);
  CHECK_FALSE(fs::exists(f.out() + "/results.csv.tmp.99999"));
  CHECK(slurp(f.out() + "/notes.txt") == "mine\n");
}

TEST_CASE("config_hash sees every simulated value and no formatting", "[sweep]") {
  const auto hash_with = [](const std::vector<std::string>& sets) {
    return gcsim::config_hash_hex(gcsim::load_scenario("scenarios/h100-cluster.toml", sets));
  };
  const std::string base = hash_with({});
  CHECK(base.size() == 16);
  CHECK(hash_with({}) == base);
  CHECK(hash_with({"cluster.workers=16", "compression.ratio=1e-2", "name=renamed"}) == base);  // same values, a label
  std::set<std::string> seen{base};
  for (const std::string set :
       {"cluster.workers=17", "cluster.inter_node.latency_us=6.3", "cluster.inter_node.bandwidth_gbps=10.5",
        "cluster.nics_per_node=2", "model.name=\"resnet18\"", "model.batch_per_worker=65", "compute.efficiency=0.16",
        "compute.gpu=\"A100-SXM\"", "collective.algorithm=\"tree\"", "collective.chunks=2",
        "compression.method=\"randomk\"", "compression.ratio=0.02", "compression.index_bytes=8",
        "compression.error_feedback=false", "compression.granularity=\"layer\"", "compression.exchange=\"dense\"",
        "training.bucket_mb=26", "training.overlap=false", "training.iterations=2", "stragglers.cv=0.1",
        "stragglers.seed=2", "stragglers.slow=[{rank=1, factor=2.0}]", "profile=\"scenarios/profiles/default.toml\""}) {
    const std::string h = hash_with({set});
    if (set.rfind("profile=", 0) == 0) {
      CHECK(h == base);  // the same profile by its path: the same contents
    } else {
      INFO(set);
      CHECK(seen.insert(h).second);
    }
  }
}

TEST_CASE("dense points that differ only in compression settings dense ignores are simulated once", "[sweep]") {
  Fixture f("\"compression.method\" = [\"none\", \"topk\"]\n\"compression.ratio\" = [0.1, 0.01, 0.001]\n"
            "\"compression.index_bytes\" = [4, 8]\n");
  auto o = analytic_options(f.out());
  std::atomic<int> calls{0};
  const auto r = gcsim::run_sweep(f.spec, o, [&](const gcsim::Scenario& s) {
    ++calls;
    return gcsim::simulate_analytic(s);
  });
  CHECK(calls == 1 + 6);
  CHECK(r.ran == 7);
  CHECK(r.reused == 5);
  const auto lines = lines_of(slurp(r.results_csv));
  REQUIRE(lines.size() == 13);
  // Each dense row keeps its own ratio and index_bytes columns, with the one dense result.
  const auto p0 = gcsim::split_csv_line(lines[1]);
  const auto p5 = gcsim::split_csv_line(lines[6]);
  CHECK(p0[8] == "none");
  CHECK(p5[8] == "none");
  CHECK(p0[9] == "none");  // variant
  CHECK(p0[10] == "0.1");
  CHECK(p5[10] == "0.001");
  CHECK(p5[11] == "8");
  CHECK(p0[18] == p5[18]);  // iteration_time_s
  // And a resume of that file keeps every row.
  o.resume = true;
  const auto again = gcsim::run_sweep(f.spec, o, gcsim::simulate_analytic);
  CHECK(again.resumed == 12);
}
