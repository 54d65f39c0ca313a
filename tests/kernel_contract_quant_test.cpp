// The kernel contract of the quantization ops (kernels/backend.h, the
// quantization block): fp16/bf16 casts (PyTorch DDP's compress hooks),
// EF-signSGD (Karimireddy et al., ICML 2019), signSGD's majority vote
// (Bernstein et al., ICML 2018) and QSGD (Alistarh et al., NeurIPS 2017).
// Every backend named in GCSIM_CONTRACT_BACKENDS is run on the same inputs as
// the "cpu-reference" oracle and must give its bits; the oracle itself is
// checked against definitions written out here, independently of
// kernels/cpu/quant_reference.cpp (rounding against the sorted list of every
// 16-bit value, the summation order, the QSGD levels). Only the public API is
// used and data moves through Buffer, so the file also runs against CUDA
// (kernel_contract_quant_gpu_test.cpp, tag GCSIM_CONTRACT_TAG = "[gpu]").
// Built with -ffp-contract=off (tests/CMakeLists.txt) like the kernels.
#include <catch2/catch.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/backend.h"
#include "kernels/buffer.h"
#include "kernels/half.h"
#include "kernels/hash.h"
#include "kernels/quant_format.h"

#if !defined(GCSIM_CONTRACT_BACKENDS) || !defined(GCSIM_CONTRACT_TAG)
#error "GCSIM_CONTRACT_BACKENDS and GCSIM_CONTRACT_TAG come from tests/CMakeLists.txt"
#endif

namespace {

using gcsim::kernels::Backend;
using gcsim::kernels::Buffer;
using gcsim::kernels::HalfFormat;
using gcsim::kernels::NonFiniteError;

// ---- backends ---------------------------------------------------------------

Backend& backend(const std::string& name, unsigned threads = 0) {
  static std::map<std::pair<std::string, unsigned>, std::unique_ptr<Backend>> cache;
  auto& b = cache[{name, threads}];
  if (!b) b = gcsim::kernels::make_backend(name, threads);
  return *b;
}

Backend& reference() { return backend("cpu-reference"); }

// The backends under test; where "cpu" is one, also with 3 and 7 threads (splits
// that do not divide the sizes below).
std::vector<Backend*> under_test() {
  std::vector<Backend*> out;
  std::stringstream list(GCSIM_CONTRACT_BACKENDS);
  for (std::string name; std::getline(list, name, ',');) {
    if (name.empty()) continue;
    out.push_back(&backend(name));
    if (name == "cpu") {
      out.push_back(&backend(name, 3));
      out.push_back(&backend(name, 7));
    }
  }
  return out;
}

std::string label(Backend& b) { return b.info().backend + " (" + std::to_string(b.info().threads) + " threads)"; }

// 0, 1, 7, 8, 9, primes, around the 4096 summation block and the 32768-entry
// thread chunk, and past several chunks.
const std::vector<std::size_t>& odd_sizes() {
  static const std::vector<std::size_t> s = {0,    1,     2,     3,     7,     8,     9,      31,     32,     33,
                                             97,   4095,  4096,  4097,  8191,  32767, 32768,  65537,  100003, 131072,
                                             131073, 262147, 1000003};
  return s;
}

std::vector<float> gaussian(std::size_t n, std::uint64_t seed, float sigma = 1.0f) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, sigma);
  std::vector<float> x(n);
  for (float& v : x) v = normal(rng);
  return x;
}

// Gaussian with exact zeros of both signs sprinkled in.
std::vector<float> with_zeros(std::size_t n, std::uint64_t seed) {
  std::vector<float> x = gaussian(n, seed);
  for (std::size_t i = 0; i < n; i += 5) x[i] = (i / 5) % 2 ? -0.0f : 0.0f;
  return x;
}

std::uint32_t fbits(float v) { return std::bit_cast<std::uint32_t>(v); }
std::uint64_t dbits(double v) { return std::bit_cast<std::uint64_t>(v); }

// How many entries differ in their bits; -1 for different lengths.
std::ptrdiff_t bit_differences(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return -1;
  std::ptrdiff_t d = 0;
  for (std::size_t i = 0; i < a.size(); ++i) d += fbits(a[i]) != fbits(b[i]) ? 1 : 0;
  return d;
}

template <class T>
std::ptrdiff_t differences(const std::vector<T>& a, const std::vector<T>& b) {
  if (a.size() != b.size()) return -1;
  std::ptrdiff_t d = 0;
  for (std::size_t i = 0; i < a.size(); ++i) d += a[i] != b[i] ? 1 : 0;
  return d;
}

// ---- ops through buffers ----------------------------------------------------

struct Cast {
  std::vector<std::uint16_t> h;
  std::size_t rejected = 0;  // NonFiniteError's count, 0 when none
};

Cast run_to_half(Backend& b, const std::vector<float>& x, float scale, HalfFormat f) {
  Buffer<float> dx(b, x);
  Buffer<std::uint16_t> out(b, x.size());
  Cast c;
  try {
    b.to_half(dx.data(), x.size(), scale, f, out.data());
  } catch (const NonFiniteError& e) {
    c.rejected = e.count();
  }
  c.h = out.download();
  return c;
}

std::vector<float> run_from_half(Backend& b, const std::vector<std::uint16_t>& h, HalfFormat f) {
  Buffer<std::uint16_t> dh(b, h);
  Buffer<float> out(b, h.size());
  b.from_half(dh.data(), h.size(), f, out.data());
  return out.download();
}

struct SignStep {
  float scale = 0.0f;
  std::vector<std::uint8_t> bits;
  std::vector<float> e;
};

// bits pre-filled with 0xff, to see the unused trailing bits cleared.
SignStep run_ef_sign(Backend& b, const std::vector<float>& g, const std::vector<float>* e) {
  Buffer<float> dg(b, g);
  Buffer<float> de(b, e ? *e : std::vector<float>{});
  Buffer<std::uint8_t> bits(b, std::vector<std::uint8_t>(gcsim::kernels::sign_bytes(g.size()), 0xff));
  SignStep s;
  s.scale = b.ef_sign(dg.data(), e ? de.data() : nullptr, g.size(), bits.data());
  s.bits = bits.download();
  if (e) s.e = de.download();
  return s;
}

std::vector<std::uint8_t> run_quantize(Backend& b, const std::vector<float>& x, int bits, float norm,
                                       std::uint64_t seed) {
  Buffer<float> dx(b, x);
  Buffer<std::uint8_t> codes(b, std::vector<std::uint8_t>(gcsim::kernels::qsgd_bytes(x.size(), bits), 0xff));
  b.qsgd_quantize(dx.data(), x.size(), bits, norm, seed, codes.data());
  return codes.download();
}

std::vector<float> run_dequantize_add(Backend& b, const std::vector<std::uint8_t>& codes, std::size_t n, int bits,
                                      float norm, const std::vector<float>& out0) {
  Buffer<std::uint8_t> dc(b, codes);
  Buffer<float> out(b, out0);
  b.qsgd_dequantize_add(dc.data(), n, bits, norm, out.data());
  return out.download();
}

