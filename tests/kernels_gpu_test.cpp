#include <catch2/catch.hpp>

#include <random>
#include <vector>

#include "kernels/dense_sum.h"

TEST_CASE("dense_sum on CUDA matches the CPU reference", "[gpu]") {
  for (std::size_t n : {std::size_t{1}, std::size_t{1023}, std::size_t{1} << 20}) {
    std::mt19937 rng(42);
    std::normal_distribution<float> d;
    std::vector<std::vector<float>> bufs(4, std::vector<float>(n));
    std::vector<const float*> ptrs;
    for (auto& b : bufs) {
      for (auto& x : b) x = d(rng);
      ptrs.push_back(b.data());
    }
    std::vector<float> ref(n), gpu(n);
    gcsim::kernels::dense_sum_cpu(ptrs, ref.data(), n);
    gcsim::kernels::dense_sum_cuda(ptrs, gpu.data(), n);
    for (std::size_t i = 0; i < n; ++i) REQUIRE(gpu[i] == Approx(ref[i]).margin(1e-5));
  }
}
