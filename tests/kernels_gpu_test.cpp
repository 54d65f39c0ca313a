// GPU-specific tests of the "cuda" kernel backend, beyond the shared contract
// (kernel_contract_test.cpp): sizes where the kernels run many blocks and the
// boundary bin holds ~10^5 candidates, the scalar path for pointers that are
// not 16-byte aligned, workspace reuse across calls of different sizes, k = n,
// ties, and 64-bit indices (n > 2^31). Every result is compared against the
// "cpu-reference" backend (Top-K output is unordered and ties may be broken
// differently, so magnitudes are compared as sorted multisets).
#include <catch2/catch.hpp>

#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "kernels/backend.h"
#include "kernels/buffer.h"
#include "kernels/synthetic_gradient.h"
#include "kernels/magnitude_key.h"
#include "kernels/wire_format.h"

namespace {

namespace gk = gcsim::kernels;
using gk::Buffer;
using gk::Index;
using gk::normal_vector;


std::vector<float> sorted_magnitudes(const std::vector<float>& values) {
  std::vector<float> m(values.size());
  std::transform(values.begin(), values.end(), m.begin(), [](float v) { return std::fabs(v); });
  std::sort(m.begin(), m.end());
  return m;
}

std::vector<Index> sorted(std::vector<Index> v) {
  std::sort(v.begin(), v.end());
  return v;
}

// Bitwise float equality (+0 and -0 differ, NaN equals itself).
bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// Index of the first element where a and b differ, or -1.
template <class T>
std::ptrdiff_t first_difference(const std::vector<T>& a, const std::vector<T>& b) {
  if (a.size() != b.size()) return 0;
  const auto it = std::mismatch(a.begin(), a.end(), b.begin());
  return it.first == a.end() ? -1 : it.first - a.begin();
}

// The indices are distinct, in [0, n), and values[j] is x at indices[j].
void check_selection(const std::vector<float>& x, const std::vector<float>& values, const std::vector<Index>& indices) {
  REQUIRE(values.size() == indices.size());
  const std::vector<Index> s = sorted(indices);
  REQUIRE(std::adjacent_find(s.begin(), s.end()) == s.end());
  REQUIRE((s.empty() || (s.front() >= 0 && static_cast<std::size_t>(s.back()) < x.size())));
  std::size_t wrong = 0;
  for (std::size_t j = 0; j < values.size(); ++j)
    wrong += same_bits(values[j], x[static_cast<std::size_t>(indices[j])]) ? 0 : 1;
  REQUIRE(wrong == 0);
}

struct Selection {
  std::vector<float> values;
  std::vector<Index> indices;
};

Selection gpu_topk(gk::Backend& gpu, const float* x_device, std::size_t n, std::size_t k) {
  Buffer<float> v(gpu, k);
  Buffer<Index> i(gpu, k);
  gpu.topk(x_device, n, k, v.data(), i.data());
  return {v.download(), i.download()};
}

Selection reference_topk(const std::vector<float>& x, std::size_t k) {
  Selection s{std::vector<float>(k), std::vector<Index>(k)};
  gk::make_backend("cpu-reference")->topk(x.data(), x.size(), k, s.values.data(), s.indices.data());
  return s;
}

// ef_topk on the GPU and on the reference from the same (g, e); checks the
// selection, the multiset of magnitudes, and the residual: zero at the GPU's
// picks, acc = g + e elsewhere, equal to the reference's except where |acc|
// ties at the k-th magnitude.
void check_ef_topk_against_reference(gk::Backend& gpu, const std::vector<float>& g, const std::vector<float>& e0,
                                     std::size_t k, std::size_t pointer_offset) {
  const std::size_t n = g.size();
  Buffer<float> g_d(gpu, n + pointer_offset);
  Buffer<float> e_d(gpu, n + pointer_offset);
  gpu.upload(g_d.data() + pointer_offset, g.data(), n * sizeof(float));
  gpu.upload(e_d.data() + pointer_offset, e0.data(), n * sizeof(float));
  Buffer<float> v_d(gpu, k);
  Buffer<Index> i_d(gpu, k);
  gpu.ef_topk(g_d.data() + pointer_offset, e_d.data() + pointer_offset, n, k, v_d.data(), i_d.data());
  const std::vector<float> values = v_d.download();
  const std::vector<Index> indices = i_d.download();
  std::vector<float> e_gpu(n);
  gpu.download(e_gpu.data(), e_d.data() + pointer_offset, n * sizeof(float));

  std::vector<float> e_ref = e0;
  std::vector<float> v_ref(k);
  std::vector<Index> i_ref(k);
  gk::make_backend("cpu-reference")->ef_topk(g.data(), e_ref.data(), n, k, v_ref.data(), i_ref.data());

  std::vector<float> acc(n);
  for (std::size_t i = 0; i < n; ++i) acc[i] = g[i] + e0[i];
  check_selection(acc, values, indices);
  const std::vector<float> mag = sorted_magnitudes(values);
  INFO("first differing magnitude at " << first_difference(mag, sorted_magnitudes(v_ref)));
  REQUIRE(first_difference(mag, sorted_magnitudes(v_ref)) == -1);

  const float kth = k != 0 ? mag.front() : std::numeric_limits<float>::infinity();
  std::vector<char> picked(n, 0);
  for (const Index i : indices) picked[static_cast<std::size_t>(i)] = 1;
  std::size_t wrong_residual = 0;
  std::size_t differs_from_reference = 0;
  for (std::size_t i = 0; i < n; ++i) {
    wrong_residual += same_bits(e_gpu[i], picked[i] ? 0.0f : acc[i]) ? 0 : 1;
    if (std::fabs(acc[i]) != kth) differs_from_reference += same_bits(e_gpu[i], e_ref[i]) ? 0 : 1;
  }
  CHECK(wrong_residual == 0);
  CHECK(differs_from_reference == 0);
}

}  // namespace