double run_sum(Backend& b, const std::vector<float>& x, bool squares) {
  Buffer<float> dx(b, x);
  return squares ? b.sum_squares(dx.data(), x.size()) : b.sum_abs(dx.data(), x.size());
}

// ---- independent oracles -------------------------------------------------------

// Every finite non-negative value of a 16-bit format in increasing order
// (their bit patterns increase with the value), and the pattern of each.
struct Grid {
  std::vector<double> value;
  std::vector<std::uint16_t> bits;
};

const Grid& grid(HalfFormat f) {
  static const Grid fp16 = [] {
    Grid g;
    for (std::uint32_t h = 0; h < 0x7c00; ++h) {  // 0 .. 65504
      const std::uint32_t e = h >> 10, m = h & 0x3ff;
      g.value.push_back(e == 0 ? std::ldexp(static_cast<double>(m), -24)
                               : std::ldexp(static_cast<double>(m + 1024), static_cast<int>(e) - 25));
      g.bits.push_back(static_cast<std::uint16_t>(h));
    }
    return g;
  }();
  static const Grid bf16 = [] {
    Grid g;
    for (std::uint32_t h = 0; h < 0x7f80; ++h) {
      const std::uint32_t e = h >> 7, m = h & 0x7f;
      g.value.push_back(e == 0 ? std::ldexp(static_cast<double>(m), -133)
                               : std::ldexp(static_cast<double>(m + 128), static_cast<int>(e) - 134));
      g.bits.push_back(static_cast<std::uint16_t>(h));
    }
    return g;
  }();
  return f == HalfFormat::Fp16 ? fp16 : bf16;
}

// The exact value of a finite 16-bit pattern, from the grid.
double grid_value(std::uint16_t h, HalfFormat f) {
  const double v = grid(f).value[h & 0x7fffu];
  return h & 0x8000u ? -v : v;
}

// Round-to-nearest-even of the finite value v (exactly a double) to the
// format, by search in the grid: the nearest grid value, a tie to the even
// pattern; past the largest value, the next step (which would be 2^16 or
// 2^128, "even") is Inf. Differences are exact: v and its neighbours are
// within a factor of two, or v is far below the next one.
std::uint16_t oracle_round(double v, HalfFormat f) {
  const Grid& g = grid(f);
  const std::uint16_t sign = std::signbit(v) ? 0x8000 : 0;
  const std::uint16_t inf = f == HalfFormat::Fp16 ? 0x7c00 : 0x7f80;
  const double a = std::fabs(v);
  const auto it = std::upper_bound(g.value.begin(), g.value.end(), a);  // first > a
  const std::size_t hi = static_cast<std::size_t>(it - g.value.begin());
  const std::size_t lo = hi - 1;  // a >= 0 = value[0]
  if (g.value[lo] == a) return static_cast<std::uint16_t>(sign | g.bits[lo]);
  const double next = hi < g.value.size() ? g.value[hi] : (f == HalfFormat::Fp16 ? 65536.0 : std::ldexp(1.0, 128));
  const std::uint16_t next_bits = hi < g.value.size() ? g.bits[hi] : inf;
  const double below = a - g.value[lo], above = next - a;
  std::uint16_t pick;
  if (below < above)
    pick = g.bits[lo];
  else if (above < below)
    pick = next_bits;
  else
    pick = (g.bits[lo] & 1) == 0 ? g.bits[lo] : next_bits;
  return static_cast<std::uint16_t>(sign | pick);
}

// Floats around every rounding decision of the format: each grid value's
// midpoint to the next and the floats just below and above it, the values
// themselves, and a stride over all finite float bit patterns.
std::vector<float> rounding_cases(HalfFormat f) {
  const Grid& g = grid(f);
  std::vector<float> x;
  for (std::size_t j = 0; j + 1 < g.value.size(); j += (f == HalfFormat::Fp16 ? 1 : 7)) {
    const auto mid = static_cast<float>((g.value[j] + g.value[j + 1]) / 2);  // exact in float
    for (float v : {mid, std::nextafter(mid, 0.0f), std::nextafter(mid, 1e30f), static_cast<float>(g.value[j])}) {
      x.push_back(v);
      x.push_back(-v);
    }
  }
  for (std::uint64_t u = 0; u < 0x7f800000u; u += 40009) {
    x.push_back(std::bit_cast<float>(static_cast<std::uint32_t>(u)));
    x.push_back(-std::bit_cast<float>(static_cast<std::uint32_t>(u)));
  }
  return x;
}

// The documented summation order of sum_squares / sum_abs, written out again.
double oracle_fixed_sum(const std::vector<double>& terms) {
  auto lanes_then_fold = [](const std::vector<double>& v, std::size_t begin, std::size_t end) {
    double s[32] = {};
    for (std::size_t j = begin; j < end; ++j) s[(j - begin) % 32] += v[j];
    for (int o = 16; o >= 1; o /= 2) {
      double t[32];
      for (int l = 0; l < 32; ++l) t[l] = s[l] + s[l ^ o];
      std::copy(t, t + 32, s);
    }
    return s[0];
  };
  std::vector<double> blocks;
  for (std::size_t b = 0; b < terms.size(); b += 4096)
    blocks.push_back(lanes_then_fold(terms, b, std::min(terms.size(), b + 4096)));
  return blocks.empty() ? 0.0 : lanes_then_fold(blocks, 0, blocks.size());
}

// QSGD's level and code as backend.h defines them.
std::uint32_t oracle_level(float x, int bits, float norm, std::uint64_t seed, std::size_t i) {
  const auto s = static_cast<std::uint32_t>((1 << (bits - 1)) - 1);
  if (x == 0.0f || norm == 0.0f) return 0;
  const float factor = static_cast<float>(s) / norm;
  const float r = std::fabs(x) * factor;
  if (r >= static_cast<float>(s)) return s;
  const float fl = std::floor(r);
  const float u = static_cast<float>(gcsim::kernels::hash64(seed, i) >> 40) / 16777216.0f;
  return static_cast<std::uint32_t>(fl) + (u < r - fl ? 1 : 0);
}

std::uint32_t code_at(const std::vector<std::uint8_t>& codes, std::size_t i, int bits) {
  const std::size_t bit = i * static_cast<std::size_t>(bits);
  return (codes[bit / 8] >> (bit % 8)) & ((1u << bits) - 1u);
}

std::vector<float> poisoned(std::size_t n, std::vector<std::size_t> at, std::uint64_t seed) {
  std::vector<float> x = gaussian(n, seed);
  const float specials[] = {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::quiet_NaN()};
  for (std::size_t j = 0; j < at.size(); ++j) x[at[j]] = specials[j % 4];
  return x;
}

}  // namespace

// =============================================================================
// Casts

