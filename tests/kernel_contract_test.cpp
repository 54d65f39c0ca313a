// The kernel contract (kernels/backend.h): every backend named in
// GCSIM_CONTRACT_BACKENDS (a comma-separated list from CMake) is run on the
// same inputs as the "cpu-reference" oracle, and the oracle itself is checked
// against brute force (full sorts) at small sizes. Top-K outputs are unordered
// and ties may be broken either way, so selections are compared as sorted
// multisets of magnitude keys, plus values[j] == x[indices[j]] and distinct,
// in-range indices. Covers Top-K, fused error feedback (Stich et al. 2018),
// DGC's sampled threshold (Lin et al., ICLR 2018), Random-K, the wire format,
// scatter-add and dense sum. Only the public API is used, and data moves
// through Buffer/upload/download, so the file also runs against CUDA
// (kernel_contract_gpu_test.cpp, tag GCSIM_CONTRACT_TAG = "[gpu]").
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/backend.h"
#include "kernels/buffer.h"
#include "kernels/hash.h"
#include "kernels/magnitude_key.h"
#include "kernels/wire_format.h"

#if !defined(GCSIM_CONTRACT_BACKENDS) || !defined(GCSIM_CONTRACT_TAG)
#error "GCSIM_CONTRACT_BACKENDS and GCSIM_CONTRACT_TAG come from tests/CMakeLists.txt"
#endif

namespace {

using gcsim::kernels::Backend;
using gcsim::kernels::Buffer;
using gcsim::kernels::Index;
using gcsim::kernels::magnitude_key;
using gcsim::kernels::NonFiniteError;
using gcsim::kernels::SparseRef;
using gcsim::kernels::ThresholdOptions;
using gcsim::kernels::ThresholdResult;
using gcsim::kernels::WireFormatError;

// ---- backends ---------------------------------------------------------------

Backend& backend(const std::string& name) {
  static std::map<std::string, std::unique_ptr<Backend>> cache;
  auto& b = cache[name];
  if (!b) b = gcsim::kernels::make_backend(name, 0);
  return *b;
}

Backend& reference() { return backend("cpu-reference"); }

std::vector<std::string> backends_under_test() {
  std::vector<std::string> names;
  std::stringstream list(GCSIM_CONTRACT_BACKENDS);
  for (std::string name; std::getline(list, name, ',');)
    if (!name.empty()) names.push_back(name);
  return names;
}

// ---- data -------------------------------------------------------------------

enum class Data { gaussian, ties, zeros, negative };

const char* data_name(Data d) {
  switch (d) {
    case Data::ties:
      return "ties {-2,-1,1,2}";
    case Data::zeros:
      return "90% zeros (+0 and -0)";
    case Data::negative:
      return "all negative";
    case Data::gaussian:
      break;
  }
  return "gaussian";
}

std::vector<float> make_data(Data d, std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_int_distribution<int> pick(0, 3);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  std::vector<float> x(n);
  for (float& v : x) {
    switch (d) {
      case Data::gaussian:
        v = normal(rng);
        break;
      case Data::ties:
        v = std::array<float, 4>{-2.0f, -1.0f, 1.0f, 2.0f}[static_cast<std::size_t>(pick(rng))];
        break;
      case Data::zeros: {
        const float u = unit(rng);
        v = u < 0.45f ? 0.0f : u < 0.9f ? -0.0f : normal(rng);
        break;
      }
      case Data::negative:
        v = -std::fabs(normal(rng)) - 1e-3f;
        break;
    }
  }
  return x;
}

// 1, 2, 3, 1023, 1e5 (and 1e6 where `large`), then three seeded random sizes.
std::vector<std::size_t> sizes(bool large) {
  std::vector<std::size_t> s = {1, 2, 3, 1023, 100000};
  if (large) s.push_back(1000000);
  std::mt19937_64 rng(20240611);
  std::uniform_int_distribution<std::size_t> any(4, 30000);
  for (int i = 0; i < 3; ++i) s.push_back(any(rng));
  return s;
}

// k = 0, 1, ~1%, n / 2 and n.
std::vector<std::size_t> ks(std::size_t n) {
  std::set<std::size_t> s = {0, 1, std::max<std::size_t>(1, n / 100), n / 2, n};
  std::vector<std::size_t> out;
  for (std::size_t k : s)
    if (k <= n) out.push_back(k);
  return out;
}

std::uint32_t bits(float v) { return std::bit_cast<std::uint32_t>(v); }

// ---- selections -------------------------------------------------------------

struct Selection {
  std::vector<float> values;
  std::vector<Index> indices;
};

Selection run_topk(Backend& b, const std::vector<float>& x, std::size_t k) {
  Buffer<float> dx(b, x), values(b, k);
  Buffer<Index> indices(b, k);
  b.topk(dx.data(), x.size(), k, values.data(), indices.data());
  return {values.download(), indices.download()};
}

Selection run_randomk(Backend& b, const std::vector<float>& x, std::size_t k, std::uint64_t seed) {
  Buffer<float> dx(b, x), values(b, k);
  Buffer<Index> indices(b, k);
  b.randomk(dx.data(), x.size(), k, seed, values.data(), indices.data());
  return {values.download(), indices.download()};
}

// "" when `s` is k entries of x: indices in [0, n), distinct, values[j] the
// exact bits of x[indices[j]]; otherwise the first problem.
std::string selection_problem(const std::vector<float>& x, const Selection& s, std::size_t k) {
  if (s.values.size() != k || s.indices.size() != k) return "wrong output length";
  std::vector<Index> sorted = s.indices;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) return "an index is selected twice";
  for (std::size_t j = 0; j < k; ++j) {
    const Index i = s.indices[j];
    if (i < 0 || static_cast<std::size_t>(i) >= x.size()) return "index " + std::to_string(i) + " out of range";
    if (bits(s.values[j]) != bits(x[static_cast<std::size_t>(i)]))
      return "values[" + std::to_string(j) + "] is not x[" + std::to_string(i) + "]";
  }
  return "";
}

