// The CPU compression kernels side by side: the nth_element reference
// ("cpu-reference") against the radix-select fast path ("cpu") on one thread
// and on all cores, at ResNet-50's n = 25,000,000 gradient entries and
// density rho = k / n of 0.01 (k = 250,000), 0.1 and 0.001; error feedback
// (Stich et al. 2018) at the same densities; DGC's sampled threshold (Lin et
// al., ICLR 2018), Random-K, pack and scatter-add at rho = 0.01. Gaussian
// data, fixed seed. Wall time (UseRealTime) in ms; items/s counts the entries
// an op covers (n for the selections, k for pack and scatter-add), bytes/s
// the bytes it must read (Random-K reads only the k values it picks).
// The quantization ops (k-quant): fp16/bf16 casts both ways, EF-signSGD
// (Karimireddy et al., ICML 2019) and its decode-add, QSGD at 4 bits
// (Alistarh et al., NeurIPS 2017) with its norm, and its decode-add; n only.
//
// PowerSGD's matrix kernels (Vogels et al., NeurIPS 2019) at ResNet-50's
// shapes (M = the largest 3x3 conv reshaped to 512 x 4608, and the fc layer
// 1000 x 2048) and ranks 1, 2, 4: items/s counts multiply-adds, bytes/s the
// fp32 bytes read and written once.
//
//   build/release/benchmarks/kernels_cpu_benchmark
//   build/release/benchmarks/kernels_cpu_benchmark --benchmark_filter='^lowrank'
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "kernels/backend.h"
#include "kernels/buffer.h"
#include "kernels/half.h"          // k-quant
#include "kernels/quant_format.h"  // k-quant
#include "kernels/synthetic_gradient.h"
#include "kernels/wire_format.h"