TEST_CASE("to_half: every finite fp16 and bf16 value round-trips through from_half", GCSIM_CONTRACT_TAG) {
  for (HalfFormat f : {HalfFormat::Fp16, HalfFormat::Bf16}) {
    std::vector<std::uint16_t> all;
    for (std::uint32_t h = 0; h < 65536; ++h)
      if (!gcsim::kernels::half_is_nonfinite(static_cast<std::uint16_t>(h), f)) all.push_back(static_cast<std::uint16_t>(h));
    REQUIRE(all.size() == (f == HalfFormat::Fp16 ? 63488u : 65280u));
    for (Backend* b : under_test()) {
      INFO(label(*b) << (f == HalfFormat::Fp16 ? " fp16" : " bf16"));
      const std::vector<float> back = run_from_half(*b, all, f);
      std::size_t wrong_value = 0;
      for (std::size_t j = 0; j < all.size(); ++j)
        wrong_value += static_cast<double>(back[j]) != grid_value(all[j], f) || std::signbit(back[j]) != ((all[j] & 0x8000) != 0);
      CHECK(wrong_value == 0);
      const Cast again = run_to_half(*b, back, 1.0f, f);
      CHECK(again.rejected == 0);
      CHECK(differences(again.h, all) == 0);
    }
  }
}

TEST_CASE("to_half: round to nearest with ties to even - subnormals included", GCSIM_CONTRACT_TAG) {
  for (HalfFormat f : {HalfFormat::Fp16, HalfFormat::Bf16}) {
    const std::vector<float> cases = rounding_cases(f);
    std::vector<float> finite;  // the cases that do not overflow
    for (float v : cases)
      if (!gcsim::kernels::half_is_nonfinite(oracle_round(v, f), f)) finite.push_back(v);
    REQUIRE(finite.size() > 40000);
    std::vector<std::uint16_t> want(finite.size());
    for (std::size_t j = 0; j < finite.size(); ++j) want[j] = oracle_round(finite[j], f);
    for (Backend* b : under_test()) {
      INFO(label(*b) << (f == HalfFormat::Fp16 ? " fp16" : " bf16"));
      const Cast c = run_to_half(*b, finite, 1.0f, f);
      CHECK(c.rejected == 0);
      CHECK(differences(c.h, want) == 0);
    }
    // Named cases.
    using gcsim::kernels::to_half;
    if (f == HalfFormat::Fp16) {
      CHECK(to_half(1.0f + 0x1p-11f, f) == 0x3c00);              // tie, 1.0 is even
      CHECK(to_half(1.0f + 3 * 0x1p-11f, f) == 0x3c02);          // tie, up to the even 1 + 2^-9
      CHECK(to_half(0x1p-25f, f) == 0x0000);                     // tie between 0 and 2^-24: 0
      CHECK(to_half(std::nextafter(0x1p-25f, 1.0f), f) == 0x0001);
      CHECK(to_half(3 * 0x1p-25f, f) == 0x0002);                 // tie between 1 and 2 (x 2^-24): 2
      CHECK(to_half(-0x1p-14f, f) == 0x8400);                    // smallest normal
      CHECK(to_half(std::nextafter(0x1p-14f, 0.0f), f) == 0x0400);  // rounds up into the normals
      CHECK(to_half(65504.0f, f) == 0x7bff);
      CHECK(to_half(65519.99f, f) == 0x7bff);
      CHECK(to_half(65520.0f, f) == 0x7c00);                     // tie to the even Inf
    } else {
      CHECK(to_half(1.0f + 0x1p-8f, f) == 0x3f80);
      CHECK(to_half(1.0f + 3 * 0x1p-8f, f) == 0x3f82);
      CHECK(to_half(std::bit_cast<float>(0x00008000u), f) == 0x0000);  // subnormal tie to even 0
      CHECK(to_half(std::bit_cast<float>(0x00018000u), f) == 0x0002);  // subnormal tie up to even
      CHECK(to_half(std::bit_cast<float>(0x7f7f0000u), f) == 0x7f7f);
      CHECK(to_half(std::bit_cast<float>(0x7f7f8000u), f) == 0x7f80);  // tie above the largest: Inf
    }
  }
}

TEST_CASE("to_half: overflow NaN and Inf are rejected with the exact count", GCSIM_CONTRACT_TAG) {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  for (Backend* b : under_test()) {
    for (std::size_t n : {std::size_t{1}, std::size_t{9}, std::size_t{100003}}) {
      INFO(label(*b) << " n = " << n);
      std::vector<float> x = gaussian(n, n);
      x[n / 2] = nan;
      CHECK(run_to_half(*b, x, 1.0f, HalfFormat::Fp16).rejected == 1);
      CHECK(run_to_half(*b, x, 1.0f, HalfFormat::Bf16).rejected == 1);
      if (n < 3) continue;
      x[0] = -inf;
      x[n - 1] = 70000.0f;   // overflows fp16, not bf16
      x[1] = -65520.0f;      // the tie that rounds to -Inf in fp16
      x[2] = 65519.0f;       // still finite in fp16
      CHECK(run_to_half(*b, x, 1.0f, HalfFormat::Fp16).rejected == 4);
      CHECK(run_to_half(*b, x, 1.0f, HalfFormat::Bf16).rejected == 2);
      // Loss scaling pushes the finite x past fp16's range: every |x| * 1e5 >= 65520.
      const std::vector<float> y(n, 0.75f);
      CHECK(run_to_half(*b, y, 1e5f, HalfFormat::Fp16).rejected == n);
      CHECK(run_to_half(*b, y, 1e5f, HalfFormat::Bf16).rejected == 0);
      // A NaN scale poisons every entry.
      CHECK(run_to_half(*b, y, nan, HalfFormat::Bf16).rejected == n);
    }
  }
}

TEST_CASE("to_half and from_half: every backend gives the reference bits at odd sizes and scales", GCSIM_CONTRACT_TAG) {
  for (std::size_t n : odd_sizes()) {
    const std::vector<float> x = with_zeros(n, 3 * n + 1);
    for (HalfFormat f : {HalfFormat::Fp16, HalfFormat::Bf16})
      for (float scale : {1.0f, 0.5f, 1024.0f, 3.3f, 1e-6f}) {
        const Cast want = run_to_half(reference(), x, scale, f);
        REQUIRE(want.rejected == 0);
        const std::vector<float> want_back = run_from_half(reference(), want.h, f);
        // The reference itself, against the oracle.
        std::size_t off = 0;
        for (std::size_t i = 0; i < n; ++i) off += want.h[i] != oracle_round(static_cast<double>(x[i] * scale), f);
        CHECK(off == 0);
        for (Backend* b : under_test()) {
          INFO(label(*b) << " n = " << n << " scale " << scale);
          const Cast got = run_to_half(*b, x, scale, f);
          CHECK(got.rejected == 0);
          CHECK(differences(got.h, want.h) == 0);
          CHECK(bit_differences(run_from_half(*b, want.h, f), want_back) == 0);
        }
      }
  }
}