std::vector<std::uint32_t> sorted_keys(const std::vector<float>& values) {
  std::vector<std::uint32_t> keys(values.size());
  for (std::size_t j = 0; j < values.size(); ++j) keys[j] = magnitude_key(values[j]);
  std::sort(keys.begin(), keys.end());
  return keys;
}

// Brute force: the k largest magnitude keys of x, by a full sort.
std::vector<std::uint32_t> top_keys_by_sort(const std::vector<float>& x, std::size_t k) {
  std::vector<std::uint32_t> keys = sorted_keys(x);
  return {keys.end() - static_cast<std::ptrdiff_t>(k), keys.end()};
}

// "" when the two sorted sequences agree, else where they first differ.
template <class T>
std::string difference(const std::vector<T>& got, const std::vector<T>& want) {
  if (got.size() != want.size())
    return "sizes differ: " + std::to_string(got.size()) + " vs " + std::to_string(want.size());
  const auto m = std::mismatch(got.begin(), got.end(), want.begin());
  if (m.first == got.end()) return "";
  return "first difference at " + std::to_string(m.first - got.begin()) + ": " + std::to_string(*m.first) + " vs " +
         std::to_string(*m.second);
}

// The sorted randomk keys of the selected indices (hash ties make the index set non-unique).
std::vector<std::uint32_t> sorted_hash_keys(const std::vector<Index>& indices, std::uint64_t seed) {
  std::vector<std::uint32_t> keys;
  for (Index i : indices) keys.push_back(gcsim::kernels::randomk_key(seed, static_cast<std::uint64_t>(i)));
  std::sort(keys.begin(), keys.end());
  return keys;
}

// ---- non-finite inputs ------------------------------------------------------

constexpr float kSentinelValue = 12345.0f;
constexpr Index kSentinelIndex = -7;

// Output buffers pre-filled with sentinels, to show a rejected op wrote nothing.
struct SentinelOutputs {
  SentinelOutputs(Backend& b, std::size_t k)
      : values(b, std::vector<float>(k, kSentinelValue)), indices(b, std::vector<Index>(k, kSentinelIndex)) {}
  bool untouched() const {
    const auto v = values.download();
    const auto i = indices.download();
    return std::all_of(v.begin(), v.end(), [](float a) { return bits(a) == bits(kSentinelValue); }) &&
           std::all_of(i.begin(), i.end(), [](Index a) { return a == kSentinelIndex; });
  }
  Buffer<float> values;
  Buffer<Index> indices;
};

// x with NaN / +Inf / -Inf planted; `count` the number planted.
struct Poisoned {
  std::string what;
  std::vector<float> x;
  std::size_t count;
};

std::vector<Poisoned> poisoned_inputs(std::size_t n) {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  const std::vector<float> base = make_data(Data::gaussian, n, 99);
  std::vector<Poisoned> out;
  auto plant = [&](std::string what, std::vector<std::pair<std::size_t, float>> at) {
    std::vector<float> x = base;
    for (auto [i, v] : at) x[i] = v;
    out.push_back({std::move(what), std::move(x), at.size()});
  };
  plant("NaN first", {{0, nan}});
  plant("+Inf in the middle", {{n / 2, inf}});
  plant("-Inf last", {{n - 1, -inf}});
  plant("-NaN, +Inf and -Inf", {{1, -nan}, {n / 3, inf}, {n - 2, -inf}});
  return out;
}

// ---- the threshold, by brute force -------------------------------------------

// s = max(min_samples, ceil(fraction n), 1) samples; the ceil(k s / n)-th
// largest sampled magnitude, the rank clamped to [1, s].
float threshold_by_sort(const std::vector<float>& x, std::size_t k, const ThresholdOptions& o) {
  const std::size_t n = x.size();
  const auto by_fraction = static_cast<std::size_t>(std::ceil(o.sample_fraction * static_cast<double>(n)));
  const std::size_t s = std::max<std::size_t>({o.min_samples, by_fraction, 1});
  std::vector<float> mags(s);
  for (std::size_t j = 0; j < s; ++j) mags[j] = std::fabs(x[gcsim::kernels::sample_position(o.seed, j, n)]);
  std::sort(mags.begin(), mags.end(), std::greater<>());
  const std::size_t rank = std::clamp<std::size_t>((k * s + n - 1) / n, 1, s);
  return mags[rank - 1];
}

}  // namespace

// =============================================================================
// Top-K

