#include <catch2/catch.hpp>

#include <vector>

#include "kernels/dense_sum.h"

TEST_CASE("dense_sum reference adds elementwise and overwrites the output") {
  const std::vector<float> a = {1.0f, -2.0f, 3.5f}, b = {0.5f, 2.0f, -1.0f}, c = {0.0f, 1.0f, 1.0f};
  std::vector<float> out = {99.0f, 99.0f, 99.0f};
  gcsim::kernels::dense_sum_cpu({a.data(), b.data(), c.data()}, out.data(), 3);
  CHECK(out == std::vector<float>{1.5f, 1.0f, 3.5f});
  gcsim::kernels::dense_sum_cpu({}, out.data(), 3);
  CHECK(out == std::vector<float>{0.0f, 0.0f, 0.0f});
}