TEST_CASE("from_half: NaN stays NaN with its sign and Inf stays Inf", GCSIM_CONTRACT_TAG) {
  const std::vector<std::uint16_t> fp16 = {0x7c00, 0xfc00, 0x7e00, 0xfe00, 0x7c01, 0x7fff};
  const std::vector<std::uint16_t> bf16 = {0x7f80, 0xff80, 0x7fc0, 0xffc0, 0x7f81, 0x7fff};
  for (Backend* b : under_test()) {
    INFO(label(*b));
    const std::vector<float> a = run_from_half(*b, fp16, HalfFormat::Fp16);
    const std::vector<float> c = run_from_half(*b, bf16, HalfFormat::Bf16);
    CHECK(fbits(a[0]) == 0x7f800000u);
    CHECK(fbits(a[1]) == 0xff800000u);
    CHECK(fbits(a[2]) == 0x7fc00000u);
    CHECK(fbits(a[3]) == 0xffc00000u);
    CHECK(std::isnan(a[4]));
    CHECK(std::isnan(a[5]));
    for (std::size_t j = 0; j < bf16.size(); ++j) CHECK(fbits(c[j]) == static_cast<std::uint32_t>(bf16[j]) << 16);
  }
}

// =============================================================================
// Sums

TEST_CASE("sum_squares and sum_abs: the documented fixed order - bit for bit on every backend", GCSIM_CONTRACT_TAG) {
  for (std::size_t n : odd_sizes()) {
    // Wide dynamic range, so the order matters for the last bits.
    std::vector<float> x = gaussian(n, 11 * n + 5);
    for (std::size_t i = 0; i < n; i += 7) x[i] *= 1e4f;
    std::vector<double> sq(n), ab(n);
    for (std::size_t i = 0; i < n; ++i) {
      sq[i] = static_cast<double>(x[i]) * static_cast<double>(x[i]);
      ab[i] = std::fabs(static_cast<double>(x[i]));
    }
    const double want_sq = oracle_fixed_sum(sq), want_ab = oracle_fixed_sum(ab);
    INFO("n = " << n);
    CHECK(dbits(run_sum(reference(), x, true)) == dbits(want_sq));
    CHECK(dbits(run_sum(reference(), x, false)) == dbits(want_ab));
    for (Backend* b : under_test()) {
      INFO(label(*b));
      CHECK(dbits(run_sum(*b, x, true)) == dbits(want_sq));
      CHECK(dbits(run_sum(*b, x, false)) == dbits(want_ab));
    }
  }
  // The order is not just any order: a plain sequential sum differs somewhere.
  const std::vector<float> x = gaussian(1000003, 4);
  std::vector<double> sq(x.size());
  double sequential = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sq[i] = static_cast<double>(x[i]) * static_cast<double>(x[i]);
    sequential += sq[i];
  }
  CHECK(dbits(sequential) != dbits(oracle_fixed_sum(sq)));
  CHECK(std::fabs(sequential - oracle_fixed_sum(sq)) < 1e-9 * sequential);
}

// =============================================================================
// EF-signSGD

TEST_CASE("ef_sign: the reference follows the definition", GCSIM_CONTRACT_TAG) {
  for (std::size_t n : {std::size_t{1}, std::size_t{7}, std::size_t{8}, std::size_t{9}, std::size_t{4099}}) {
    const std::vector<float> g = with_zeros(n, n), e0 = gaussian(n, n + 100, 0.1f);
    for (bool feedback : {true, false}) {
      INFO("n = " << n << (feedback ? " with" : " without") << " error feedback");
      std::vector<float> p(n);
      std::vector<double> mags(n);
      for (std::size_t i = 0; i < n; ++i) {
        p[i] = feedback ? g[i] + e0[i] : g[i];
        mags[i] = std::fabs(static_cast<double>(p[i]));
      }
      const auto scale = static_cast<float>(oracle_fixed_sum(mags) / static_cast<double>(n));
      const SignStep s = run_ef_sign(reference(), g, feedback ? &e0 : nullptr);
      CHECK(fbits(s.scale) == fbits(scale));
      REQUIRE(s.bits.size() == (n + 7) / 8);
      std::size_t wrong_bits = 0, wrong_e = 0;
      for (std::size_t i = 0; i < n; ++i) {
        const bool bit = (s.bits[i / 8] >> (i % 8)) & 1;
        wrong_bits += bit != (p[i] < 0.0f);
        if (feedback) wrong_e += fbits(s.e[i]) != fbits(p[i] - scale * (p[i] < 0.0f ? -1.0f : 1.0f));
      }
      CHECK(wrong_bits == 0);
      CHECK(wrong_e == 0);
      CHECK((n % 8 == 0 || (s.bits.back() >> (n % 8)) == 0));  // unused trailing bits are 0
      CHECK(std::fabs(scale - std::accumulate(mags.begin(), mags.end(), 0.0) / static_cast<double>(n)) <= 1e-6 * scale);
    }
  }
  // +0 and -0 are "not negative": they decode as +1.
  const SignStep z = run_ef_sign(reference(), {0.0f, -0.0f, 1.0f, -1.0f}, nullptr);
  CHECK(z.bits == std::vector<std::uint8_t>{0x08});
  CHECK(z.scale == 0.5f);
  CHECK(reference().ef_sign(nullptr, nullptr, 0, nullptr) == 0.0f);
}

TEST_CASE("ef_sign: every backend gives the reference bits scale and residual", GCSIM_CONTRACT_TAG) {
  for (std::size_t n : odd_sizes()) {
    const std::vector<float> g = with_zeros(n, 5 * n), e0 = gaussian(n, 5 * n + 1, 0.3f);
    for (bool feedback : {true, false}) {
      const SignStep want = run_ef_sign(reference(), g, feedback ? &e0 : nullptr);
      for (Backend* b : under_test()) {
        INFO(label(*b) << " n = " << n << (feedback ? " with" : " without") << " error feedback");
        const SignStep got = run_ef_sign(*b, g, feedback ? &e0 : nullptr);
        CHECK(fbits(got.scale) == fbits(want.scale));
        CHECK(got.bits == want.bits);
        CHECK(bit_differences(got.e, want.e) == 0);
      }
    }
  }
}

TEST_CASE("ef_sign: decoded steps plus the final residual sum to the gradients", GCSIM_CONTRACT_TAG) {
  const std::size_t n = 50000, steps = 20;
  for (Backend* b : under_test()) {
    INFO(label(*b));
    Buffer<float> e(*b, n), decoded(*b, n), g(*b, n);
    e.zero();
    decoded.zero();
    Buffer<std::uint8_t> bits(*b, gcsim::kernels::sign_bytes(n));
    std::vector<double> sum_g(n, 0.0), scale_sum(n, 0.0);
    for (std::size_t t = 0; t < steps; ++t) {
      const std::vector<float> gt = gaussian(n, 1000 + t);
      g.upload(gt);
      const std::vector<float> e_before = e.download();
      const float scale = b->ef_sign(g.data(), e.data(), n, bits.data());
      // scale = mean |p| with p = g + e.
      double mean = 0.0;
      for (std::size_t i = 0; i < n; ++i) mean += std::fabs(static_cast<double>(gt[i] + e_before[i]));
      mean /= static_cast<double>(n);
      CHECK(std::fabs(scale - mean) <= 1e-6 * mean);
      b->sign_decode_add(bits.data(), n, scale, decoded.data());
      for (std::size_t i = 0; i < n; ++i) {
        sum_g[i] += gt[i];
        scale_sum[i] += std::fabs(gt[i]) + scale;
      }
    }
    const std::vector<float> d = decoded.download(), r = e.download();
    std::size_t off = 0;
    for (std::size_t i = 0; i < n; ++i)
      off += std::fabs(static_cast<double>(d[i]) + r[i] - sum_g[i]) > 1e-5 * scale_sum[i] ? 1 : 0;
    CHECK(off == 0);
  }
}