TEST_CASE("topk: the reference equals a full sort", GCSIM_CONTRACT_TAG) {
  Backend& ref = reference();
  for (Data d : {Data::gaussian, Data::ties, Data::zeros, Data::negative})
    for (std::size_t n : sizes(false)) {
      const std::vector<float> x = make_data(d, n, n);
      for (std::size_t k : ks(n)) {
        INFO(data_name(d) << ", n = " << n << ", k = " << k);
        const Selection s = run_topk(ref, x, k);
        CHECK(selection_problem(x, s, k) == "");
        CHECK(difference(sorted_keys(s.values), top_keys_by_sort(x, k)) == "");
      }
    }
}

TEST_CASE("topk: every backend selects the reference's magnitudes", GCSIM_CONTRACT_TAG) {
  for (Data d : {Data::gaussian, Data::ties, Data::zeros, Data::negative})
    for (std::size_t n : sizes(d == Data::gaussian || d == Data::zeros)) {
      const std::vector<float> x = make_data(d, n, n + 1);
      for (std::size_t k : n > 100000 ? std::vector<std::size_t>{1, n / 100} : ks(n)) {
        const std::vector<std::uint32_t> want = sorted_keys(run_topk(reference(), x, k).values);
        for (const std::string& name : backends_under_test()) {
          INFO(name << ": " << data_name(d) << ", n = " << n << ", k = " << k);
          const Selection s = run_topk(backend(name), x, k);
          CHECK(selection_problem(x, s, k) == "");
          CHECK(difference(sorted_keys(s.values), want) == "");
        }
      }
    }
}

TEST_CASE("topk: ties at the k-th magnitude are filled from the tied entries", GCSIM_CONTRACT_TAG) {
  // 90% zeros and k beyond the nonzero count: every nonzero, then zeros.
  const std::vector<float> x = make_data(Data::zeros, 20000, 5);
  const auto nonzero = static_cast<std::size_t>(std::count_if(x.begin(), x.end(), [](float v) { return v != 0.0f; }));
  REQUIRE(nonzero > 1000);
  const std::size_t k = nonzero + 500;
  for (const std::string& name : backends_under_test()) {
    INFO(name);
    const Selection s = run_topk(backend(name), x, k);
    REQUIRE(selection_problem(x, s, k) == "");
    CHECK(std::count(s.values.begin(), s.values.end(), 0.0f) == 500);
    std::set<Index> chosen(s.indices.begin(), s.indices.end());
    for (std::size_t i = 0; i < x.size(); ++i)
      if (x[i] != 0.0f) CHECK(chosen.count(static_cast<Index>(i)) == 1);
  }
  // Magnitudes {1, 2}: all the 2s, and k - (#2s) of the 1s, signs kept.
  const std::vector<float> t = make_data(Data::ties, 5000, 6);
  const auto twos =
      static_cast<std::size_t>(std::count_if(t.begin(), t.end(), [](float v) { return std::fabs(v) == 2.0f; }));
  for (const std::string& name : backends_under_test()) {
    INFO(name);
    const Selection s = run_topk(backend(name), t, twos + 7);
    REQUIRE(selection_problem(t, s, twos + 7) == "");
    CHECK(std::count_if(s.values.begin(), s.values.end(), [](float v) { return std::fabs(v) == 1.0f; }) == 7);
    CHECK(std::count_if(s.values.begin(), s.values.end(), [](float v) { return v < 0.0f; }) > 0);
  }
}

TEST_CASE("topk: NaN and Inf are rejected and nothing is written", GCSIM_CONTRACT_TAG) {
  for (const std::string& name : backends_under_test()) {
    Backend& b = backend(name);
    for (std::size_t n : {std::size_t{1000}, std::size_t{100000}})
      for (const Poisoned& p : poisoned_inputs(n)) {
        INFO(name << ": " << p.what << ", n = " << n);
        const std::size_t k = 10;
        Buffer<float> x(b, p.x);
        SentinelOutputs out(b, k);
        try {
          b.topk(x.data(), n, k, out.values.data(), out.indices.data());
          FAIL("no NonFiniteError");
        } catch (const NonFiniteError& e) {
          CHECK(e.count() == p.count);
        }
        CHECK(out.untouched());
      }
    // A lone entry: k = n = 1.
    Buffer<float> one(b, std::vector<float>{std::numeric_limits<float>::infinity()});
    SentinelOutputs out(b, 1);
    CHECK_THROWS_AS(b.topk(one.data(), 1, 1, out.values.data(), out.indices.data()), NonFiniteError);
    CHECK(out.untouched());
  }
}

TEST_CASE("selection ops: k > n is an invalid argument", GCSIM_CONTRACT_TAG) {
  for (const std::string& name : backends_under_test()) {
    INFO(name);
    Backend& b = backend(name);
    Buffer<float> x(b, make_data(Data::gaussian, 10, 1)), e(b, 10), values(b, 12);
    Buffer<Index> indices(b, 12);
    CHECK_THROWS_AS(b.topk(x.data(), 10, 11, values.data(), indices.data()), std::invalid_argument);
    CHECK_THROWS_AS(b.ef_topk(x.data(), e.data(), 10, 11, values.data(), indices.data()), std::invalid_argument);
    CHECK_THROWS_AS(b.threshold_topk(x.data(), 10, 11, 12, {}, values.data(), indices.data()), std::invalid_argument);
    CHECK_THROWS_AS(b.randomk(x.data(), 10, 11, 1, values.data(), indices.data()), std::invalid_argument);
    CHECK_THROWS_AS(b.topk(x.data(), 0, 1, values.data(), indices.data()), std::invalid_argument);
  }
}