TEST_CASE("cuda ef_topk matches the reference at N = 25M - rho = 0.01", "[gpu]") {
  auto gpu = gk::make_backend("cuda");
  const std::size_t n = 25'000'000;
  const std::vector<float> g = normal_vector(n, 1, 1.0f);
  const std::vector<float> e = normal_vector(n, 2, 0.1f);
  check_ef_topk_against_reference(*gpu, g, e, n / 100, 0);
}

TEST_CASE("cuda selects through the scalar path for pointers that are not 16-byte aligned", "[gpu]") {
  auto gpu = gk::make_backend("cuda");
  const std::size_t n = 30'000'003;
  const std::size_t k = 300'000;
  const std::vector<float> x = normal_vector(n, 3, 1.0f);

  SECTION("topk") {
    Buffer<float> x_d(*gpu, n + 1);
    gpu->upload(x_d.data() + 1, x.data(), n * sizeof(float));
    const Selection s = gpu_topk(*gpu, x_d.data() + 1, n, k);
    check_selection(x, s.values, s.indices);
    REQUIRE(first_difference(sorted_magnitudes(s.values), sorted_magnitudes(reference_topk(x, k).values)) == -1);
  }
  SECTION("ef_topk") { check_ef_topk_against_reference(*gpu, x, normal_vector(n, 4, 0.1f), k, 1); }
  SECTION("threshold_topk") {
    Buffer<float> x_d(*gpu, n + 1);
    gpu->upload(x_d.data() + 1, x.data(), n * sizeof(float));
    const gk::ThresholdOptions opts{0.001, 1024, 7};
    for (const std::size_t capacity : {2 * k, k / 2}) {
      INFO("capacity " << capacity);
      Buffer<float> v_d(*gpu, capacity);
      Buffer<Index> i_d(*gpu, capacity);
      const gk::ThresholdResult r = gpu->threshold_topk(x_d.data() + 1, n, k, capacity, opts, v_d.data(), i_d.data());
      std::vector<float> v_ref(capacity);
      std::vector<Index> i_ref(capacity);
      const gk::ThresholdResult ref = gk::make_backend("cpu-reference")
                                          ->threshold_topk(x.data(), n, k, capacity, opts, v_ref.data(), i_ref.data());
      REQUIRE(same_bits(r.threshold, ref.threshold));
      REQUIRE(r.above == ref.above);
      REQUIRE(r.selected == ref.selected);
      v_ref.resize(ref.selected);
      const Selection s{v_d.download(r.selected), i_d.download(r.selected)};
      check_selection(x, s.values, s.indices);
      REQUIRE(first_difference(sorted_magnitudes(s.values), sorted_magnitudes(v_ref)) == -1);
    }
  }
}