TEST_CASE("ef_sign: NaN and Inf are rejected with the exact count and e holds g plus e", GCSIM_CONTRACT_TAG) {
  for (Backend* b : under_test()) {
    for (std::size_t n : {std::size_t{1}, std::size_t{9}, std::size_t{70001}}) {
      std::vector<std::size_t> at = {0};
      if (n > 8) at = {0, n / 2, n - 1, 5};
      const std::vector<float> g = poisoned(n, at, n), e0 = gaussian(n, n + 1);
      INFO(label(*b) << " n = " << n);
      Buffer<float> dg(*b, g), de(*b, e0);
      Buffer<std::uint8_t> bits(*b, gcsim::kernels::sign_bytes(n));
      try {
        b->ef_sign(dg.data(), de.data(), n, bits.data());
        FAIL("no NonFiniteError");
      } catch (const NonFiniteError& err) {
        CHECK(err.count() == at.size());
      }
      const std::vector<float> e = de.download();
      std::size_t off = 0;
      for (std::size_t i = 0; i < n; ++i) {
        const float want = g[i] + e0[i];
        off += std::isnan(want) ? !std::isnan(e[i]) : fbits(e[i]) != fbits(want);
      }
      CHECK(off == 0);
      try {  // without error feedback
        b->ef_sign(dg.data(), nullptr, n, bits.data());
        FAIL("no NonFiniteError");
      } catch (const NonFiniteError& err) {
        CHECK(err.count() == at.size());
      }
    }
  }
}

TEST_CASE("sign_decode_add and apply_sign: the majority vote of signSGD", GCSIM_CONTRACT_TAG) {
  const std::size_t n = 40009;
  for (std::size_t workers : {std::size_t{1}, std::size_t{4}, std::size_t{5}}) {
    std::vector<std::vector<float>> grads;
    for (std::size_t w = 0; w < workers; ++w) grads.push_back(with_zeros(n, 70 + w));
    std::vector<float> want(n);
    for (std::size_t i = 0; i < n; ++i) {
      int votes = 0;
      for (const auto& gw : grads) votes += gw[i] < 0.0f ? -1 : 1;
      want[i] = votes > 0 ? 0.25f : votes < 0 ? -0.25f : 0.0f;
    }
    std::vector<float> ref_sum;
    for (Backend* b : under_test()) {
      INFO(label(*b) << " " << workers << " workers");
      Buffer<float> sum(*b, n);
      sum.zero();
      Buffer<std::uint8_t> bits(*b, gcsim::kernels::sign_bytes(n));
      for (const auto& gw : grads) {
        Buffer<float> g(*b, gw);
        b->ef_sign(g.data(), nullptr, n, bits.data());
        b->sign_decode_add(bits.data(), n, 1.0f, sum.data());
      }
      const std::vector<float> votes = sum.download();
      if (ref_sum.empty()) {
        Buffer<float> rs(reference(), n);
        rs.zero();
        Buffer<std::uint8_t> rb(reference(), gcsim::kernels::sign_bytes(n));
        for (const auto& gw : grads) {
          Buffer<float> g(reference(), gw);
          reference().ef_sign(g.data(), nullptr, n, rb.data());
          reference().sign_decode_add(rb.data(), n, 1.0f, rs.data());
        }
        ref_sum = rs.download();
      }
      CHECK(bit_differences(votes, ref_sum) == 0);
      b->apply_sign(sum.data(), n, 0.25f);
      CHECK(bit_differences(sum.download(), want) == 0);
    }
  }
  // apply_sign: +-0 give +0, NaN is kept, the scale's sign is applied.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (Backend* b : under_test()) {
    INFO(label(*b));
    Buffer<float> x(*b, std::vector<float>{3.0f, -2.0f, 0.0f, -0.0f, nan, 1e-40f, -1e-40f});
    b->apply_sign(x.data(), 7, 0.5f);
    const std::vector<float> got = x.download();
    CHECK(fbits(got[0]) == fbits(0.5f));
    CHECK(fbits(got[1]) == fbits(-0.5f));
    CHECK(fbits(got[2]) == 0u);
    CHECK(fbits(got[3]) == 0u);
    CHECK(std::isnan(got[4]));
    CHECK(fbits(got[5]) == fbits(0.5f));
    CHECK(fbits(got[6]) == fbits(-0.5f));
  }
}

TEST_CASE("sign_decode_add: every backend gives the reference bits at odd sizes", GCSIM_CONTRACT_TAG) {
  for (std::size_t n : odd_sizes()) {
    std::mt19937_64 rng(n);
    std::vector<std::uint8_t> bits(gcsim::kernels::sign_bytes(n));
    for (auto& v : bits) v = static_cast<std::uint8_t>(rng());
    const std::vector<float> out0 = gaussian(n, n + 9);
    Buffer<std::uint8_t> rb(reference(), bits);
    Buffer<float> ro(reference(), out0);
    reference().sign_decode_add(rb.data(), n, 0.37f, ro.data());
    const std::vector<float> want = ro.download();
    std::size_t off = 0;
    for (std::size_t i = 0; i < n; ++i) off += fbits(want[i]) != fbits(out0[i] + (((bits[i / 8] >> (i % 8)) & 1) ? -0.37f : 0.37f));
    CHECK(off == 0);
    for (Backend* b : under_test()) {
      INFO(label(*b) << " n = " << n);
      Buffer<std::uint8_t> db(*b, bits);
      Buffer<float> o(*b, out0);
      b->sign_decode_add(db.data(), n, 0.37f, o.data());
      CHECK(bit_differences(o.download(), want) == 0);
    }
  }
}

// =============================================================================
// QSGD

TEST_CASE("qsgd: wire sizes and levels", GCSIM_CONTRACT_TAG) {
  using namespace gcsim::kernels;
  CHECK(sign_bytes(0) == 0);
  CHECK(sign_bytes(1) == 1);
  CHECK(sign_bytes(8) == 1);
  CHECK(sign_bytes(9) == 2);
  CHECK(sign_bytes(25'000'000) == 3'125'000);
  CHECK(qsgd_bytes(0, 2) == 0);
  CHECK(qsgd_bytes(5, 2) == 2);
  CHECK(qsgd_bytes(5, 4) == 3);
  CHECK(qsgd_bytes(5, 8) == 5);
  CHECK(qsgd_bytes(25'000'000, 4) == 12'500'000);
  CHECK(qsgd_levels(2) == 1);
  CHECK(qsgd_levels(4) == 7);
  CHECK(qsgd_levels(8) == 127);
  for (int bad : {-2, 0, 1, 3, 5, 16, 32}) CHECK_THROWS_AS(qsgd_bytes(10, bad), std::invalid_argument);
}