// =============================================================================
// Fused error feedback

TEST_CASE("ef_topk: one step is accumulate - select the top k - zero them", GCSIM_CONTRACT_TAG) {
  std::vector<std::string> names = backends_under_test();
  names.insert(names.begin(), "cpu-reference");
  for (Data d : {Data::gaussian, Data::ties, Data::zeros})
    for (std::size_t n : sizes(d == Data::gaussian)) {
      const std::vector<float> g = make_data(d, n, 3 * n), e0 = make_data(Data::gaussian, n, 3 * n + 1);
      std::vector<float> acc(n);
      for (std::size_t i = 0; i < n; ++i) acc[i] = g[i] + e0[i];
      const std::vector<std::uint32_t> acc_keys = sorted_keys(acc);
      for (std::size_t k : n > 100000 ? std::vector<std::size_t>{n / 100} : ks(n)) {
        const std::vector<std::uint32_t> want(acc_keys.end() - static_cast<std::ptrdiff_t>(k), acc_keys.end());
        for (const std::string& name : names) {
          INFO(name << ": " << data_name(d) << ", n = " << n << ", k = " << k);
          Backend& b = backend(name);
          Buffer<float> dg(b, g), de(b, e0), values(b, k);
          Buffer<Index> indices(b, k);
          b.ef_topk(dg.data(), de.data(), n, k, values.data(), indices.data());
          const Selection s{values.download(), indices.download()};
          REQUIRE(selection_problem(acc, s, k) == "");
          CHECK(difference(sorted_keys(s.values), want) == "");
          std::vector<float> expected = acc;
          for (Index i : s.indices) expected[static_cast<std::size_t>(i)] = 0.0f;
          const std::vector<float> e = de.download();
          std::size_t wrong = 0;
          for (std::size_t i = 0; i < n; ++i) wrong += bits(e[i]) != bits(expected[i]) ? 1 : 0;
          CHECK(wrong == 0);
        }
      }
    }
}

TEST_CASE("ef_topk: over 20 steps - emitted + residual == sum of gradients", GCSIM_CONTRACT_TAG) {
  std::vector<std::string> names = backends_under_test();
  names.insert(names.begin(), "cpu-reference");
  const std::size_t n = 20000, k = 150, steps = 20;
  for (const std::string& name : names) {
    INFO(name);
    Backend& b = backend(name);
    Buffer<float> e(b, n), values(b, k);
    Buffer<Index> indices(b, k);
    e.zero();
    std::vector<double> emitted(n, 0.0), sum_g(n, 0.0), sum_abs_g(n, 0.0);
    for (std::size_t t = 0; t < steps; ++t) {
      std::vector<float> g = make_data(Data::gaussian, n, 1000 + t);
      for (std::size_t i = 0; i < n; ++i) g[i] *= 1.0f + static_cast<float>(i % 7);  // uneven scales
      for (std::size_t i = 0; i < n; ++i) {
        sum_g[i] += g[i];
        sum_abs_g[i] += std::fabs(g[i]);
      }
      Buffer<float> dg(b, g);
      b.ef_topk(dg.data(), e.data(), n, k, values.data(), indices.data());
      const Selection s{values.download(), indices.download()};
      REQUIRE(s.indices.size() == k);
      for (std::size_t j = 0; j < k; ++j) emitted[static_cast<std::size_t>(s.indices[j])] += s.values[j];
    }
    const std::vector<float> residual = e.download();
    std::size_t violations = 0, touched = 0;
    for (std::size_t i = 0; i < n; ++i) {
      touched += emitted[i] != 0.0 ? 1 : 0;
      const double err = std::fabs(emitted[i] + residual[i] - sum_g[i]);
      violations += err > 1e-5 * sum_abs_g[i] + 1e-30 ? 1 : 0;
    }
    CHECK(violations == 0);
    CHECK(touched > k);  // entries beyond the first step's were emitted
  }
}

TEST_CASE("ef_topk: non-finite accumulators are rejected - e keeps g + e", GCSIM_CONTRACT_TAG) {
  const float big = 3.0e38f;  // finite, but big + big overflows to +Inf
  for (const std::string& name : backends_under_test()) {
    Backend& b = backend(name);
    const std::size_t n = 5000, k = 20;
    std::vector<Poisoned> cases = poisoned_inputs(n);
    std::vector<float> overflow = make_data(Data::gaussian, n, 98);
    overflow[17] = big;
    cases.push_back({"finite g whose g + e overflows", overflow, 1});
    for (const Poisoned& p : cases) {
      INFO(name << ": " << p.what);
      std::vector<float> e0 = make_data(Data::gaussian, n, 97);
      e0[17] = big;
      Buffer<float> g(b, p.x), e(b, e0);
      SentinelOutputs out(b, k);
      try {
        b.ef_topk(g.data(), e.data(), n, k, out.values.data(), out.indices.data());
        FAIL("no NonFiniteError");
      } catch (const NonFiniteError& err) {
        CHECK(err.count() == p.count);
      }
      CHECK(out.untouched());
      const std::vector<float> got = e.download();
      std::size_t wrong = 0;
      for (std::size_t i = 0; i < n; ++i) {
        const float want = p.x[i] + e0[i];
        wrong += std::isnan(want) ? !std::isnan(got[i]) : bits(got[i]) != bits(want);
      }
      CHECK(wrong == 0);
    }
  }
}

