// The PowerSGD matrix kernels of the kernel contract (kernels/backend.h; Vogels,
// Karimireddy and Jaggi, "PowerSGD: Practical Low-Rank Gradient Compression
// for Distributed Optimization", NeurIPS 2019, Algorithm 1; PyTorch's
// powerSGD_hook.py): matmul (P = M Q), matmul_tn (Q = M^T P), matmul_nt
// (P Q^T) and orthogonalize (modified Gram-Schmidt). The "cpu-reference"
// oracle is checked against brute force (long double, written from the
// definitions); every backend in GCSIM_CONTRACT_BACKENDS is checked against
// the oracle within the fp32 tolerance of kernels/backend.h, and for what the
// ops are for: orthonormal columns with the input's span, and one power
// iteration reproducing a rank-r matrix. Sizes 0, 1, primes, r = 1, r = n,
// r > n; NaN and Inf. Only the public API is used, so the file also runs
// against CUDA (kernel_contract_lowrank_gpu_test.cpp, tag "[gpu]").
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/backend.h"
#include "kernels/buffer.h"

#if !defined(GCSIM_CONTRACT_BACKENDS) || !defined(GCSIM_CONTRACT_TAG)
#error "GCSIM_CONTRACT_BACKENDS and GCSIM_CONTRACT_TAG come from tests/CMakeLists.txt"
#endif

