// Where relative paths resolve (a file's paths against its directory, --set
// paths against the current directory), outputs that are whole or absent and
// replace only regular files, and one-line messages.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "config/input_error.h"
#include "config/scenario_loader.h"
#include "config/sweep_loader.h"
#include "config/train_loader.h"
#include "sweep/atomic_file.h"

namespace fs = std::filesystem;
using gcsim::InputError;

namespace {

// A fresh directory per test case (ctest -j runs cases of this binary side by side).
fs::path fresh_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("gcsim_paths_test_" + std::to_string(getpid())) / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

std::string read(const fs::path& p) {
  std::ifstream f(p);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

const std::string kScenario = R"(profile = "p.toml"
[model]
name = "simplecnn"
batch_per_worker = 32
[compute]
forward_backward_ms = 10.0
[cluster]
workers = 2
[cluster.inter_node]
bandwidth_gbps = 10.0
[data]
dir = "images"
)";

// The default profile under another name, so that a test sees which one loaded.
void write_profile(const fs::path& p, const std::string& name) {
  std::string text = read(gcsim::default_profile_path());
  const auto at = text.find("name = ");
  REQUIRE(at != std::string::npos);
  text.replace(at, text.find('\n', at) - at, "name = \"" + name + "\"");
  write(p, text);
}

bool no_temporaries(const fs::path& dir) {
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().find(".tmp.") != std::string::npos) return false;
  return true;
}

}  // namespace

TEST_CASE("paths written in a scenario are relative to its directory", "[config][paths]") {
  const fs::path d = fresh_dir("file");
  write(d / "a" / "s.toml", kScenario);
  write_profile(d / "a" / "p.toml", "in-a");
  gcsim::ScenarioSource src = gcsim::read_scenario_source((d / "a" / "s.toml").string());
  CHECK(gcsim::build_scenario(src).profile.name == "in-a");
  CHECK(gcsim::read_train_settings(src).data_dir == (d / "a" / "images").string());
}

TEST_CASE("paths given with --set are relative to the current directory", "[config][paths]") {
  const fs::path d = fresh_dir("set");
  write(d / "a" / "s.toml", kScenario);
  write_profile(d / "a" / "p.toml", "in-a");
  write_profile(d / "cwd" / "mine.toml", "in-cwd");
  const fs::path old = fs::current_path();
  fs::current_path(d / "cwd");
  gcsim::ScenarioSource src = gcsim::read_scenario_source((d / "a" / "s.toml").string());
  gcsim::apply_sets(src, {"profile=mine.toml", "data.dir=imgs"});
  std::string profile, data_dir;
  try {
    profile = gcsim::build_scenario(src).profile.name;
    data_dir = gcsim::read_train_settings(src).data_dir;
  } catch (...) {
    fs::current_path(old);
    throw;
  }
  gcsim::ScenarioSource src2 = gcsim::read_scenario_source((d / "a" / "s.toml").string());
  gcsim::apply_sets(src2, {"data={dir = \"../x\"}"});  // a table set whole: its paths too
  const std::string data_dir2 = gcsim::read_train_settings(src2).data_dir;
  fs::current_path(old);
  CHECK(profile == "in-cwd");
  CHECK(data_dir == "imgs");
  CHECK(data_dir2 == "../x");
}

TEST_CASE("sweep axis paths are relative to the sweep file", "[config][paths][sweep]") {
  const fs::path d = fresh_dir("sweep");
  write(d / "a" / "s.toml", kScenario);
  write_profile(d / "a" / "p.toml", "in-a");
  write_profile(d / "b" / "q.toml", "in-b");
  write(d / "b" / "sw.toml", "base = \"../a/s.toml\"\n[axes]\nprofile = [\"q.toml\", \"../a/p.toml\"]\n");
  const gcsim::SweepSpec spec = gcsim::load_sweep((d / "b" / "sw.toml").string());
  CHECK(fs::path(spec.base_path) == (d / "a" / "s.toml").lexically_normal());
  const gcsim::ScenarioSource base = gcsim::read_scenario_source(spec.base_path);
  CHECK(gcsim::build_scenario(spec.point_source(base, 0)).profile.name == "in-b");
  CHECK(gcsim::build_scenario(spec.point_source(base, 1)).profile.name == "in-a");
}

TEST_CASE("write_file_atomically replaces only regular files", "[sweep][output]") {
  const fs::path d = fresh_dir("atomic");
  write(d / "target", "keep");
  fs::create_symlink(d / "target", d / "link");
  REQUIRE(::mkfifo((d / "fifo").c_str(), 0644) == 0);
  fs::create_directory(d / "dir");
  for (const char* name : {"link", "fifo", "dir"})
    CHECK_THROWS_AS(gcsim::write_file_atomically((d / name).string(), "x"), InputError);
  CHECK(fs::is_symlink(d / "link"));
  CHECK(read(d / "target") == "keep");
  CHECK(fs::is_fifo(d / "fifo"));
  CHECK(fs::is_directory(d / "dir"));
  gcsim::write_file_atomically((d / "target").string(), "new");
  CHECK(read(d / "target") == "new");
  CHECK_THROWS_AS(gcsim::write_file_atomically((d / "nodir" / "x").string(), "x"), InputError);
  CHECK(no_temporaries(d));
}

TEST_CASE("AtomicFileSet writes all of its files or none", "[sweep][output]") {
  const fs::path d = fresh_dir("set-of-files");
  {
    gcsim::AtomicFileSet files;
    files.stage((d / "a").string(), "A");
    files.stage((d / "b").string(), "B");
    fs::create_directory(d / "b");  // appears between the checks and the rename
    CHECK_THROWS_AS(files.commit(), InputError);
  }
  CHECK(!fs::exists(d / "a"));  // what this run wrote is removed again
  CHECK(fs::is_directory(d / "b"));
  CHECK(no_temporaries(d));
  {
    gcsim::AtomicFileSet files;
    files.stage((d / "c").string(), "C");
  }  // never committed
  CHECK(!fs::exists(d / "c"));
  CHECK(no_temporaries(d));
  {
    gcsim::AtomicFileSet files;
    files.stage((d / "a").string(), "A");
    files.stage((d / "c").string(), "C");
    files.commit();
  }
  CHECK(read(d / "a") == "A");
  CHECK(read(d / "c") == "C");
  {
    gcsim::AtomicFileSet files;  // without --force, a file that appears meanwhile is kept
    files.stage((d / "e").string(), "E", false);
    write(d / "e", "theirs");
    CHECK_THROWS_AS(files.commit(), InputError);
  }
  CHECK(read(d / "e") == "theirs");
  CHECK(no_temporaries(d));
  {
    gcsim::AtomicFileSet files;  // a failed set never deletes a file the user had (it replaced "a")
    files.stage((d / "a").string(), "A2");
    files.stage((d / "f").string(), "F");
    fs::create_directory(d / "f");
    CHECK_THROWS_AS(files.commit(), InputError);
  }
  CHECK(read(d / "a") == "A2");
  CHECK(no_temporaries(d));
}

TEST_CASE("messages stay on one line", "[config][bad-input]") {
  CHECK(gcsim::one_line("a\nb\tc\r\x01\x7f") == "a\\nb\\tc\\r\\x01\\x7f");
  CHECK(gcsim::one_line(gcsim::one_line("a\nb")) == "a\\nb");
  CHECK(gcsim::one_line("caf\xc3\xa9") == "caf\xc3\xa9");
  const InputError e("--set name=\"x\ny\"", "name", "bad\nvalue");
  CHECK(std::string(e.what()) == "--set name=\"x\\ny\": name: bad\\nvalue");
}