TEST_CASE("ef_topk: k = 0 selects nothing and leaves e = g + e", GCSIM_CONTRACT_TAG) {
  for (const std::string& name : backends_under_test()) {
    INFO(name);
    Backend& b = backend(name);
    const std::vector<float> g = make_data(Data::gaussian, 1000, 4), e0 = make_data(Data::ties, 1000, 5);
    Buffer<float> dg(b, g), de(b, e0);
    b.ef_topk(dg.data(), de.data(), 1000, 0, nullptr, nullptr);
    const std::vector<float> e = de.download();
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < 1000; ++i) wrong += bits(e[i]) != bits(g[i] + e0[i]) ? 1 : 0;
    CHECK(wrong == 0);
  }
}

// =============================================================================
// DGC's sampled threshold

TEST_CASE("threshold_topk: the sampled threshold and everything at or above it", GCSIM_CONTRACT_TAG) {
  std::vector<std::string> names = backends_under_test();
  names.insert(names.begin(), "cpu-reference");
  const std::vector<ThresholdOptions> options = {{}, {0.05, 10, 42}, {0.001, 1, 7}};
  for (Data d : {Data::gaussian, Data::ties, Data::zeros})
    for (std::size_t n : sizes(d == Data::gaussian)) {
      const std::vector<float> x = make_data(d, n, 5 * n);
      for (std::size_t k : n > 100000 ? std::vector<std::size_t>{n / 100} : ks(n))
        for (const ThresholdOptions& o : options) {
          const float t = threshold_by_sort(x, k, o);
          const auto above =
              static_cast<std::size_t>(std::count_if(x.begin(), x.end(), [t](float v) { return std::fabs(v) >= t; }));
          for (const std::string& name : names) {
            INFO(name << ": " << data_name(d) << ", n = " << n << ", k = " << k << ", seed " << o.seed << ", fraction "
                      << o.sample_fraction << ", min_samples " << o.min_samples);
            Backend& b = backend(name);
            Buffer<float> dx(b, x), values(b, n);
            Buffer<Index> indices(b, n);
            const ThresholdResult r = b.threshold_topk(dx.data(), n, k, n, o, values.data(), indices.data());
            REQUIRE(bits(r.threshold) == bits(t));  // identical samples: identical threshold everywhere
            REQUIRE(r.above == above);
            REQUIRE(r.selected == above);
            const Selection s{values.download(r.selected), indices.download(r.selected)};
            REQUIRE(selection_problem(x, s, r.selected) == "");
            // all selected are >= t, so with the count right every unselected one is < t
            CHECK(std::all_of(s.values.begin(), s.values.end(), [t](float v) { return std::fabs(v) >= t; }));
          }
        }
    }
}

TEST_CASE("threshold_topk: more than capacity above the threshold keeps the exact top capacity", GCSIM_CONTRACT_TAG) {
  std::vector<std::string> names = backends_under_test();
  names.insert(names.begin(), "cpu-reference");
  for (Data d : {Data::gaussian, Data::zeros, Data::ties}) {
    const std::size_t n = 100000, k = 2000;
    const std::vector<float> x = make_data(d, n, 11);
    const ThresholdOptions o{0.01, 1024, 3};
    const float t = threshold_by_sort(x, k, o);
    const auto above =
        static_cast<std::size_t>(std::count_if(x.begin(), x.end(), [t](float v) { return std::fabs(v) >= t; }));
    for (std::size_t capacity : {std::size_t{0}, std::size_t{1}, above / 2, above - 1}) {
      for (const std::string& name : names) {
        INFO(name << ": " << data_name(d) << ", capacity " << capacity << " of " << above);
        Backend& b = backend(name);
        Buffer<float> dx(b, x), values(b, capacity);
        Buffer<Index> indices(b, capacity);
        const ThresholdResult r = b.threshold_topk(dx.data(), n, k, capacity, o, values.data(), indices.data());
        CHECK(bits(r.threshold) == bits(t));
        CHECK(r.above == above);
        REQUIRE(r.selected == capacity);
        const Selection s{values.download(), indices.download()};
        CHECK(selection_problem(x, s, capacity) == "");
        CHECK(difference(sorted_keys(s.values), top_keys_by_sort(x, capacity)) == "");
      }
    }
  }
}

TEST_CASE("threshold_topk: NaN and Inf are rejected and nothing is written", GCSIM_CONTRACT_TAG) {
  for (const std::string& name : backends_under_test()) {
    Backend& b = backend(name);
    for (const Poisoned& p : poisoned_inputs(20000)) {
      INFO(name << ": " << p.what);
      Buffer<float> x(b, p.x);
      SentinelOutputs out(b, 1000);
      try {
        b.threshold_topk(x.data(), p.x.size(), 200, 1000, {}, out.values.data(), out.indices.data());
        FAIL("no NonFiniteError");
      } catch (const NonFiniteError& e) {
        CHECK(e.count() == p.count);
      }
      CHECK(out.untouched());
    }
  }
}

// =============================================================================
// Random-K