namespace {

using gcsim::kernels::Backend;
using gcsim::kernels::Buffer;

Backend& backend(const std::string& name, unsigned threads = 0) {
  static std::map<std::pair<std::string, unsigned>, std::unique_ptr<Backend>> cache;
  auto& b = cache[{name, threads}];
  if (!b) b = gcsim::kernels::make_backend(name, threads);
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

constexpr float kSentinel = 12345.0f;  // prefilled outputs: an entry not written shows up
const float kNaN = std::numeric_limits<float>::quiet_NaN();
const float kInf = std::numeric_limits<float>::infinity();

std::vector<float> gaussian(std::size_t count, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> v(count);
  for (float& x : v) x = normal(rng);
  return v;
}

// Integers in [-8, 8]: every product and sum below is exact in float and double.
std::vector<float> small_integers(std::size_t count, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> pick(-8, 8);
  std::vector<float> v(count);
  for (float& x : v) x = static_cast<float>(pick(rng));
  return v;
}

// ---- the three products, as C[i][j] = sum over p of X(i, p) Y(p, j) ----------

enum class Op { nn, tn, nt };

const char* op_name(Op op) {
  switch (op) {
    case Op::tn:
      return "matmul_tn";
    case Op::nt:
      return "matmul_nt";
    case Op::nn:
      break;
  }
  return "matmul";
}

struct Shape {
  std::size_t n, m, r;
};

struct Dims {
  std::size_t a, b;            // element counts of A and B
  std::size_t rows, cols, k;   // C is rows x cols, k the inner dimension
};

Dims dims(Op op, Shape s) {
  switch (op) {
    case Op::tn:
      return {s.n * s.m, s.n * s.r, s.m, s.r, s.n};
    case Op::nt:
      return {s.n * s.r, s.m * s.r, s.n, s.m, s.r};
    case Op::nn:
      break;
  }
  return {s.n * s.m, s.m * s.r, s.n, s.r, s.m};
}

// The positions of X(i, p) in A and Y(p, j) in B, from the definitions in backend.h.
std::size_t x_index(Op op, Shape s, std::size_t i, std::size_t p) {
  switch (op) {
    case Op::tn:
      return p * s.m + i;  // A^T, A n x m
    case Op::nt:
      return i * s.r + p;  // A n x r
    case Op::nn:
      break;
  }
  return i * s.m + p;  // A n x m
}
std::size_t y_index(Op op, Shape s, std::size_t p, std::size_t j) {
  switch (op) {
    case Op::nt:
      return j * s.r + p;  // B^T, B m x r
    case Op::tn:
    case Op::nn:
      break;
  }
  return p * s.r + j;  // B m x r or n x r
}

struct Brute {
  std::vector<long double> c;    // the exact-ish product
  std::vector<double> abs_prod;  // (|X| |Y|)_ij, for the tolerance
};

Brute brute_force(Op op, Shape s, const std::vector<float>& A, const std::vector<float>& B) {
  const Dims d = dims(op, s);
  Brute out{std::vector<long double>(d.rows * d.cols), std::vector<double>(d.rows * d.cols)};
  for (std::size_t i = 0; i < d.rows; ++i)
    for (std::size_t j = 0; j < d.cols; ++j) {
      long double sum = 0.0L, abs_sum = 0.0L;
      for (std::size_t p = 0; p < d.k; ++p) {
        const long double t = static_cast<long double>(A[x_index(op, s, i, p)]) * B[y_index(op, s, p, j)];
        sum += t;
        abs_sum += std::fabs(t);
      }
      out.c[i * d.cols + j] = sum;
      out.abs_prod[i * d.cols + j] = static_cast<double>(abs_sum);
    }
  return out;
}

std::vector<float> run(Backend& b, Op op, Shape s, const std::vector<float>& A, const std::vector<float>& B) {
  const Dims d = dims(op, s);
  Buffer<float> da(b, A), db(b, B), dc(b, std::vector<float>(d.rows * d.cols, kSentinel));
  switch (op) {
    case Op::nn:
      b.matmul(da.data(), db.data(), dc.data(), s.n, s.m, s.r);
      break;
    case Op::tn:
      b.matmul_tn(da.data(), db.data(), dc.data(), s.n, s.m, s.r);
      break;
    case Op::nt:
      b.matmul_nt(da.data(), db.data(), dc.data(), s.n, s.m, s.r);
      break;
  }
  return dc.download();
}

// The documented tolerance: (4 sqrt(k) + 2) 2^-24 (|A| |B|)_ij.
double product_tolerance(std::size_t k, double abs_prod) {
  return (4.0 * std::sqrt(static_cast<double>(k)) + 2.0) * std::ldexp(1.0, -24) * abs_prod;
}

// "" when every entry of got is within the tolerance of want, else the worst one.
std::string product_problem(const std::vector<float>& got, const std::vector<float>& want,
                            const std::vector<double>& abs_prod, std::size_t k) {
  if (got.size() != want.size()) return "sizes differ";
  std::size_t bad = 0, worst = 0;
  double worst_ratio = 0.0;
  for (std::size_t e = 0; e < got.size(); ++e) {
    const double err = std::fabs(static_cast<double>(got[e]) - want[e]);
    const double tol = product_tolerance(k, abs_prod[e]);
    const bool ok = err <= tol;  // false for NaN
    if (!ok) {
      ++bad;
      const double ratio = std::isfinite(err) ? err / std::max(tol, 1e-300) : 1e300;
      if (ratio > worst_ratio) worst_ratio = ratio, worst = e;
    }
  }
  if (bad == 0) return "";
  std::ostringstream msg;
  msg << bad << " of " << got.size() << " entries outside the tolerance; worst at " << worst << ": " << got[worst]
      << " vs " << want[worst] << " (|A||B| = " << abs_prod[worst] << ")";
  return msg.str();
}

std::vector<Shape> contract_shapes() {
  return {{1, 1, 1},    {1, 7, 1},     {7, 1, 3},     {2, 3, 2},     {13, 17, 5},   {31, 1, 1},
          {64, 97, 4},  {97, 64, 8},   {127, 131, 7}, {257, 129, 1}, {16, 40, 16},  {5, 9, 8},
          {3, 2000, 2}, {1000, 2048, 2}, {512, 4608, 4}, {67, 1031, 33},
          {9, 20011, 8}};  // the last: B^T (640 KB) outgrows the fast path's L2 budget
}

// ---- orthogonalization --------------------------------------------------------

std::vector<float> run_orthogonalize(Backend& b, const std::vector<float>& P, std::size_t n, std::size_t r,
                                     float epsilon) {
  Buffer<float> dp(b, P);
  b.orthogonalize(dp.data(), n, r, epsilon);
  return dp.download();
}

// Modified Gram-Schmidt from the hook's definition, in long double.
std::vector<long double> brute_orthogonalize(const std::vector<float>& P, std::size_t n, std::size_t r,
                                             float epsilon) {
  std::vector<std::vector<long double>> col(r, std::vector<long double>(n));
  for (std::size_t k = 0; k < n; ++k)
    for (std::size_t c = 0; c < r; ++c) col[c][k] = P[k * r + c];
  for (std::size_t i = 0; i < r; ++i) {
    long double norm = 0.0L;
    for (long double v : col[i]) norm += v * v;
    norm = std::sqrt(norm) + epsilon;
    for (long double& v : col[i]) v /= norm;
    for (std::size_t j = i + 1; j < r; ++j) {
      long double dot = 0.0L;
      for (std::size_t k = 0; k < n; ++k) dot += col[i][k] * col[j][k];
      for (std::size_t k = 0; k < n; ++k) col[j][k] -= dot * col[i][k];
    }
  }
  std::vector<long double> out(n * r);
  for (std::size_t k = 0; k < n; ++k)
    for (std::size_t c = 0; c < r; ++c) out[k * r + c] = col[c][k];
  return out;
}

// max |Q^T Q - I| over the columns in `cols` (all when empty); zero columns expected where `zero`.
double orthogonality_error(const std::vector<float>& Q, std::size_t n, std::size_t r,
                           const std::vector<bool>& zero = {}) {
  double worst = 0.0;
  for (std::size_t a = 0; a < r; ++a)
    for (std::size_t c = a; c < r; ++c) {
      double dot = 0.0;
      for (std::size_t k = 0; k < n; ++k) dot += static_cast<double>(Q[k * r + a]) * Q[k * r + c];
      const bool unit = a == c && (zero.empty() || !zero[a]);
      const double err = std::fabs(dot - (unit ? 1.0 : 0.0));
      worst = std::isnan(err) ? std::numeric_limits<double>::infinity() : std::max(worst, err);
    }
  return worst;
}

// ||P - Q (Q^T P)||_F / ||P||_F: how far P's columns lie outside span(Q).
double span_residual(const std::vector<float>& P, const std::vector<float>& Q, std::size_t n, std::size_t r) {
  std::vector<double> coef(r * r, 0.0);  // Q^T P
  for (std::size_t a = 0; a < r; ++a)
    for (std::size_t c = 0; c < r; ++c)
      for (std::size_t k = 0; k < n; ++k) coef[a * r + c] += static_cast<double>(Q[k * r + a]) * P[k * r + c];
  double res = 0.0, norm = 0.0;
  for (std::size_t k = 0; k < n; ++k)
    for (std::size_t c = 0; c < r; ++c) {
      double proj = 0.0;
      for (std::size_t a = 0; a < r; ++a) proj += static_cast<double>(Q[k * r + a]) * coef[a * r + c];
      const double d = P[k * r + c] - proj;
      res += d * d;
      norm += static_cast<double>(P[k * r + c]) * P[k * r + c];
    }
  return std::sqrt(res / norm);
}

// The largest 2-norm distance between a column of Q and the same column of want.
template <class T>
double column_distance(const std::vector<float>& Q, const std::vector<T>& want, std::size_t n, std::size_t r) {
  double worst = 0.0;
  for (std::size_t c = 0; c < r; ++c) {
    double d2 = 0.0;
    for (std::size_t k = 0; k < n; ++k) {
      const double d = static_cast<double>(Q[k * r + c]) - static_cast<double>(want[k * r + c]);
      d2 += d * d;
    }
    worst = std::isnan(d2) ? std::numeric_limits<double>::infinity() : std::max(worst, std::sqrt(d2));
  }
  return worst;
}

struct Tall {
  std::size_t n, r;
};

std::vector<Tall> orthogonalize_shapes() {
  return {{1, 1}, {2, 1}, {2, 2}, {3, 3}, {7, 1}, {7, 5}, {64, 4}, {127, 5},
          {512, 4}, {1000, 1}, {97, 16}, {4608, 4}, {2048, 2}, {300, 32}, {40000, 3}};
}

// The column count of every entry of column c that is NaN (all n of them when the column is all NaN).
std::size_t nan_count(const std::vector<float>& Q, std::size_t n, std::size_t r, std::size_t c) {
  std::size_t count = 0;
  for (std::size_t k = 0; k < n; ++k) count += std::isnan(Q[k * r + c]) ? 1 : 0;
  return count;
}

}  // namespace

// =============================================================================
// Products

TEST_CASE("lowrank matmul: the reference equals brute force at small sizes", GCSIM_CONTRACT_TAG) {
  const std::size_t dims_list[] = {0, 1, 2, 3, 5, 7};
  for (Op op : {Op::nn, Op::tn, Op::nt})
    for (std::size_t n : dims_list)
      for (std::size_t m : dims_list)
        for (std::size_t r : dims_list) {
          const Shape s{n, m, r};
          const Dims d = dims(op, s);
          INFO(op_name(op) << ": n = " << n << ", m = " << m << ", r = " << r);
          // Small integers: the product is exact, so the reference must equal it bit for bit.
          const std::vector<float> ai = small_integers(d.a, 10 * n + m), bi = small_integers(d.b, 10 * r + 3);
          const std::vector<float> ci = run(reference(), op, s, ai, bi);
          const Brute exact = brute_force(op, s, ai, bi);
          REQUIRE(ci.size() == d.rows * d.cols);
          std::size_t wrong = 0;
          for (std::size_t e = 0; e < ci.size(); ++e) wrong += ci[e] == static_cast<float>(exact.c[e]) ? 0 : 1;
          CHECK(wrong == 0);
          // Gaussian: one rounding of a double sum, within an ulp of the long double one.
          const std::vector<float> ag = gaussian(d.a, n + 100 * m), bg = gaussian(d.b, r + 7);
          const std::vector<float> cg = run(reference(), op, s, ag, bg);
          const Brute want = brute_force(op, s, ag, bg);
          std::size_t off = 0;
          for (std::size_t e = 0; e < cg.size(); ++e) {
            const long double err = std::fabs(static_cast<long double>(cg[e]) - want.c[e]);
            off += err <= std::ldexp(std::fabs(want.c[e]), -24) + std::ldexp(want.abs_prod[e], -45) ? 0 : 1;
          }
          CHECK(off == 0);
        }
}

TEST_CASE("lowrank matmul: every backend agrees with the reference within the fp32 tolerance", GCSIM_CONTRACT_TAG) {
  for (const Shape& s : contract_shapes())
    for (Op op : {Op::nn, Op::tn, Op::nt}) {
      const Dims d = dims(op, s);
      const std::vector<float> A = gaussian(d.a, s.n * 31 + s.m), B = gaussian(d.b, s.r * 17 + 1);
      const std::vector<float> want = run(reference(), op, s, A, B);
      const Brute brute = brute_force(op, s, A, B);
      for (const std::string& name : backends_under_test()) {
        INFO(name << ": " << op_name(op) << ", n = " << s.n << ", m = " << s.m << ", r = " << s.r);
        CHECK(product_problem(run(backend(name), op, s, A, B), want, brute.abs_prod, d.k) == "");
      }
    }
}

TEST_CASE("lowrank matmul: the tolerance check fails on a dropped term", GCSIM_CONTRACT_TAG) {
  // The tolerance must be tight enough to see one missing product of a typical size out of 4608.
  const Shape s{64, 4608, 4};
  const Dims d = dims(Op::nn, s);
  std::vector<float> A = gaussian(d.a, 5);
  std::vector<float> B = gaussian(d.b, 6);
  A[3 * s.m + 100] = 1.0f;  // X(3, 100)
  for (std::size_t j = 0; j < s.r; ++j) B[100 * s.r + j] = 1.0f;  // Y(100, j)
  const Brute brute = brute_force(Op::nn, s, A, B);
  const std::vector<float> full = run(reference(), Op::nn, s, A, B);
  std::vector<float> without = A;
  without[3 * s.m + 100] = 0.0f;  // row 3 of C loses the product 1 x 1
  CHECK(product_problem(run(reference(), Op::nn, s, without, B), full, brute.abs_prod, d.k) != "");
  CHECK(product_problem(full, full, brute.abs_prod, d.k) == "");
}

TEST_CASE("lowrank matmul: sizes of 0 - empty outputs untouched and an empty inner dimension gives zeros",
          GCSIM_CONTRACT_TAG) {
  std::vector<std::string> names = backends_under_test();
  names.insert(names.begin(), "cpu-reference");
  for (const std::string& name : names)
    for (Op op : {Op::nn, Op::tn, Op::nt})
      for (const Shape& s : std::vector<Shape>{{0, 0, 0}, {0, 5, 3}, {4, 0, 3}, {4, 5, 0}, {0, 0, 2}, {3, 0, 0}}) {
        INFO(name << ": " << op_name(op) << ", n = " << s.n << ", m = " << s.m << ", r = " << s.r);
        const Dims d = dims(op, s);
        const std::vector<float> c = run(backend(name), op, s, gaussian(d.a, 1), gaussian(d.b, 2));
        REQUIRE(c.size() == d.rows * d.cols);
        CHECK(std::all_of(c.begin(), c.end(), [](float v) { return v == 0.0f; }));  // d.k == 0 whenever c is not empty
      }
  // A zero-size output next to live memory is not written.
  for (const std::string& name : names) {
    INFO(name);
    Backend& b = backend(name);
    Buffer<float> a(b, gaussian(20, 3)), bb(b, gaussian(20, 4)), c(b, std::vector<float>(4, kSentinel));
    b.matmul(a.data(), bb.data(), c.data(), 0, 5, 4);
    b.matmul_tn(a.data(), bb.data(), c.data(), 5, 0, 4);
    b.matmul_nt(a.data(), bb.data(), c.data(), 4, 0, 5);
    b.matmul(a.data(), bb.data(), c.data(), 4, 5, 0);
    const std::vector<float> got = c.download();
    CHECK(std::all_of(got.begin(), got.end(), [](float v) { return v == kSentinel; }));
  }
}

TEST_CASE("lowrank matmul: NaN and Inf reach exactly the outputs that depend on them", GCSIM_CONTRACT_TAG) {
  std::vector<std::string> names = backends_under_test();
  names.insert(names.begin(), "cpu-reference");
  for (const Shape& s : {Shape{37, 53, 5}, Shape{37, 53, 2}}) {
    for (Op op : {Op::nn, Op::tn, Op::nt}) {
      const Dims d = dims(op, s);
      const std::vector<float> A = gaussian(d.a, 11), B = gaussian(d.b, 12);
      const Brute brute = brute_force(op, s, A, B);
      const std::vector<float> clean = run(reference(), op, s, A, B);
      // Poison X(i0, p0) (a row of C depends on it) or Y(p0, j0) (a column of C does).
      const std::size_t i0 = d.rows / 3, j0 = d.cols - 1, p0 = d.k / 2;
      for (float bad : {kNaN, kInf, -kInf})
        for (bool in_a : {true, false}) {
          std::vector<float> a = A, b = B;
          (in_a ? a[x_index(op, s, i0, p0)] : b[y_index(op, s, p0, j0)]) = bad;
          for (const std::string& name : names) {
            INFO(name << ": " << op_name(op) << ", r = " << s.r << ", " << bad << " in " << (in_a ? "A" : "B"));
            const std::vector<float> c = run(backend(name), op, s, a, b);
            std::size_t wrong = 0;
            std::vector<float> rest = c, rest_want = clean;
            std::vector<double> rest_abs = brute.abs_prod;
            for (std::size_t i = 0; i < d.rows; ++i)
              for (std::size_t j = 0; j < d.cols; ++j) {
                const std::size_t e = i * d.cols + j;
                const bool depends = in_a ? i == i0 : j == j0;
                if (!depends) continue;
                wrong += (std::isnan(bad) ? std::isnan(c[e]) : !std::isfinite(c[e])) ? 0 : 1;
                rest[e] = rest_want[e] = 0.0f;
              }
            CHECK(wrong == 0);
            CHECK(product_problem(rest, rest_want, rest_abs, d.k) == "");
          }
        }
    }
  }
}

// =============================================================================
// Orthogonalization

TEST_CASE("lowrank orthogonalize: the reference is the hook's modified Gram-Schmidt", GCSIM_CONTRACT_TAG) {
  for (const Tall& t : orthogonalize_shapes()) {
    if (t.n > 5000) continue;
    for (float epsilon : {0.0f, 1e-8f, 0.5f}) {
      INFO("n = " << t.n << ", r = " << t.r << ", epsilon = " << epsilon);
      const std::vector<float> P = gaussian(t.n * t.r, t.n + 13 * t.r);
      const std::vector<float> Q = run_orthogonalize(reference(), P, t.n, t.r, epsilon);
      CHECK(column_distance(Q, brute_orthogonalize(P, t.n, t.r, epsilon), t.n, t.r) < 1e-6);
      if (epsilon == 0.0f) {
        CHECK(orthogonality_error(Q, t.n, t.r) < 1e-6);
        CHECK(span_residual(P, Q, t.n, t.r) < 1e-6);
      }
    }
  }
}

TEST_CASE("lowrank orthogonalize: every backend gives orthonormal columns with the input's span", GCSIM_CONTRACT_TAG) {
  for (const Tall& t : orthogonalize_shapes()) {
    const std::vector<float> P = gaussian(t.n * t.r, 7 * t.n + t.r);
    const std::vector<float> want = run_orthogonalize(reference(), P, t.n, t.r, 0.0f);
    for (const std::string& name : backends_under_test()) {
      INFO(name << ": n = " << t.n << ", r = " << t.r);
      const std::vector<float> Q = run_orthogonalize(backend(name), P, t.n, t.r, 0.0f);
      CHECK(orthogonality_error(Q, t.n, t.r) < 1e-5);
      CHECK(span_residual(P, Q, t.n, t.r) < 1e-5);
      CHECK(column_distance(Q, want, t.n, t.r) < 1e-4);  // the same columns in the same order, signs included
    }
  }
}

TEST_CASE("lowrank orthogonalize: a zero column - epsilon keeps it zero and epsilon 0 turns it and later columns NaN",
          GCSIM_CONTRACT_TAG) {
  std::vector<std::string> names = backends_under_test();
  names.insert(names.begin(), "cpu-reference");
  const std::size_t n = 50, r = 5, zero_col = 2;
  std::vector<float> P = gaussian(n * r, 77);
  for (std::size_t k = 0; k < n; ++k) P[k * r + zero_col] = 0.0f;
  const std::vector<float> want = run_orthogonalize(reference(), P, n, r, 1e-8f);
  for (const std::string& name : names) {
    INFO(name);
    const std::vector<float> Q = run_orthogonalize(backend(name), P, n, r, 1e-8f);
    for (std::size_t k = 0; k < n; ++k) CHECK(Q[k * r + zero_col] == 0.0f);
    std::vector<bool> zero(r, false);
    zero[zero_col] = true;
    CHECK(orthogonality_error(Q, n, r, zero) < 1e-5);
    CHECK(column_distance(Q, want, n, r) < 1e-4);

    const std::vector<float> Z = run_orthogonalize(backend(name), P, n, r, 0.0f);
    for (std::size_t c = 0; c < r; ++c) {
      INFO("column " << c);
      CHECK(nan_count(Z, n, r, c) == (c < zero_col ? 0 : n));
    }
    for (std::size_t k = 0; k < n; ++k)
      for (std::size_t c = 0; c < zero_col; ++c) CHECK(std::fabs(Z[k * r + c] - want[k * r + c]) < 1e-5f);
  }
}

TEST_CASE("lowrank orthogonalize: NaN or Inf in column c poisons columns c on and keeps those before",
          GCSIM_CONTRACT_TAG) {
  std::vector<std::string> names = backends_under_test();
  names.insert(names.begin(), "cpu-reference");
  const std::size_t n = 300, r = 6;
  const std::vector<float> P = gaussian(n * r, 91);
  const std::vector<float> clean = run_orthogonalize(reference(), P, n, r, 0.0f);
  for (std::size_t c : {std::size_t{0}, std::size_t{3}, r - 1})
    for (float bad : {kNaN, kInf, -kInf}) {
      std::vector<float> p = P;
      p[(n / 2) * r + c] = bad;
      for (const std::string& name : names) {
        INFO(name << ": " << bad << " in column " << c);
        const std::vector<float> Q = run_orthogonalize(backend(name), p, n, r, 0.0f);
        for (std::size_t col = 0; col < r; ++col) {
          INFO("column " << col);
          if (col < c) {
            CHECK(nan_count(Q, n, r, col) == 0);
            double d = 0.0;
            for (std::size_t k = 0; k < n; ++k)
              d = std::max(d, std::fabs(static_cast<double>(Q[k * r + col]) - clean[k * r + col]));
            CHECK(d < 1e-5);
          } else if (col == c && !std::isnan(bad)) {
            CHECK(nan_count(Q, n, r, col) >= 1);
          } else {
            CHECK(nan_count(Q, n, r, col) == n);
          }
        }
      }
    }
}

TEST_CASE("lowrank orthogonalize: r greater than n is an invalid argument and r = 0 is a no-op", GCSIM_CONTRACT_TAG) {
  std::vector<std::string> names = backends_under_test();
  names.insert(names.begin(), "cpu-reference");
  for (const std::string& name : names) {
    INFO(name);
    Backend& b = backend(name);
    Buffer<float> p(b, gaussian(12, 1));
    CHECK_THROWS_AS(b.orthogonalize(p.data(), 3, 4, 0.0f), std::invalid_argument);
    CHECK_THROWS_AS(b.orthogonalize(p.data(), 0, 1, 0.0f), std::invalid_argument);
    CHECK(p.download() == gaussian(12, 1));  // the rejected calls wrote nothing
    b.orthogonalize(p.data(), 12, 0, 0.0f);
    b.orthogonalize(p.data(), 0, 0, 0.0f);
    CHECK(p.download() == gaussian(12, 1));
    // n = r = 1: the sign of the entry.
    Buffer<float> one(b, std::vector<float>{-3.5f});
    b.orthogonalize(one.data(), 1, 1, 0.0f);
    CHECK(one.download() == std::vector<float>{-1.0f});
  }
}

TEST_CASE("lowrank orthogonalize_batched: each matrix as orthogonalize alone", GCSIM_CONTRACT_TAG) {
  std::vector<std::string> names = backends_under_test();
  names.insert(names.begin(), "cpu-reference");
  // A bucket's P matrices: mixed heights and ranks (rank min(n, m, 4)), an empty one, back to back in one buffer.
  const std::vector<Tall> shapes = {{512, 4}, {64, 4}, {1, 1}, {3, 3}, {1000, 2}, {0, 0}, {4608, 4}, {10, 0}, {97, 16}};
  std::vector<std::size_t> offset;
  std::size_t total = 0;
  for (const Tall& t : shapes) {
    offset.push_back(total);
    total += t.n * t.r;
  }
  const std::vector<float> all = gaussian(total, 2024);
  for (const std::string& name : names) {
    Backend& b = backend(name);
    Buffer<float> buffer(b, all);
    std::vector<gcsim::kernels::MatrixRef> refs;
    for (std::size_t i = 0; i < shapes.size(); ++i)
      refs.push_back({buffer.data() + offset[i], shapes[i].n, shapes[i].r});
    b.orthogonalize_batched(refs.data(), refs.size(), 0.0f);
    const std::vector<float> got = buffer.download();
    for (std::size_t i = 0; i < shapes.size(); ++i) {
      const Tall& t = shapes[i];
      INFO(name << ": matrix " << i << ", n = " << t.n << ", r = " << t.r);
      const std::vector<float> P(all.begin() + static_cast<std::ptrdiff_t>(offset[i]),
                                 all.begin() + static_cast<std::ptrdiff_t>(offset[i] + t.n * t.r));
      const std::vector<float> Q(got.begin() + static_cast<std::ptrdiff_t>(offset[i]),
                                 got.begin() + static_cast<std::ptrdiff_t>(offset[i] + t.n * t.r));
      const std::vector<float> want = run_orthogonalize(reference(), P, t.n, t.r, 0.0f);
      if (t.n * t.r == 0) continue;
      CHECK(orthogonality_error(Q, t.n, t.r) < 1e-5);
      CHECK(column_distance(Q, want, t.n, t.r) < 1e-4);
      const std::vector<float> alone = run_orthogonalize(b, P, t.n, t.r, 0.0f);
      CHECK(column_distance(Q, alone, t.n, t.r) < 1e-4);
    }
    b.orthogonalize_batched(refs.data(), 0, 0.0f);  // count 0: nothing
    CHECK(buffer.download() == got);
  }
}

TEST_CASE("lowrank orthogonalize_batched: one matrix with r greater than n rejects the batch untouched",
          GCSIM_CONTRACT_TAG) {
  std::vector<std::string> names = backends_under_test();
  names.insert(names.begin(), "cpu-reference");
  for (const std::string& name : names) {
    INFO(name);
    Backend& b = backend(name);
    const std::vector<float> host = gaussian(40, 8);
    Buffer<float> buffer(b, host);
    const std::vector<gcsim::kernels::MatrixRef> refs = {
        {buffer.data(), 10, 2}, {buffer.data() + 20, 3, 4}, {buffer.data() + 32, 8, 1}};
    CHECK_THROWS_AS(b.orthogonalize_batched(refs.data(), refs.size(), 0.0f), std::invalid_argument);
    CHECK(buffer.download() == host);
  }
}

// =============================================================================
// PowerSGD's step

TEST_CASE("lowrank power iteration: one step reproduces a rank-r matrix", GCSIM_CONTRACT_TAG) {
  std::vector<std::string> names = backends_under_test();
  names.insert(names.begin(), "cpu-reference");
  for (const Shape& s : std::vector<Shape>{{64, 97, 1}, {31, 17, 5}, {8, 20, 8}, {1000, 2048, 2}, {512, 4608, 4},
                                           {1, 9, 1}, {200, 3, 3}}) {
    // M = U V^T, rank r; rounding M to fp32 adds relative noise of about 2^-24.
    const std::vector<float> U = gaussian(s.n * s.r, s.n + 1), V = gaussian(s.m * s.r, s.m + 2);
    const std::vector<float> M = run(reference(), Op::nt, {s.n, s.m, s.r}, U, V);
    const std::vector<float> Q0 = gaussian(s.m * s.r, 3);
    for (const std::string& name : names) {
      INFO(name << ": n = " << s.n << ", m = " << s.m << ", r = " << s.r);
      Backend& b = backend(name);
      Buffer<float> dm(b, M), dq(b, Q0), dp(b, s.n * s.r), approx(b, s.n * s.m);
      b.matmul(dm.data(), dq.data(), dp.data(), s.n, s.m, s.r);           // P = M Q
      b.orthogonalize(dp.data(), s.n, s.r, 0.0f);                         // P = orth(P)
      b.matmul_tn(dm.data(), dp.data(), dq.data(), s.n, s.m, s.r);        // Q = M^T P
      b.matmul_nt(dp.data(), dq.data(), approx.data(), s.n, s.m, s.r);    // P Q^T
      const std::vector<float> got = approx.download();
      double err = 0.0, norm = 0.0;
      for (std::size_t e = 0; e < M.size(); ++e) {
        const double d = static_cast<double>(got[e]) - M[e];
        err += d * d;
        norm += static_cast<double>(M[e]) * M[e];
      }
      CHECK(std::sqrt(err / norm) < 1e-4);
    }
  }
}

TEST_CASE("lowrank power iteration: a rank-2r matrix is not reproduced at rank r", GCSIM_CONTRACT_TAG) {
  // The check above can fail: rank 2r data leaves a residual of the dropped half.
  const Shape s{64, 80, 2};
  const std::vector<float> U = gaussian(s.n * 2 * s.r, 1), V = gaussian(s.m * 2 * s.r, 2);
  const std::vector<float> M = run(reference(), Op::nt, {s.n, s.m, 2 * s.r}, U, V);
  Backend& b = reference();
  Buffer<float> dm(b, M), dq(b, gaussian(s.m * s.r, 3)), dp(b, s.n * s.r), approx(b, s.n * s.m);
  b.matmul(dm.data(), dq.data(), dp.data(), s.n, s.m, s.r);
  b.orthogonalize(dp.data(), s.n, s.r, 0.0f);
  b.matmul_tn(dm.data(), dp.data(), dq.data(), s.n, s.m, s.r);
  b.matmul_nt(dp.data(), dq.data(), approx.data(), s.n, s.m, s.r);
  const std::vector<float> got = approx.download();
  double err = 0.0, norm = 0.0;
  for (std::size_t e = 0; e < M.size(); ++e) {
    err += (static_cast<double>(got[e]) - M[e]) * (static_cast<double>(got[e]) - M[e]);
    norm += static_cast<double>(M[e]) * M[e];
  }
  CHECK(std::sqrt(err / norm) > 0.1);
}

// =============================================================================
// The fast CPU path at several thread counts (not in the GPU binary)

#ifndef GCSIM_LOWRANK_GPU_BINARY
TEST_CASE("lowrank cpu: products are identical at every thread count and orthogonalize agrees", GCSIM_CONTRACT_TAG) {
  const Shape s{301, 2053, 4};
  for (Op op : {Op::nn, Op::tn, Op::nt}) {
    const Dims d = dims(op, s);
    const std::vector<float> A = gaussian(d.a, 1), B = gaussian(d.b, 2);
    const std::vector<float> one = run(backend("cpu", 1), op, s, A, B);
    for (unsigned threads : {2u, 3u, 7u}) {
      INFO(op_name(op) << ", " << threads << " threads");
      CHECK(run(backend("cpu", threads), op, s, A, B) == one);
    }
  }
  const std::size_t n = 200000, r = 4;  // tall enough to split
  const std::vector<float> P = gaussian(n * r, 5);
  const std::vector<float> want = run_orthogonalize(reference(), P, n, r, 0.0f);
  for (unsigned threads : {1u, 2u, 3u, 7u}) {
    INFO("orthogonalize, " << threads << " threads");
    const std::vector<float> Q = run_orthogonalize(backend("cpu", threads), P, n, r, 0.0f);
    CHECK(orthogonality_error(Q, n, r) < 1e-5);
    CHECK(column_distance(Q, want, n, r) < 1e-4);
  }
  // A batch large enough to split over threads: every matrix done, by one thread each.
  const std::vector<Tall> shapes = {{20000, 4}, {3, 1}, {50000, 2}, {7, 7}, {30000, 4}, {1, 1}, {9000, 3}};
  for (unsigned threads : {1u, 2u, 3u, 7u}) {
    Backend& b = backend("cpu", threads);
    std::vector<Buffer<float>> buffers;
    std::vector<gcsim::kernels::MatrixRef> refs;
    for (std::size_t i = 0; i < shapes.size(); ++i) {
      buffers.emplace_back(b, gaussian(shapes[i].n * shapes[i].r, 40 + i));
      refs.push_back({buffers.back().data(), shapes[i].n, shapes[i].r});
    }
    b.orthogonalize_batched(refs.data(), refs.size(), 0.0f);
    for (std::size_t i = 0; i < shapes.size(); ++i) {
      INFO("orthogonalize_batched, " << threads << " threads, matrix " << i);
      const Tall& t = shapes[i];
      const std::vector<float> got = buffers[i].download();
      CHECK(column_distance(got, run_orthogonalize(reference(), gaussian(t.n * t.r, 40 + i), t.n, t.r, 0.0f), t.n,
                            t.r) < 1e-4);
    }
  }
}
#endif  // GCSIM_LOWRANK_GPU_BINARY