TEST_CASE("cuda reuses its workspace across calls of different sizes", "[gpu]") {
  auto gpu = gk::make_backend("cuda");
  auto ref = gk::make_backend("cpu-reference");
  std::uint64_t seed = 10;
  for (const std::size_t n : {1'000'000, 1'000, 2'000'001, 17, 1'000'000}) {
    for (const std::size_t k : {n / 100 + 1, n / 3, n}) {
      INFO("n = " << n << ", k = " << k);
      const std::vector<float> x = normal_vector(n, ++seed, 1.0f);
      Buffer<float> x_d(*gpu, x);
      const Selection s = gpu_topk(*gpu, x_d.data(), n, k);
      check_selection(x, s.values, s.indices);
      REQUIRE(first_difference(sorted_magnitudes(s.values), sorted_magnitudes(reference_topk(x, k).values)) == -1);

      Buffer<float> v_d(*gpu, k);
      Buffer<Index> i_d(*gpu, k);
      gpu->randomk(x_d.data(), n, k, seed, v_d.data(), i_d.data());
      std::vector<float> v_ref(k);
      std::vector<Index> i_ref(k);
      ref->randomk(x.data(), n, k, seed, v_ref.data(), i_ref.data());
      const Selection r{v_d.download(), i_d.download()};
      check_selection(x, r.values, r.indices);
      REQUIRE(first_difference(sorted(r.indices), sorted(i_ref)) == -1);
    }
  }
}

TEST_CASE("cuda Random-K picks the reference's subset at N = 25M", "[gpu]") {
  auto gpu = gk::make_backend("cuda");
  const std::size_t n = 25'000'000;
  const std::size_t k = 250'000;
  const std::vector<float> x = normal_vector(n, 5, 1.0f);
  Buffer<float> x_d(*gpu, x);
  for (const std::uint64_t seed : {1u, 2u, 3u}) {
    Buffer<float> v_d(*gpu, k);
    Buffer<Index> i_d(*gpu, k);
    gpu->randomk(x_d.data(), n, k, seed, v_d.data(), i_d.data());
    std::vector<float> v_ref(k);
    std::vector<Index> i_ref(k);
    gk::make_backend("cpu-reference")->randomk(x.data(), n, k, seed, v_ref.data(), i_ref.data());
    const Selection s{v_d.download(), i_d.download()};
    check_selection(x, s.values, s.indices);
    REQUIRE(first_difference(sorted(s.indices), sorted(i_ref)) == -1);
  }
}

TEST_CASE("cuda k = n selects everything at N = 1e6", "[gpu]") {
  auto gpu = gk::make_backend("cuda");
  const std::size_t n = 1'000'000;
  const std::vector<float> g = normal_vector(n, 6, 1.0f);
  const std::vector<float> e = normal_vector(n, 7, 0.1f);
  std::vector<Index> all(n);
  for (std::size_t i = 0; i < n; ++i) all[i] = static_cast<Index>(i);

  Buffer<float> g_d(*gpu, g);
  const Selection s = gpu_topk(*gpu, g_d.data(), n, n);
  check_selection(g, s.values, s.indices);
  REQUIRE(sorted(s.indices) == all);

  Buffer<float> e_d(*gpu, e);
  Buffer<float> v_d(*gpu, n);
  Buffer<Index> i_d(*gpu, n);
  gpu->ef_topk(g_d.data(), e_d.data(), n, n, v_d.data(), i_d.data());
  std::vector<float> acc(n);
  for (std::size_t i = 0; i < n; ++i) acc[i] = g[i] + e[i];
  check_selection(acc, v_d.download(), i_d.download());
  REQUIRE(sorted(i_d.download()) == all);
  const std::vector<float> residual = e_d.download();
  REQUIRE(std::all_of(residual.begin(), residual.end(), [](float r) { return r == 0.0f; }));
}

TEST_CASE("cuda takes exactly k of many tied magnitudes", "[gpu]") {
  auto gpu = gk::make_backend("cuda");
  const std::size_t n = 1'000'001;
  const std::size_t k = 12'345;
  std::vector<float> x(n);
  for (std::size_t i = 0; i < n; ++i) x[i] = i % 3 == 0 ? -1.5f : 1.5f;
  Buffer<float> x_d(*gpu, x);
  const Selection s = gpu_topk(*gpu, x_d.data(), n, k);
  check_selection(x, s.values, s.indices);

  const std::vector<float> g(n, 0.0f);
  Buffer<float> g_d(*gpu, g);
  Buffer<float> v_d(*gpu, k);
  Buffer<Index> i_d(*gpu, k);
  gpu->ef_topk(g_d.data(), x_d.data(), n, k, v_d.data(), i_d.data());
  check_selection(x, v_d.download(), i_d.download());
  const std::vector<float> residual = x_d.download();
  REQUIRE(static_cast<std::size_t>(std::count(residual.begin(), residual.end(), 0.0f)) == k);
}

TEST_CASE("cuda rejects a NaN in the scalar tail without writing outputs", "[gpu]") {
  auto gpu = gk::make_backend("cuda");
  const std::size_t n = 25'000'003;
  const std::size_t k = 1'000;
  std::vector<float> g = normal_vector(n, 8, 1.0f);
  g[n - 1] = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> e = normal_vector(n, 9, 0.1f);
  Buffer<float> g_d(*gpu, g);
  Buffer<float> e_d(*gpu, e);
  const std::vector<float> sentinel(k, 42.0f);
  Buffer<float> v_d(*gpu, sentinel);
  Buffer<Index> i_d(*gpu, std::vector<Index>(k, -7));

  CHECK_THROWS_AS(gpu->topk(g_d.data(), n, k, v_d.data(), i_d.data()), gk::NonFiniteError);
  try {
    gpu->ef_topk(g_d.data(), e_d.data(), n, k, v_d.data(), i_d.data());
    FAIL("ef_topk accepted a NaN");
  } catch (const gk::NonFiniteError& err) {
    CHECK(err.count() == 1);
  }
  CHECK(v_d.download() == sentinel);
  CHECK(i_d.download() == std::vector<Index>(k, -7));
  const std::vector<float> acc = e_d.download();
  std::size_t wrong = 0;
  for (std::size_t i = 0; i + 1 < n; ++i) wrong += same_bits(acc[i], g[i] + e[i]) ? 0 : 1;
  CHECK(wrong == 0);
  CHECK(std::isnan(acc[n - 1]));  // the GPU's NaN is canonical, its bits need not be the host's
}

TEST_CASE("cuda handles n > 2^31: 64-bit indices - select and wire format", "[gpu][huge]") {
  // x (8.6 GB), the candidate buffer for n (25.8 GB) and a dense sum (8.6 GB).
  std::size_t free_bytes = 0;
  std::size_t total_bytes = 0;
  REQUIRE(cudaMemGetInfo(&free_bytes, &total_bytes) == cudaSuccess);
  if (free_bytes < (std::size_t{48} << 30)) {
    WARN("skipped: needs 48 GiB of free device memory, " << (free_bytes >> 30) << " GiB free");
    return;
  }
  auto gpu = gk::make_backend("cuda");
  const std::size_t n = (std::size_t{1} << 31) + 7;
  const std::size_t planted = 100;
  Buffer<float> x_d(*gpu, n);
  x_d.zero();
  // Distinct magnitudes at indices on both sides of 2^31, one at n - 1 (in the scalar tail).
  std::vector<Index> where(planted);
  std::vector<float> what(planted);
  for (std::size_t j = 0; j < planted; ++j) {
    where[j] = static_cast<Index>(j % 2 == 0 ? j * 1'000'003 : n - 1 - (j - 1) * 999'983);
    what[j] = (j % 3 == 0 ? -1.0f : 1.0f) * (1.0f + static_cast<float>(j));
    gpu->upload(x_d.data() + where[j], &what[j], sizeof(float));
  }

  SECTION("the planted entries are the top 100") {
    const Selection s = gpu_topk(*gpu, x_d.data(), n, planted);
    REQUIRE(sorted(s.indices) == sorted(where));
    for (std::size_t j = 0; j < planted; ++j) {
      const auto at = std::find(where.begin(), where.end(), s.indices[j]) - where.begin();
      CHECK(same_bits(s.values[j], what[static_cast<std::size_t>(at)]));
    }

    // Round trip through the wire format with int64 indices.
    REQUIRE(gk::index_bytes(n) == 8);
    Buffer<float> v_d(*gpu, s.values);
    Buffer<Index> i_d(*gpu, s.indices);
    Buffer<std::byte> wire(*gpu, gk::wire_bytes(n, planted));
    gpu->pack(v_d.data(), i_d.data(), planted, n, wire.data());
    const std::vector<std::byte> bytes = wire.download();
    for (std::size_t j = 0; j < planted; ++j) {
      Index decoded = 0;
      std::memcpy(&decoded, bytes.data() + 4 * planted + 8 * j, sizeof decoded);
      CHECK(decoded == s.indices[j]);
    }
    Buffer<float> v2(*gpu, planted);
    Buffer<Index> i2(*gpu, planted);
    REQUIRE(gpu->unpack(wire.data(), wire.size(), n, v2.data(), i2.data()) == planted);
    CHECK(v2.download() == s.values);
    CHECK(i2.download() == s.indices);

    // Scatter twice into a dense tensor of n: every planted entry doubles.
    Buffer<float> dense(*gpu, n);
    dense.zero();
    const gk::SparseRef part{v2.data(), i2.data(), planted};
    const std::vector<gk::SparseRef> parts{part, part};
    gpu->scatter_add(parts.data(), parts.size(), dense.data(), n);
    for (std::size_t j = 0; j < planted; ++j) {
      float got = 0.0f;
      gpu->download(&got, dense.data() + where[j], sizeof got);
      CHECK(got == 2.0f * what[j]);
    }
  }

  SECTION("50 more than planted: ties among 2^31 zeros") {
    const Selection s = gpu_topk(*gpu, x_d.data(), n, planted + 50);
    const std::vector<Index> picked = sorted(s.indices);
    REQUIRE(std::adjacent_find(picked.begin(), picked.end()) == picked.end());
    std::size_t zeros = 0;
    for (std::size_t j = 0; j < s.indices.size(); ++j) {
      const bool is_planted = std::find(where.begin(), where.end(), s.indices[j]) != where.end();
      zeros += is_planted ? 0 : 1;
      if (!is_planted) CHECK(s.values[j] == 0.0f);
    }
    CHECK(zeros == 50);
    CHECK(picked.back() < static_cast<Index>(n));
  }
}