TEST_CASE("randomk: the reference takes the k smallest hashes", GCSIM_CONTRACT_TAG) {
  for (std::size_t n : sizes(false)) {
    const std::vector<float> x = make_data(Data::gaussian, n, 7 * n);
    std::vector<std::uint32_t> all(n);
    for (std::uint64_t seed : {0ull, 1ull, 123456789ull}) {
      for (std::size_t i = 0; i < n; ++i) all[i] = gcsim::kernels::randomk_key(seed, i);
      std::sort(all.begin(), all.end());
      for (std::size_t k : ks(n)) {
        INFO("n = " << n << ", k = " << k << ", seed " << seed);
        const Selection s = run_randomk(reference(), x, k, seed);
        CHECK(selection_problem(x, s, k) == "");
        CHECK(difference(sorted_hash_keys(s.indices, seed),
                         std::vector<std::uint32_t>(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(k))) == "");
      }
    }
  }
}

TEST_CASE("randomk: every backend picks the reference's subset", GCSIM_CONTRACT_TAG) {
  for (const std::string& name : backends_under_test()) {
    Backend& b = backend(name);
    for (std::size_t n : sizes(true)) {
      const std::vector<float> x = make_data(Data::negative, n, 7 * n + 1);
      for (std::size_t k : n > 100000 ? std::vector<std::size_t>{n / 100} : ks(n))
        for (std::uint64_t seed : {5ull, 6ull}) {
          INFO(name << ": n = " << n << ", k = " << k << ", seed " << seed);
          const Selection s = run_randomk(b, x, k, seed);
          CHECK(selection_problem(x, s, k) == "");
          CHECK(difference(sorted_hash_keys(s.indices, seed),
                           sorted_hash_keys(run_randomk(reference(), x, k, seed).indices, seed)) == "");
        }
    }
  }
}

TEST_CASE("randomk: seeds give different - roughly uniform subsets", GCSIM_CONTRACT_TAG) {
  for (const std::string& name : backends_under_test()) {
    INFO(name);
    Backend& b = backend(name);
    const std::vector<float> x = make_data(Data::gaussian, 100000, 8);
    const Selection a = run_randomk(b, x, 1000, 1), c = run_randomk(b, x, 1000, 2);
    const std::set<Index> sa(a.indices.begin(), a.indices.end());
    const auto shared = std::count_if(c.indices.begin(), c.indices.end(), [&](Index i) { return sa.count(i) > 0; });
    CHECK(shared < 100);  // about k^2 / n = 10 expected by chance

    // 10 equal blocks of n = 10000, k = 100 over 300 seeds: 3000 picks per block expected.
    const std::vector<float> y = make_data(Data::gaussian, 10000, 9);
    std::vector<std::size_t> per_block(10, 0);
    for (std::uint64_t seed = 0; seed < 300; ++seed)
      for (Index i : run_randomk(b, y, 100, seed).indices) ++per_block[static_cast<std::size_t>(i) / 1000];
    for (std::size_t blk = 0; blk < 10; ++blk) {
      INFO("block " << blk);
      CHECK(per_block[blk] > 2500);
      CHECK(per_block[blk] < 3500);
    }
  }
}

TEST_CASE("randomk: only the selected values are checked for NaN and Inf", GCSIM_CONTRACT_TAG) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (const std::string& name : backends_under_test()) {
    INFO(name);
    Backend& b = backend(name);
    const std::size_t n = 10000, k = 50;
    std::vector<float> x = make_data(Data::gaussian, n, 10);
    const Selection clean = run_randomk(b, x, k, 77);
    const std::set<Index> chosen(clean.indices.begin(), clean.indices.end());
    std::size_t unselected = 0;
    while (chosen.count(static_cast<Index>(unselected))) ++unselected;

    std::vector<float> outside = x;  // NaN where randomk does not look
    outside[unselected] = nan;
    const Selection s = run_randomk(b, outside, k, 77);
    CHECK(difference(sorted_hash_keys(s.indices, 77), sorted_hash_keys(clean.indices, 77)) == "");

    std::vector<float> inside = x;  // NaN and Inf at two selected indices
    inside[static_cast<std::size_t>(clean.indices[3])] = nan;
    inside[static_cast<std::size_t>(clean.indices[k - 1])] = -std::numeric_limits<float>::infinity();
    Buffer<float> dx(b, inside);
    SentinelOutputs out(b, k);
    try {
      b.randomk(dx.data(), n, k, 77, out.values.data(), out.indices.data());
      FAIL("no NonFiniteError");
    } catch (const NonFiniteError& e) {
      CHECK(e.count() == 2);
    }
    CHECK(out.untouched());
  }
}

// =============================================================================
// Wire format