TEST_CASE("qsgd: the reference follows the definition", GCSIM_CONTRACT_TAG) {
  for (int bits : {2, 4, 8})
    for (std::size_t n : {std::size_t{1}, std::size_t{3}, std::size_t{7}, std::size_t{9}, std::size_t{1001}}) {
      const std::vector<float> x = with_zeros(n, 17 * n);
      const auto norm = static_cast<float>(std::sqrt(run_sum(reference(), x, true)));
      for (std::uint64_t seed : {0ull, 42ull}) {
        INFO("bits " << bits << " n = " << n << " seed " << seed);
        const std::vector<std::uint8_t> codes = run_quantize(reference(), x, bits, norm, seed);
        REQUIRE(codes.size() == (n * static_cast<std::size_t>(bits) + 7) / 8);
        std::size_t wrong = 0;
        for (std::size_t i = 0; i < n; ++i) {
          const std::uint32_t want = ((x[i] < 0.0f ? 1u : 0u) << (bits - 1)) | oracle_level(x[i], bits, norm, seed, i);
          wrong += code_at(codes, i, bits) != want;
        }
        CHECK(wrong == 0);
        const std::size_t used = n * static_cast<std::size_t>(bits) % 8;
        CHECK((used == 0 || (codes.back() >> used) == 0));  // unused trailing bits are 0
        // Decoding adds (sign) l q, q = norm / s, to out.
        const std::vector<float> out0 = gaussian(n, n + 3);
        const std::vector<float> out = run_dequantize_add(reference(), codes, n, bits, norm, out0);
        const float q = norm / static_cast<float>((1 << (bits - 1)) - 1);
        std::size_t off = 0;
        for (std::size_t i = 0; i < n; ++i) {
          const std::uint32_t c = code_at(codes, i, bits);
          const float v = static_cast<float>(c & ((1u << (bits - 1)) - 1)) * q;
          off += fbits(out[i]) != fbits((c >> (bits - 1)) ? out0[i] - v : out0[i] + v);
        }
        CHECK(off == 0);
      }
    }
  // A norm smaller than the entries clamps their level at s; norm 0 gives zero codes.
  const std::vector<float> big = {5.0f, -5.0f, 0.1f};
  const std::vector<std::uint8_t> clamped = run_quantize(reference(), big, 4, 1.0f, 3);
  CHECK(code_at(clamped, 0, 4) == 7u);
  CHECK(code_at(clamped, 1, 4) == 15u);
  CHECK(run_quantize(reference(), big, 8, 0.0f, 3) == std::vector<std::uint8_t>{0, 0, 0});
}

TEST_CASE("qsgd: every backend gives the reference codes and decoded sums", GCSIM_CONTRACT_TAG) {
  for (std::size_t n : odd_sizes())
    for (int bits : {2, 4, 8}) {
      std::vector<float> x = with_zeros(n, 23 * n + static_cast<std::size_t>(bits));
      const auto norm = static_cast<float>(std::sqrt(run_sum(reference(), x, true)));
      const std::uint64_t seed = 1000 + n;
      const std::vector<std::uint8_t> want = run_quantize(reference(), x, bits, norm, seed);
      const std::vector<float> out0 = gaussian(n, n + 77, 0.01f);
      const std::vector<float> want_out = run_dequantize_add(reference(), want, n, bits, norm, out0);
      for (Backend* b : under_test()) {
        INFO(label(*b) << " n = " << n << " bits " << bits);
        CHECK(differences(run_quantize(*b, x, bits, norm, seed), want) == 0);
        CHECK(bit_differences(run_dequantize_add(*b, want, n, bits, norm, out0), want_out) == 0);
        // A tiny norm (factor = +Inf) and a zero norm.
        CHECK(differences(run_quantize(*b, x, bits, 1e-45f, seed), run_quantize(reference(), x, bits, 1e-45f, seed)) == 0);
        CHECK(differences(run_quantize(*b, x, bits, 0.0f, seed), std::vector<std::uint8_t>(want.size(), 0)) == 0);
      }
    }
}

namespace {

// Per-entry mean of `samples` decoded values against x, in standard errors of
// stochastic rounding: var(l q) = q^2 p (1 - p), p = r - floor(r), r as the
// kernel computes it. Returns how many entries lie outside 5 standard errors
// (plus a float rounding allowance), and the mean squared z-score.
struct Bias {
  std::size_t outside = 0;
  double mean_z2 = 0.0;
};

Bias unbiasedness(const std::vector<float>& x, float norm, int bits, const std::vector<std::vector<double>>& samples) {
  const int s = (1 << (bits - 1)) - 1;
  const float factor = static_cast<float>(s) / norm;
  const double q = static_cast<double>(norm / static_cast<float>(s));
  const auto count = static_cast<double>(samples.size());
  Bias out;
  std::size_t scored = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    double mean = 0.0;
    for (const auto& smp : samples) mean += smp[i];
    mean /= count;
    const float r = std::fabs(x[i]) * factor;
    const double p = static_cast<double>(r - std::floor(r));
    const double se = q * std::sqrt(p * (1 - p) / count);
    const double err = std::fabs(mean - static_cast<double>(x[i]));
    if (err > 5 * se + 1e-6 * (std::fabs(x[i]) + q)) ++out.outside;
    if (se > 0) {
      out.mean_z2 += (err / se) * (err / se);
      ++scored;
    }
  }
  if (scored) out.mean_z2 /= static_cast<double>(scored);
  return out;
}

}  // namespace

TEST_CASE("qsgd: decoded values are unbiased over seeds and the test rejects biased rounding", GCSIM_CONTRACT_TAG) {
  const std::size_t n = 256, seeds = 2000;
  // Values spread over the levels, fractional parts everywhere in [0, 1).
  std::vector<float> x = gaussian(n, 31);
  x[0] = 0.0f;
  const auto norm = static_cast<float>(std::sqrt(run_sum(reference(), x, true)));
  for (int bits : {2, 4, 8}) {
    const int s = (1 << (bits - 1)) - 1;
    const float factor = static_cast<float>(s) / norm;
    const float q = norm / static_cast<float>(s);
    // Plausible bugs, computed here with the same draws u_i: round-to-nearest
    // and truncation instead of stochastic rounding, and (for 8 bits, where
    // many r_i >= 1) u compared with r instead of r - floor(r).
    std::vector<std::vector<double>> nearest, truncated, no_floor;
    for (std::uint64_t seed = 0; seed < seeds; ++seed) {
      std::vector<double> a(n), t(n), c(n);
      for (std::size_t i = 0; i < n; ++i) {
        const float r = std::fabs(x[i]) * factor;
        const float u = static_cast<float>(gcsim::kernels::hash64(seed, i) >> 40) / 16777216.0f;
        const float fl = std::floor(r);
        const double sign = x[i] < 0.0f ? -1.0 : 1.0;
        a[i] = sign * std::min<double>(s, std::nearbyint(r)) * q;
        t[i] = sign * std::min<double>(s, fl) * q;
        c[i] = sign * std::min<double>(s, fl + (u < r ? 1.0f : 0.0f)) * q;
      }
      nearest.push_back(a);
      truncated.push_back(t);
      no_floor.push_back(c);
    }
    INFO("bits " << bits);
    CHECK(unbiasedness(x, norm, bits, nearest).outside > 20);
    CHECK(unbiasedness(x, norm, bits, truncated).outside > 20);
    if (bits == 8) CHECK(unbiasedness(x, norm, bits, no_floor).outside > 20);
    for (Backend* b : under_test()) {
      INFO(label(*b));
      Buffer<float> dx(*b, x), out(*b, n);
      Buffer<std::uint8_t> codes(*b, gcsim::kernels::qsgd_bytes(n, bits));
      std::vector<std::vector<double>> decoded;
      for (std::uint64_t seed = 0; seed < seeds; ++seed) {
        b->qsgd_quantize(dx.data(), n, bits, norm, seed, codes.data());
        out.zero();
        b->qsgd_dequantize_add(codes.data(), n, bits, norm, out.data());
        const std::vector<float> o = out.download();
        decoded.emplace_back(o.begin(), o.end());
      }
      const Bias bias = unbiasedness(x, norm, bits, decoded);
      CHECK(bias.outside == 0);
      // The spread is that of stochastic rounding: mean z^2 near 1.
      CHECK(bias.mean_z2 > 0.5);
      CHECK(bias.mean_z2 < 2.0);
    }
  }
}