namespace {

using gcsim::kernels::Backend;
using gcsim::kernels::Buffer;
using gcsim::kernels::Index;

constexpr std::size_t kN = 25'000'000;  // ResNet-50's parameters

enum class Variant { reference, fast_1_thread, fast_all_threads };

Backend& backend(Variant v) {
  static const auto reference = gcsim::kernels::make_backend("cpu-reference");
  static const auto fast1 = gcsim::kernels::make_backend("cpu", 1);
  static const auto fast_all = gcsim::kernels::make_backend("cpu", 0);
  switch (v) {
    case Variant::fast_1_thread:
      return *fast1;
    case Variant::fast_all_threads:
      return *fast_all;
    case Variant::reference:
      break;
  }
  return *reference;
}

// N(0, 1) entries; seed 1 is "the gradient", seed 2 "the residual".
const std::vector<float>& gaussian(unsigned seed) {
  static std::vector<float> data[3];
  std::vector<float>& d = data[seed % 3];
  if (d.empty()) d = gcsim::kernels::normal_vector(kN, seed);
  return d;
}

std::size_t k_of(double rho) { return static_cast<std::size_t>(rho * static_cast<double>(kN)); }

void report(benchmark::State& state, Variant v, std::size_t items_per_op, std::size_t bytes_per_op) {
  const auto iters = static_cast<std::int64_t>(state.iterations());
  state.SetItemsProcessed(iters * static_cast<std::int64_t>(items_per_op));
  state.SetBytesProcessed(iters * static_cast<std::int64_t>(bytes_per_op));
  state.counters["threads"] = backend(v).info().threads;
}

void topk(benchmark::State& state, Variant v, double rho) {
  Backend& b = backend(v);
  const std::size_t k = k_of(rho);
  Buffer<float> x(b, gaussian(1)), values(b, k);
  Buffer<Index> indices(b, k);
  for (auto _ : state) {
    b.topk(x.data(), kN, k, values.data(), indices.data());
    b.synchronize();
  }
  report(state, v, kN, kN * sizeof(float));
}

// Each step starts from the same residual (restored outside the timing).
void ef_topk(benchmark::State& state, Variant v, double rho) {
  Backend& b = backend(v);
  const std::size_t k = k_of(rho);
  const std::vector<float>& residual = gaussian(2);
  Buffer<float> g(b, gaussian(1)), e(b, kN), values(b, k);
  Buffer<Index> indices(b, k);
  for (auto _ : state) {
    state.PauseTiming();
    e.upload(residual);
    state.ResumeTiming();
    b.ef_topk(g.data(), e.data(), kN, k, values.data(), indices.data());
    b.synchronize();
  }
  report(state, v, kN, 2 * kN * sizeof(float));
}

void threshold_topk(benchmark::State& state, Variant v, double rho) {
  Backend& b = backend(v);
  const std::size_t k = k_of(rho), capacity = 2 * k;
  Buffer<float> x(b, gaussian(1)), values(b, capacity);
  Buffer<Index> indices(b, capacity);
  std::size_t selected = 0;
  for (auto _ : state)
    selected = b.threshold_topk(x.data(), kN, k, capacity, {}, values.data(), indices.data()).selected;
  report(state, v, kN, kN * sizeof(float));
  state.counters["selected"] = static_cast<double>(selected);
}

void randomk(benchmark::State& state, Variant v, double rho) {
  Backend& b = backend(v);
  const std::size_t k = k_of(rho);
  Buffer<float> x(b, gaussian(1)), values(b, k);
  Buffer<Index> indices(b, k);
  std::uint64_t seed = 0;
  for (auto _ : state) {
    b.randomk(x.data(), kN, k, ++seed, values.data(), indices.data());
    b.synchronize();
  }
  report(state, v, kN, k * sizeof(float));
}

// The Top-K output of x, ready to pack or scatter.
struct Selection {
  Buffer<float> values;
  Buffer<Index> indices;
};
Selection selection(Backend& b, std::size_t k) {
  Selection s{Buffer<float>(b, k), Buffer<Index>(b, k)};
  Buffer<float> x(b, gaussian(1));
  b.topk(x.data(), kN, k, s.values.data(), s.indices.data());
  return s;
}

void pack(benchmark::State& state, Variant v, double rho) {
  Backend& b = backend(v);
  const std::size_t k = k_of(rho);
  const Selection s = selection(b, k);
  Buffer<std::byte> wire(b, gcsim::kernels::wire_bytes(kN, k));
  for (auto _ : state) {
    b.pack(s.values.data(), s.indices.data(), k, kN, wire.data());
    b.synchronize();
  }
  report(state, v, k, k * (sizeof(float) + sizeof(Index)));
}

void scatter_add(benchmark::State& state, Variant v, double rho) {
  Backend& b = backend(v);
  const std::size_t k = k_of(rho);
  const Selection s = selection(b, k);
  Buffer<float> dense(b, kN);
  dense.zero();
  const gcsim::kernels::SparseRef part{s.values.data(), s.indices.data(), k};
  for (auto _ : state) {
    b.scatter_add(&part, 1, dense.data(), kN);
    b.synchronize();
  }
  report(state, v, k, k * (sizeof(float) + sizeof(Index)));
}

// ---- low rank: PowerSGD (begin) ----
enum class LowRankOp { matmul, matmul_tn, matmul_nt };

// P = M Q (matmul), Q = M^T P (matmul_tn), P Q^T (matmul_nt) for M n x m, rank r.
void lowrank_product(benchmark::State& state, Variant v, LowRankOp op, std::size_t n, std::size_t m, std::size_t r) {
  Backend& b = backend(v);
  const bool nt = op == LowRankOp::matmul_nt;
  const std::size_t a_size = nt ? n * r : n * m;
  const std::size_t b_size = op == LowRankOp::matmul ? m * r : op == LowRankOp::matmul_tn ? n * r : m * r;
  const std::size_t c_size = op == LowRankOp::matmul ? n * r : op == LowRankOp::matmul_tn ? m * r : n * m;
  Buffer<float> A(b, gcsim::kernels::normal_vector(a_size, 1)), B(b, gcsim::kernels::normal_vector(b_size, 2)),
      C(b, c_size);
  for (auto _ : state) {
    switch (op) {
      case LowRankOp::matmul:
        b.matmul(A.data(), B.data(), C.data(), n, m, r);
        break;
      case LowRankOp::matmul_tn:
        b.matmul_tn(A.data(), B.data(), C.data(), n, m, r);
        break;
      case LowRankOp::matmul_nt:
        b.matmul_nt(A.data(), B.data(), C.data(), n, m, r);
        break;
    }
    b.synchronize();
    benchmark::DoNotOptimize(C.data());
  }
  report(state, v, n * m * r, (a_size + b_size + c_size) * sizeof(float));
}

// Gram-Schmidt on P (n x r), Gaussian at first; later iterations re-orthogonalize
// the orthonormal result, which costs the same (the op has no data-dependent work).
void lowrank_orthogonalize(benchmark::State& state, Variant v, std::size_t n, std::size_t r) {
  Backend& b = backend(v);
  Buffer<float> P(b, gcsim::kernels::normal_vector(n * r, 3));
  for (auto _ : state) {
    b.orthogonalize(P.data(), n, r, 0.0f);
    b.synchronize();
  }
  report(state, v, n * r * r, 2 * n * r * sizeof(float));
}

// A bucket's worth of P matrices (count of n x r) by one orthogonalize_batched call.
void lowrank_orthogonalize_batched(benchmark::State& state, Variant v, std::size_t count, std::size_t n,
                                   std::size_t r) {
  Backend& b = backend(v);
  Buffer<float> Ps(b, gcsim::kernels::normal_vector(count * n * r, 4));
  std::vector<gcsim::kernels::MatrixRef> refs;
  for (std::size_t i = 0; i < count; ++i) refs.push_back({Ps.data() + i * n * r, n, r});
  for (auto _ : state) {
    b.orthogonalize_batched(refs.data(), count, 0.0f);
    b.synchronize();
  }
  report(state, v, count * n * r * r, 2 * count * n * r * sizeof(float));
}
// ---- low rank: PowerSGD (end) ----
// ---- k-quant: casts, EF-signSGD, QSGD at n = 25M (rho is unused: 0) ----
// items/s counts the n entries; bytes/s the bytes the op must move.

void cast_to_half(benchmark::State& state, Variant v, gcsim::kernels::HalfFormat f) {
  Backend& b = backend(v);
  Buffer<float> x(b, gaussian(1));
  Buffer<std::uint16_t> h(b, kN);
  for (auto _ : state) {
    b.to_half(x.data(), kN, 1.0f, f, h.data());
    b.synchronize();
  }
  report(state, v, kN, kN * 6);
}

void cast_from_half(benchmark::State& state, Variant v, gcsim::kernels::HalfFormat f) {
  Backend& b = backend(v);
  Buffer<float> x(b, gaussian(1));
  Buffer<std::uint16_t> h(b, kN);
  b.to_half(x.data(), kN, 1.0f, f, h.data());
  for (auto _ : state) {
    b.from_half(h.data(), kN, f, x.data());
    b.synchronize();
  }
  report(state, v, kN, kN * 6);
}

// p = g + e, scale, bits, e = p -+ scale; e is restored outside the timing.
void ef_sign(benchmark::State& state, Variant v, gcsim::kernels::HalfFormat) {
  Backend& b = backend(v);
  Buffer<float> g(b, gaussian(1)), e(b, kN);
  Buffer<std::uint8_t> bits(b, gcsim::kernels::sign_bytes(kN));
  for (auto _ : state) {
    state.PauseTiming();
    e.upload(gaussian(2));
    state.ResumeTiming();
    benchmark::DoNotOptimize(b.ef_sign(g.data(), e.data(), kN, bits.data()));
  }
  report(state, v, kN, kN * 12 + kN / 8);
}

void sign_decode_add(benchmark::State& state, Variant v, gcsim::kernels::HalfFormat) {
  Backend& b = backend(v);
  Buffer<float> g(b, gaussian(1)), out(b, kN);
  out.zero();
  Buffer<std::uint8_t> bits(b, gcsim::kernels::sign_bytes(kN));
  const float scale = b.ef_sign(g.data(), nullptr, kN, bits.data());
  for (auto _ : state) {
    b.sign_decode_add(bits.data(), kN, scale, out.data());
    b.synchronize();
  }
  report(state, v, kN, kN * 8 + kN / 8);
}

// sum_squares for the norm, then 4-bit codes.
void qsgd_quantize(benchmark::State& state, Variant v, gcsim::kernels::HalfFormat) {
  Backend& b = backend(v);
  Buffer<float> x(b, gaussian(1));
  Buffer<std::uint8_t> codes(b, gcsim::kernels::qsgd_bytes(kN, 4));
  std::uint64_t seed = 0;
  for (auto _ : state) {
    const auto norm = static_cast<float>(std::sqrt(b.sum_squares(x.data(), kN)));
    b.qsgd_quantize(x.data(), kN, 4, norm, ++seed, codes.data());
  }
  report(state, v, kN, kN * 8 + kN / 2);
}

void qsgd_dequantize_add(benchmark::State& state, Variant v, gcsim::kernels::HalfFormat) {
  Backend& b = backend(v);
  Buffer<float> x(b, gaussian(1)), out(b, kN);
  out.zero();
  Buffer<std::uint8_t> codes(b, gcsim::kernels::qsgd_bytes(kN, 4));
  const auto norm = static_cast<float>(std::sqrt(b.sum_squares(x.data(), kN)));
  b.qsgd_quantize(x.data(), kN, 4, norm, 1, codes.data());
  for (auto _ : state) {
    b.qsgd_dequantize_add(codes.data(), kN, 4, norm, out.data());
    b.synchronize();
  }
  report(state, v, kN, kN * 8 + kN / 2);
}

const char* name(Variant v) {
  switch (v) {
    case Variant::fast_1_thread:
      return "fast_1_thread";
    case Variant::fast_all_threads:
      return "fast_all_threads";
    case Variant::reference:
      break;
  }
  return "reference";
}

using Op = void (*)(benchmark::State&, Variant, double);

void add(const char* op_name, Op op, double rho, std::initializer_list<Variant> variants) {
  for (Variant v : variants) {
    const std::string label = std::string(op_name) + "/rho=" + std::to_string(rho).substr(0, 5) + "/" + name(v);
    benchmark::RegisterBenchmark(label.c_str(), op, v, rho)->Unit(benchmark::kMillisecond)->UseRealTime();
  }
}


using QuantOp = void (*)(benchmark::State&, Variant, gcsim::kernels::HalfFormat);

void add_quant(const char* op_name, QuantOp op, gcsim::kernels::HalfFormat f, std::initializer_list<Variant> variants) {
  for (Variant v : variants) {
    const std::string label = std::string(op_name) + "/" + name(v);
    benchmark::RegisterBenchmark(label.c_str(), op, v, f)->Unit(benchmark::kMillisecond)->UseRealTime();
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  const auto all = {Variant::reference, Variant::fast_1_thread, Variant::fast_all_threads};
  const auto one = {Variant::reference, Variant::fast_1_thread};
  for (double rho : {0.01, 0.1, 0.001}) add("topk", topk, rho, all);
  for (double rho : {0.01, 0.1, 0.001}) add("ef_topk", ef_topk, rho, all);
  add("threshold_topk", threshold_topk, 0.01, all);
  add("randomk", randomk, 0.01, all);
  add("pack", pack, 0.01, one);
  add("scatter_add", scatter_add, 0.01, one);
  // ---- low rank: PowerSGD ----
  struct Matrix {
    std::size_t n, m;
  };
  for (const Matrix& mat : {Matrix{512, 4608}, Matrix{1000, 2048}})
    for (std::size_t r : std::initializer_list<std::size_t>{1, 2, 4})
      for (auto [op, op_name] : {std::pair{LowRankOp::matmul, "matmul"}, std::pair{LowRankOp::matmul_tn, "matmul_tn"},
                                 std::pair{LowRankOp::matmul_nt, "matmul_nt"}})
        for (Variant v : all) {
          const std::string label = std::string("lowrank/") + op_name + "/" + std::to_string(mat.n) + "x" +
                                    std::to_string(mat.m) + "/r=" + std::to_string(r) + "/" + name(v);
          benchmark::RegisterBenchmark(label.c_str(), lowrank_product, v, op, mat.n, mat.m, r)
              ->Unit(benchmark::kMillisecond)
              ->UseRealTime();
        }
  for (auto [n, r] : {std::pair<std::size_t, std::size_t>{512, 1}, {512, 4}, {1000, 2}, {4608, 4}, {2048, 4}})
    for (Variant v : all) {
      const std::string label =
          "lowrank/orthogonalize/" + std::to_string(n) + "x" + std::to_string(r) + "/" + name(v);
      benchmark::RegisterBenchmark(label.c_str(), lowrank_orthogonalize, v, n, r)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
    }
  for (Variant v : all)
    benchmark::RegisterBenchmark((std::string("lowrank/orthogonalize_batched/53x512x4/") + name(v)).c_str(),
                                 lowrank_orthogonalize_batched, v, 53, 512, 4)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  // k-quant
  using gcsim::kernels::HalfFormat;
  add_quant("to_half_fp16", cast_to_half, HalfFormat::Fp16, all);
  add_quant("to_half_bf16", cast_to_half, HalfFormat::Bf16, all);
  add_quant("from_half_fp16", cast_from_half, HalfFormat::Fp16, all);
  add_quant("from_half_bf16", cast_from_half, HalfFormat::Bf16, all);
  add_quant("ef_sign", ef_sign, HalfFormat::Fp16, all);
  add_quant("sign_decode_add", sign_decode_add, HalfFormat::Fp16, all);
  add_quant("qsgd4_quantize", qsgd_quantize, HalfFormat::Fp16, all);
  add_quant("qsgd4_dequantize_add", qsgd_dequantize_add, HalfFormat::Fp16, all);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