TEST_CASE("wire format: int32 indices below 2^31 entries - int64 from there", GCSIM_CONTRACT_TAG) {
  using namespace gcsim::kernels;
  CHECK(index_bytes(1) == 4);
  CHECK(index_bytes(kInt32IndexLimit - 1) == 4);
  CHECK(index_bytes(kInt32IndexLimit) == 8);
  CHECK(wire_bytes(25'000'000, 250'000) == 2'000'000);
  CHECK(wire_bytes(std::size_t{3} << 31, 10) == 120);
}

TEST_CASE("wire format: pack lays out values then indices and unpack round-trips", GCSIM_CONTRACT_TAG) {
  for (const std::string& name : backends_under_test()) {
    Backend& b = backend(name);
    for (std::size_t n : sizes(false)) {
      const std::vector<float> x = make_data(Data::negative, n, 13 * n);
      for (std::size_t k : ks(n)) {
        INFO(name << ": n = " << n << ", k = " << k);
        const Selection sel = run_topk(reference(), x, k);
        Buffer<float> values(b, sel.values), back_values(b, k);
        Buffer<Index> indices(b, sel.indices), back_indices(b, k);
        const std::size_t bytes = gcsim::kernels::wire_bytes(n, k);
        Buffer<std::byte> wire(b, bytes);
        b.pack(values.data(), indices.data(), k, n, wire.data());
        const std::vector<std::byte> w = wire.download();
        REQUIRE(w.size() == bytes);
        std::size_t misplaced = 0;
        for (std::size_t j = 0; j < k; ++j) {
          float v;
          std::int32_t i;
          std::memcpy(&v, w.data() + 4 * j, 4);
          std::memcpy(&i, w.data() + 4 * k + 4 * j, 4);
          misplaced += bits(v) != bits(sel.values[j]) || i != sel.indices[j] ? 1 : 0;
        }
        CHECK(misplaced == 0);
        CHECK(b.unpack(wire.data(), bytes, n, back_values.data(), back_indices.data()) == k);
        CHECK(back_indices.download() == sel.indices);
        const std::vector<float> got = back_values.download();
        CHECK(std::equal(got.begin(), got.end(), sel.values.begin(),
                         [](float a, float c) { return bits(a) == bits(c); }));
      }
    }
    // A tensor past 2^31 entries: 8-byte indices (the data itself is never touched).
    const std::size_t big = std::size_t{3} << 31;
    const std::vector<Index> idx = {0, Index{1} << 31, static_cast<Index>(big - 1), 5};
    const std::vector<float> val = {1.0f, -2.0f, 3.5f, -0.0f};
    Buffer<float> dv(b, val), bv(b, 4);
    Buffer<Index> di(b, idx), bi(b, 4);
    Buffer<std::byte> wire(b, gcsim::kernels::wire_bytes(big, 4));
    b.pack(dv.data(), di.data(), 4, big, wire.data());
    const std::vector<std::byte> w = wire.download();
    for (std::size_t j = 0; j < 4; ++j) {
      std::int64_t i;
      std::memcpy(&i, w.data() + 16 + 8 * j, 8);
      CHECK(i == idx[j]);
    }
    CHECK(b.unpack(wire.data(), w.size(), big, bv.data(), bi.data()) == 4);
    CHECK(bi.download() == idx);
    CHECK(bits(bv.download()[3]) == bits(-0.0f));
  }
}

TEST_CASE("wire format: malformed buffers throw WireFormatError", GCSIM_CONTRACT_TAG) {
  for (const std::string& name : backends_under_test()) {
    INFO(name);
    Backend& b = backend(name);
    const std::size_t n = 1000, k = 6;
    Buffer<float> values(b, k);
    Buffer<Index> indices(b, k);
    // A host-made wire buffer: values 0..5, indices given as int32.
    auto wire_with = [&](std::vector<std::int32_t> idx) {
      std::vector<std::byte> w(gcsim::kernels::wire_bytes(n, k));
      for (std::size_t j = 0; j < k; ++j) {
        const float v = static_cast<float>(j);
        std::memcpy(w.data() + 4 * j, &v, 4);
        std::memcpy(w.data() + 4 * k + 4 * j, &idx[j], 4);
      }
      return Buffer<std::byte>(b, w);
    };
    Buffer<std::byte> good = wire_with({0, 1, 2, 997, 998, 999});
    CHECK(b.unpack(good.data(), good.size(), n, values.data(), indices.data()) == k);
    CHECK(indices.download() == std::vector<Index>{0, 1, 2, 997, 998, 999});
    CHECK_THROWS_AS(b.unpack(good.data(), good.size() - 1, n, values.data(), indices.data()), WireFormatError);
    CHECK_THROWS_AS(b.unpack(good.data(), 4, n, values.data(), indices.data()), WireFormatError);
    CHECK(b.unpack(good.data(), 0, n, values.data(), indices.data()) == 0);
    Buffer<std::byte> at_n = wire_with({0, 1, 2, 3, 1000, 5});
    CHECK_THROWS_AS(b.unpack(at_n.data(), at_n.size(), n, values.data(), indices.data()), WireFormatError);
    Buffer<std::byte> negative = wire_with({0, -1, 2, 3, 4, 5});
    CHECK_THROWS_AS(b.unpack(negative.data(), negative.size(), n, values.data(), indices.data()), WireFormatError);
    // 8-byte indices (n >= 2^31): an index equal to n.
    const std::size_t big = std::size_t{1} << 31;
    std::vector<std::byte> w(gcsim::kernels::wire_bytes(big, 1));
    const std::int64_t too_far = static_cast<std::int64_t>(big);
    std::memcpy(w.data() + 4, &too_far, 8);
    Buffer<std::byte> wide(b, w);
    CHECK_THROWS_AS(b.unpack(wide.data(), wide.size(), big, values.data(), indices.data()), WireFormatError);
  }
}

// =============================================================================
// Reductions

TEST_CASE("scatter_add: duplicates within and across parts add up", GCSIM_CONTRACT_TAG) {
  for (const std::string& name : backends_under_test()) {
    INFO(name);
    Backend& b = backend(name);
    // Half-integer values and a 50-entry index range: many duplicates, exact sums in any order.
    const std::size_t n = 1000;
    std::mt19937_64 rng(14);
    std::uniform_int_distribution<Index> hot(0, 49);
    std::uniform_int_distribution<int> half(-20, 20);
    std::vector<float> dense0(n);
    for (std::size_t i = 0; i < n; ++i) dense0[i] = 0.25f * static_cast<float>(i);
    std::vector<double> want(dense0.begin(), dense0.end());
    std::vector<Buffer<float>> vbufs;
    std::vector<Buffer<Index>> ibufs;
    std::vector<SparseRef> parts;
    for (std::size_t k : {300, 0, 5, 120}) {
      std::vector<float> v(k);
      std::vector<Index> idx(k);
      for (std::size_t j = 0; j < k; ++j) {
        v[j] = 0.5f * static_cast<float>(half(rng));
        idx[j] = j % 3 == 0 ? static_cast<Index>(n - 1) : hot(rng);
        want[static_cast<std::size_t>(idx[j])] += v[j];
      }
      vbufs.emplace_back(b, v);
      ibufs.emplace_back(b, idx);
      parts.push_back({vbufs.back().data(), ibufs.back().data(), k});
    }
    Buffer<float> dense(b, dense0);
    b.scatter_add(parts.data(), parts.size(), dense.data(), n);
    const std::vector<float> got = dense.download();
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < n; ++i) wrong += got[i] != static_cast<float>(want[i]) ? 1 : 0;
    CHECK(wrong == 0);
    b.scatter_add(parts.data(), 0, dense.data(), n);  // no parts: unchanged
    CHECK(dense.download() == got);
  }
}

TEST_CASE("scatter_add: gaussian parts against a double-precision sum", GCSIM_CONTRACT_TAG) {
  for (const std::string& name : backends_under_test()) {
    INFO(name);
    Backend& b = backend(name);
    const std::size_t n = 100000;
    std::mt19937_64 rng(15);
    std::uniform_int_distribution<Index> any(0, static_cast<Index>(n - 1));
    std::vector<double> want(n, 0.0), scale(n, 0.0);
    std::vector<Buffer<float>> vbufs;
    std::vector<Buffer<Index>> ibufs;
    std::vector<SparseRef> parts;
    for (std::size_t p = 0; p < 40; ++p) {  // more parts than one launch takes on the GPU
      const std::vector<float> v = make_data(Data::gaussian, 5000, 100 + p);
      std::vector<Index> idx(v.size());
      for (std::size_t j = 0; j < v.size(); ++j) {
        idx[j] = any(rng);
        want[static_cast<std::size_t>(idx[j])] += v[j];
        scale[static_cast<std::size_t>(idx[j])] += std::fabs(v[j]);
      }
      vbufs.emplace_back(b, v);
      ibufs.emplace_back(b, idx);
      parts.push_back({vbufs.back().data(), ibufs.back().data(), v.size()});
    }
    Buffer<float> dense(b, n);
    dense.zero();
    b.scatter_add(parts.data(), parts.size(), dense.data(), n);
    const std::vector<float> got = dense.download();
    std::size_t off = 0;
    for (std::size_t i = 0; i < n; ++i) off += std::fabs(got[i] - want[i]) > 1e-5 * scale[i] + 1e-30 ? 1 : 0;
    CHECK(off == 0);
  }
}

TEST_CASE("dense_sum: overwrites out with the sum of the inputs", GCSIM_CONTRACT_TAG) {
  for (const std::string& name : backends_under_test()) {
    Backend& b = backend(name);
    for (std::size_t n : sizes(false))
      for (std::size_t m : {0, 1, 3, 40}) {
        INFO(name << ": n = " << n << ", " << m << " inputs");
        std::vector<Buffer<float>> bufs;
        std::vector<const float*> inputs;
        std::vector<float> want(n, 0.0f);
        std::mt19937_64 rng(n * 100 + m);
        std::uniform_int_distribution<int> small(-1000, 1000);
        for (std::size_t j = 0; j < m; ++j) {
          std::vector<float> in(n);
          for (std::size_t i = 0; i < n; ++i) {
            in[i] = 0.125f * static_cast<float>(small(rng));  // exact sums in any order
            want[i] += in[i];
          }
          bufs.emplace_back(b, in);
          inputs.push_back(bufs.back().data());
        }
        Buffer<float> out(b, std::vector<float>(n, -77.0f));
        b.dense_sum(inputs.data(), m, out.data(), n);
        CHECK(out.download() == want);
      }
    // Gaussian inputs: within rounding of a double-precision sum.
    const std::size_t n = 100000;
    std::vector<Buffer<float>> bufs;
    std::vector<const float*> inputs;
    std::vector<double> want(n, 0.0), scale(n, 0.0);
    for (std::size_t j = 0; j < 5; ++j) {
      const std::vector<float> in = make_data(Data::gaussian, n, 200 + j);
      for (std::size_t i = 0; i < n; ++i) {
        want[i] += in[i];
        scale[i] += std::fabs(in[i]);
      }
      bufs.emplace_back(b, in);
      inputs.push_back(bufs.back().data());
    }
    Buffer<float> out(b, n);
    b.dense_sum(inputs.data(), inputs.size(), out.data(), n);
    const std::vector<float> got = out.download();
    std::size_t off = 0;
    for (std::size_t i = 0; i < n; ++i) off += std::fabs(got[i] - want[i]) > 1e-6 * scale[i] + 1e-30 ? 1 : 0;
    CHECK(off == 0);
  }
}