TEST_CASE("qsgd: invalid bits are rejected", GCSIM_CONTRACT_TAG) {
  for (Backend* b : under_test()) {
    INFO(label(*b));
    Buffer<float> x(*b, gaussian(16, 1)), out(*b, 16);
    Buffer<std::uint8_t> codes(*b, 16);
    for (int bits : {-1, 0, 1, 3, 6, 16}) {
      CHECK_THROWS_AS(b->qsgd_quantize(x.data(), 16, bits, 1.0f, 0, codes.data()), std::invalid_argument);
      CHECK_THROWS_AS(b->qsgd_dequantize_add(codes.data(), 16, bits, 1.0f, out.data()), std::invalid_argument);
    }
  }
}

TEST_CASE("qsgd_quantize: NaN and Inf in x or a bad norm are rejected with the exact count", GCSIM_CONTRACT_TAG) {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  for (Backend* b : under_test()) {
    for (std::size_t n : {std::size_t{1}, std::size_t{9}, std::size_t{70001}}) {
      std::vector<std::size_t> at = {n - 1};
      if (n > 8) at = {0, n / 2, n - 1, 2, 3};
      const std::vector<float> x = poisoned(n, at, n + 5);
      INFO(label(*b) << " n = " << n);
      for (int bits : {2, 8}) {
        Buffer<float> dx(*b, x);
        Buffer<std::uint8_t> codes(*b, gcsim::kernels::qsgd_bytes(n, bits));
        try {
          b->qsgd_quantize(dx.data(), n, bits, 3.0f, 1, codes.data());
          FAIL("no NonFiniteError");
        } catch (const NonFiniteError& err) {
          CHECK(err.count() == at.size());
        }
        for (float norm : {nan, inf, -1.0f}) {
          try {
            b->qsgd_quantize(dx.data(), n, bits, norm, 1, codes.data());
            FAIL("no NonFiniteError");
          } catch (const NonFiniteError& err) {
            CHECK(err.count() == 1);
          }
        }
      }
    }
  }
}

// =============================================================================
// Pointers that are not 16-byte aligned

TEST_CASE("quantization ops: inputs and outputs at odd offsets give the same bits", GCSIM_CONTRACT_TAG) {
  const std::size_t n = 70001;
  const std::vector<float> x = with_zeros(n, 808), e0 = gaussian(n, 809, 0.2f);
  const auto norm = static_cast<float>(std::sqrt(run_sum(reference(), x, true)));
  const SignStep want_sign = run_ef_sign(reference(), x, &e0);
  const std::vector<std::uint8_t> want_codes = run_quantize(reference(), x, 2, norm, 5);
  const Cast want_half = run_to_half(reference(), x, 2.0f, HalfFormat::Bf16);
  for (Backend* b : under_test()) {
    INFO(label(*b));
    // Every buffer one element past an allocation's (aligned) start.
    std::vector<float> x1(n + 1, 0.0f), e1(n + 1, 0.0f);
    std::copy(x.begin(), x.end(), x1.begin() + 1);
    std::copy(e0.begin(), e0.end(), e1.begin() + 1);
    Buffer<float> dx(*b, x1), de(*b, e1);
    Buffer<std::uint8_t> bits(*b, gcsim::kernels::sign_bytes(n) + 1), codes(*b, gcsim::kernels::qsgd_bytes(n, 2) + 1);
    Buffer<std::uint16_t> half(*b, n + 1);
    const float scale = b->ef_sign(dx.data() + 1, de.data() + 1, n, bits.data() + 1);
    CHECK(fbits(scale) == fbits(want_sign.scale));
    const std::vector<std::uint8_t> got_bits = bits.download();
    CHECK(std::equal(want_sign.bits.begin(), want_sign.bits.end(), got_bits.begin() + 1));
    const std::vector<float> got_e = de.download();
    CHECK(bit_differences(std::vector<float>(got_e.begin() + 1, got_e.end()), want_sign.e) == 0);
    CHECK(dbits(b->sum_squares(dx.data() + 1, n)) == dbits(run_sum(reference(), x, true)));
    b->qsgd_quantize(dx.data() + 1, n, 2, norm, 5, codes.data() + 1);
    const std::vector<std::uint8_t> got_codes = codes.download();
    CHECK(std::equal(want_codes.begin(), want_codes.end(), got_codes.begin() + 1));
    b->to_half(dx.data() + 1, n, 2.0f, HalfFormat::Bf16, half.data() + 1);
    const std::vector<std::uint16_t> got_half = half.download();
    CHECK(std::equal(want_half.h.begin(), want_half.h.end(), got_half.begin() + 1));
  }
}

// =============================================================================
// kernels/half.h on the host: every pattern, and half_sum. (The device copies
// of these functions are the CUDA backend's, checked above through to_half and
// from_half; so this part runs only in gcsim_tests.)
#ifndef GCSIM_CONTRACT_DEVICE_ONLY

namespace {

// Whether |v| is exactly halfway between two neighbours of the format (the
// step past the largest value included).
bool is_midpoint(double v, HalfFormat f) {
  const Grid& g = grid(f);
  const double a = std::fabs(v);
  const auto hi = static_cast<std::size_t>(std::upper_bound(g.value.begin(), g.value.end(), a) - g.value.begin());
  const double next = hi < g.value.size() ? g.value[hi] : (f == HalfFormat::Fp16 ? 65536.0 : std::ldexp(1.0, 128));
  return a == (g.value[hi - 1] + next) / 2;
}

// The correctly rounded value of the exact sum s + err (err from TwoSum,
// |err| <= half an ulp of s, and s = RN(s + err)). The exact sum lies on s's
// side of every midpoint of the format unless s is itself a midpoint; then
// err decides the side.
std::uint16_t oracle_round_sum(double s, double err, HalfFormat f) {
  if (err != 0.0 && is_midpoint(s, f)) return oracle_round(std::nextafter(s, s + err), f);
  return oracle_round(s, f);
}

}  // namespace

