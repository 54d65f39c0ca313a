// Deterministic test data for the trainer's tests: raw mt19937_64 output
// (specified by the standard) turned into uniforms by hand, so the data does
// not depend on the library's distributions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

class TestRng {
 public:
  explicit TestRng(std::uint64_t seed) : gen_(seed) {}
  double uniform01() { return static_cast<double>(gen_() >> 11) * 0x1.0p-53; }
  float uniform(double lo, double hi) { return static_cast<float>(lo + (hi - lo) * uniform01()); }
  std::size_t index(std::size_t n) { return static_cast<std::size_t>(gen_() % n); }
  std::vector<float> vec(std::size_t n, double lo = -1.0, double hi = 1.0) {
    std::vector<float> v(n);
    for (auto& x : v) x = uniform(lo, hi);
    return v;
  }
  // `count` 28x28 images with pixels in [-1, 2).
  std::vector<float> images(int count) { return vec(static_cast<std::size_t>(count) * 784, -1.0, 2.0); }
  // `count` labels in 0..9.
  std::vector<std::uint8_t> labels(int count) {
    std::vector<std::uint8_t> out(static_cast<std::size_t>(count));
    for (auto& l : out) l = static_cast<std::uint8_t>(index(10));
    return out;
  }

 private:
  std::mt19937_64 gen_;
};
