// Shared by the fuzz targets (fuzz/*_fuzz.cpp) and their regression test
// (tests/fuzz_regression_test.cpp): a scratch directory to hand inputs to the
// path-based readers, and a cursor over the fuzzer's bytes.
//
// The loaders take a path and resolve relative paths in a file ("profile =
// "../profiles/seed.toml"", a sweep's "base = "../h100-cluster.toml"") against
// its directory. So the sandbox mirrors scenarios/: its root holds a symlink
// to every entry of the source tree's scenarios/ folder (read only through
// them), and inputs are written below it, in root/in/.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <system_error>

#ifndef GCSIM_FUZZ_SCENARIOS_DIR
#error "define GCSIM_FUZZ_SCENARIOS_DIR (the source tree's scenarios/ folder)"
#endif

namespace gcsim::fuzz {

// A harness-level property broke (a round trip did not round-trip): a
// finding, distinct from every exception the code under test throws.
class PropertyViolation : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

class Sandbox {
 public:
  static Sandbox& get() {
    static Sandbox sandbox;
    return sandbox;
  }
  const std::filesystem::path& root() const { return root_; }

  // Writes bytes to root/in/<name> and returns its path.
  std::string write(const std::string& name, const void* data, std::size_t size) const {
    const std::filesystem::path p = root_ / "in" / name;
    std::ofstream f(p, std::ios::binary | std::ios::trunc);
    if (size) f.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
    f.close();
    if (!f) throw std::runtime_error("fuzz sandbox: cannot write " + p.string());
    return p.string();
  }

  ~Sandbox() {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);  // removes the symlinks, not what they point to
  }
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;

 private:
  Sandbox() {
    namespace fs = std::filesystem;
    fs::path base = fs::temp_directory_path();
    std::error_code ec;
    if (fs::is_directory("/dev/shm", ec) && ::access("/dev/shm", W_OK) == 0) base = "/dev/shm";
    root_ = base / ("gcsim-fuzz-" + std::to_string(::getpid()));
    fs::remove_all(root_, ec);
    fs::create_directories(root_ / "in");
    const fs::path scenarios = fs::absolute(GCSIM_FUZZ_SCENARIOS_DIR);
    for (const auto& entry : fs::directory_iterator(scenarios))
      fs::create_symlink(entry.path(), root_ / entry.path().filename());
  }
  std::filesystem::path root_;
};

// Reads fixed-size fields off the front of the input; missing bytes read as 0.
class Bytes {
 public:
  Bytes(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  std::uint8_t u8() { return at_ < size_ ? data_[at_++] : 0; }
  template <typename T>
  T le() {  // little-endian unsigned integer
    T v = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) v = static_cast<T>(v | (T{u8()} << (8 * i)));
    return v;
  }
  const std::uint8_t* rest() const { return data_ + (at_ < size_ ? at_ : size_); }
  std::size_t rest_size() const { return at_ < size_ ? size_ - at_ : 0; }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t at_ = 0;
};

}  // namespace gcsim::fuzz