TEST_CASE("half.h: every 16-bit pattern decodes exactly and encodes back - NaN made quiet", GCSIM_CONTRACT_TAG) {
  using namespace gcsim::kernels;
  std::size_t wrong = 0;
  for (std::uint32_t u = 0; u < 65536; ++u) {
    const auto h = static_cast<std::uint16_t>(u);
    for (HalfFormat f : {HalfFormat::Fp16, HalfFormat::Bf16}) {
      const float v = from_half(h, f);
      const bool fp16 = f == HalfFormat::Fp16;
      const std::uint16_t abs = h & 0x7fffu, inf = fp16 ? 0x7c00 : 0x7f80, quiet = fp16 ? 0x0200 : 0x0040;
      if (abs > inf) {  // NaN: stays NaN with its sign; encoding back sets the quiet bit and keeps the payload
        wrong += !std::isnan(v) || std::signbit(v) != ((h & 0x8000) != 0);
        wrong += to_half(v, f) != (h | quiet);
      } else if (abs == inf) {
        wrong += !std::isinf(v) || std::signbit(v) != ((h & 0x8000) != 0) || to_half(v, f) != h;
      } else {
        wrong += static_cast<double>(v) != grid_value(h, f) || std::signbit(v) != ((h & 0x8000) != 0);
        wrong += to_half(v, f) != h;
        wrong += (fp16 ? double_to_fp16_rne(static_cast<double>(v)) : double_to_bf16_rne(static_cast<double>(v))) != h;
      }
    }
  }
  CHECK(wrong == 0);
}

TEST_CASE("half.h: double to fp16 and bf16 rounds once at every midpoint", GCSIM_CONTRACT_TAG) {
  using namespace gcsim::kernels;
  std::size_t wrong = 0, cases = 0;
  for (HalfFormat f : {HalfFormat::Fp16, HalfFormat::Bf16}) {
    const Grid& g = grid(f);
    for (std::size_t j = 0; j + 1 < g.value.size(); ++j) {
      const double mid = (g.value[j] + g.value[j + 1]) / 2;
      // Just off the midpoint by far less than a float ulp: rounding through
      // binary32 would make these ties; a single rounding does not.
      for (double v : {mid, std::nextafter(mid, 0.0), std::nextafter(mid, 1e300), -mid}) {
        const std::uint16_t got = f == HalfFormat::Fp16 ? double_to_fp16_rne(v) : double_to_bf16_rne(v);
        wrong += got != oracle_round(v, f);
        ++cases;
      }
    }
    const double top = f == HalfFormat::Fp16 ? 65520.0 : std::ldexp(511.0, 119);  // largest + half an ulp
    CHECK((f == HalfFormat::Fp16 ? double_to_fp16_rne(top) : double_to_bf16_rne(top)) == (f == HalfFormat::Fp16 ? 0x7c00 : 0x7f80));
    CHECK((f == HalfFormat::Fp16 ? double_to_fp16_rne(std::nextafter(top, 0.0)) : double_to_bf16_rne(std::nextafter(top, 0.0))) ==
          (f == HalfFormat::Fp16 ? 0x7bff : 0x7f7f));
  }
  CHECK(cases > 250000);
  CHECK(wrong == 0);
}

TEST_CASE("half.h: half_sum is the correctly rounded sum in fp16 and bf16", GCSIM_CONTRACT_TAG) {
  using namespace gcsim::kernels;
  std::mt19937_64 rng(2026);
  for (HalfFormat f : {HalfFormat::Fp16, HalfFormat::Bf16}) {
    INFO((f == HalfFormat::Fp16 ? "fp16" : "bf16"));
    // 48 first operands (random, subnormal, near the top) against every finite second operand.
    std::vector<std::uint16_t> firsts = {0x0000, 0x8000, 0x0001, 0x8001, 0x03ff, 0x0400, 0x3c00, 0xbc00};
    firsts.push_back(f == HalfFormat::Fp16 ? 0x7bff : 0x7f7f);
    firsts.push_back(f == HalfFormat::Fp16 ? 0xfbff : 0xff7f);
    while (firsts.size() < 48) {
      const auto h = static_cast<std::uint16_t>(rng());
      if (!half_is_nonfinite(h, f)) firsts.push_back(h);
    }
    std::size_t wrong = 0;
    for (std::uint16_t a : firsts)
      for (std::uint32_t u = 0; u < 65536; ++u) {
        const auto b = static_cast<std::uint16_t>(u);
        if (half_is_nonfinite(b, f)) continue;
        const double x = grid_value(a, f), y = grid_value(b, f);
        const double s = x + y;
        const double bb = s - x, err = (x - (s - bb)) + (y - bb);  // TwoSum (Knuth): s + err == x + y
        std::uint16_t want = oracle_round_sum(s, err, f);
        if (s == 0.0) want = (std::signbit(x) && std::signbit(y)) ? 0x8000 : 0x0000;
        wrong += half_sum(a, b, f) != want;
        wrong += half_sum(b, a, f) != want;
      }
    CHECK(wrong == 0);
    // Special values: NaN kept (made quiet, its sign), Inf - Inf the positive quiet NaN, overflow to Inf.
    const bool fp16 = f == HalfFormat::Fp16;
    const std::uint16_t inf = fp16 ? 0x7c00 : 0x7f80, snan = fp16 ? 0xfc01 : 0xff81, one = fp16 ? 0x3c00 : 0x3f80;
    CHECK(half_sum(snan, one, f) == (snan | (fp16 ? 0x0200 : 0x0040)));
    CHECK(half_sum(one, snan, f) == (snan | (fp16 ? 0x0200 : 0x0040)));
    CHECK(half_sum(inf, static_cast<std::uint16_t>(inf | 0x8000), f) == (fp16 ? kFp16QuietNaN : kBf16QuietNaN));
    CHECK(half_sum(inf, inf, f) == inf);
    CHECK(half_sum(inf, one, f) == inf);
    const std::uint16_t top = fp16 ? 0x7bff : 0x7f7f;
    CHECK(half_sum(top, top, f) == inf);
  }
  // fp16 specifics: 65504 + 16 is the tie that rounds to Inf; 65504 + 8 stays.
  CHECK(half_sum(0x7bff, gcsim::kernels::float_to_fp16_rne(16.0f), HalfFormat::Fp16) == 0x7c00);
  CHECK(half_sum(0x7bff, gcsim::kernels::float_to_fp16_rne(8.0f), HalfFormat::Fp16) == 0x7bff);
  // 2048 + 1 is a tie (2049 is not an fp16): to the even 2048; 2050 + 1 goes up to 2052.
  CHECK(half_sum(0x6800, 0x3c00, HalfFormat::Fp16) == 0x6800);
  CHECK(half_sum(0x6801, 0x3c00, HalfFormat::Fp16) == 0x6802);
}

#endif  // GCSIM_CONTRACT_DEVICE_ONLY
