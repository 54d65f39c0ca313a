// Throughput of the "cuda" kernel backend: every compression op over
// N x rho, median and min of >= 20 timed repeats after warm-up, and the
// achieved bandwidth under a stated byte model against the device's peak
// (2 x memory clock x bus width). CSV to stdout or --out FILE; the columns
// match benchmarks/torch_ef_topk.py so the two can be joined on (op, n, rho).
//
// Timing: each repeat is the op followed by Backend::synchronize(), measured
// with std::chrono::steady_clock (the backend's stream is private, so CUDA
// events on it are not available here); the figure includes the launches and
// one host round trip, as a caller sees it. Ops that must report a count or
// reject their input (ef_topk, topk, threshold, randomk, unpack) synchronize
// anyway.
//
// Byte models (k = ceil(rho N); the minimum traffic of the op, not of the
// implementation, and an index counted as 4 bytes as on the wire):
//   ef_topk             12N + 8k  read g and e, write e; write k (value, index)
//   topk                 4N + 8k  read x; write k (value, index)
//   threshold            4N + 8k  as topk (capacity 2k, DGC's sampled threshold)
//   randomk                  12k  gather k values, write k (value, index)
//   pack                     16k  read k (value, index), write them to the wire
//   unpack_scatter_add       16k  read the wire, read-modify-write k entries of dense
// k-quant (rho is ignored; these run once per n, rho printed as 0):
//   to_half_fp16              6N  read x, write fp16 (bf16 alike: to_half_bf16)
//   from_half_fp16            6N  read fp16, write x
//   ef_sign               12.125N read g and e, write e and the bits (the floor; the kernels make 2 passes)
//   sign_decode_add        8.125N read bits, read-modify-write out
//   qsgd4_quantize          8.5N  sum_squares reads x, quantize reads x and writes 4-bit codes
//   qsgd4_dequantize_add    8.5N  read codes, read-modify-write out
//
// Usage: kernels_cuda_benchmark [--out FILE] [--repeats R] [--warmup W]
//                               [--sizes N,N,...] [--ratios R,R,...] [--ops op,op,...]
//        kernels_cuda_benchmark --lowrank [--out FILE] [--repeats R] [--warmup W]
//
// --lowrank times PowerSGD's matrix kernels instead (Vogels et al., NeurIPS
// 2019): matmul (P = M Q), matmul_tn (Q = M^T P) and matmul_nt (P Q^T) for M
// of ResNet-50's largest conv (512 x 4608) and fc (1000 x 2048) at r = 1, 2,
// 4, and orthogonalize on n x r. Its CSV has its own columns: the byte model
// is each operand read or written once (4 (|A| + |B| + |C|) bytes; 8 n r for
// orthogonalize), flops 2 n m r (about 2 n r^2 for orthogonalize); then 53
// matrices of 512 x 4 by orthogonalize_batched (one launch) against 53 calls.
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "kernels/backend.h"
#include "kernels/buffer.h"
#include "kernels/synthetic_gradient.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/quant_format.h"  // k-quant
#include "kernels/wire_format.h"

namespace {

namespace gk = gcsim::kernels;
using gk::Buffer;
using gk::Index;
using gk::normal_vector;

struct Options {
  bool lowrank = false;  // low rank: PowerSGD
  std::string out;
  int repeats = 20;
  int warmup = 3;
  std::vector<double> sizes = {1e5, 1e6, 1e7, 2.5e7, 1e8};
  std::vector<double> ratios = {0.1, 0.01, 0.001};
  std::vector<std::string> ops = {"ef_topk", "topk", "threshold", "randomk", "pack", "unpack_scatter_add",
                                  // k-quant
                                  "to_half_fp16", "to_half_bf16", "from_half_fp16", "ef_sign", "sign_decode_add",
                                  "qsgd4_quantize", "qsgd4_dequantize_add"};
};

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> parts;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) parts.push_back(item);
  return parts;
}

std::vector<double> split_numbers(const std::string& s) {
  std::vector<double> v;
  for (const std::string& item : split(s)) v.push_back(std::stod(item));
  return v;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int a = 1; a < argc; ++a) {
    const std::string arg = argv[a];
    auto value = [&]() -> std::string {
      if (a + 1 >= argc) throw std::invalid_argument(arg + " needs a value");
      return argv[++a];
    };
    if (arg == "--lowrank") {
      o.lowrank = true;
    } else if (arg == "--out") {
      o.out = value();
    } else if (arg == "--repeats") {
      o.repeats = std::stoi(value());
    } else if (arg == "--warmup") {
      o.warmup = std::stoi(value());
    } else if (arg == "--sizes") {
      o.sizes = split_numbers(value());
    } else if (arg == "--ratios") {
      o.ratios = split_numbers(value());
    } else if (arg == "--ops") {
      o.ops = split(value());
    } else {
      throw std::invalid_argument("unknown argument " + arg +
                                  " (expected --lowrank, --out, --repeats, --warmup, --sizes, --ratios, --ops)");
    }
  }
  if (o.repeats < 1 || o.warmup < 0) throw std::invalid_argument("--repeats must be >= 1 and --warmup >= 0");
  return o;
}

// Peak DRAM bandwidth in bytes/s: 2 (double data rate) x clock x bus width.
double peak_bandwidth() {
  int device = 0;
  int clock_khz = 0;
  int bus_bits = 0;
  CUDA_CHECK(cudaGetDevice(&device));
  CUDA_CHECK(cudaDeviceGetAttribute(&clock_khz, cudaDevAttrMemoryClockRate, device));
  CUDA_CHECK(cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, device));
  return 2.0 * clock_khz * 1e3 * bus_bits / 8.0;
}

struct Timing {
  double median_ms = 0.0;
  double min_ms = 0.0;
};

Timing time_op(gk::Backend& backend, int warmup, int repeats, const std::function<void()>& op) {
  for (int r = 0; r < warmup; ++r) op();
  backend.synchronize();
  std::vector<double> ms(static_cast<std::size_t>(repeats));
  for (double& t : ms) {
    const auto start = std::chrono::steady_clock::now();
    op();
    backend.synchronize();
    t = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  }
  std::sort(ms.begin(), ms.end());
  const std::size_t m = ms.size();
  return {m % 2 ? ms[m / 2] : 0.5 * (ms[m / 2 - 1] + ms[m / 2]), ms.front()};
}


struct ByteModel {
  const char* formula;
  double bytes;
};

ByteModel byte_model(const std::string& op, double n, double k) {
  if (op == "ef_topk") return {"12N+8k", 12 * n + 8 * k};
  if (op == "topk" || op == "threshold") return {"4N+8k", 4 * n + 8 * k};
  if (op == "randomk") return {"12k", 12 * k};
  if (op == "pack") return {"16k", 16 * k};
  if (op == "unpack_scatter_add") return {"16k", 16 * k};
  // k-quant
  if (op == "to_half_fp16" || op == "to_half_bf16" || op == "from_half_fp16") return {"6N", 6 * n};
  if (op == "ef_sign") return {"12.125N", 12.125 * n};
  if (op == "sign_decode_add") return {"8.125N", 8.125 * n};
  if (op == "qsgd4_quantize" || op == "qsgd4_dequantize_add") return {"8.5N", 8.5 * n};
  throw std::invalid_argument("unknown op " + op +
                              " (expected ef_topk, topk, threshold, randomk, pack, unpack_scatter_add, to_half_fp16,"
                              " to_half_bf16, from_half_fp16, ef_sign, sign_decode_add, qsgd4_quantize,"
                              " qsgd4_dequantize_add)");
}

// ---- low rank: PowerSGD (begin) ----
void run_lowrank(gk::Backend& backend, const Options& opts, double peak, std::ostream& csv) {
  const gk::DeviceInfo info = backend.info();
  csv << "backend,device,op,n,m,r,repeats,median_ms,min_ms,bytes,gbps,pct_of_peak,gflops\n";
  auto emit = [&](const char* op, std::size_t n, std::size_t m, std::size_t r, double bytes, double flops,
                  const Timing& t) {
    const double gbps = bytes / (t.median_ms * 1e-3) / 1e9;
    csv << "cuda,\"" << info.device << "\"," << op << ',' << n << ',' << m << ',' << r << ',' << opts.repeats << ','
        << t.median_ms << ',' << t.min_ms << ',' << bytes << ',' << gbps << ',' << 100.0 * gbps / (peak / 1e9) << ','
        << flops / (t.median_ms * 1e-3) / 1e9 << '\n';
    csv.flush();
  };
  struct Matrix {
    std::size_t n, m;
  };
  for (const Matrix mat : {Matrix{512, 4608}, Matrix{1000, 2048}}) {
    const std::size_t n = mat.n, m = mat.m;
    Buffer<float> M(backend, normal_vector(n * m, 1, 1.0f)), approx(backend, n * m);
    for (const std::size_t r : {std::size_t{1}, std::size_t{2}, std::size_t{4}}) {
      Buffer<float> P(backend, normal_vector(n * r, 2, 1.0f)), Q(backend, normal_vector(m * r, 3, 1.0f));
      const double flops = 2.0 * static_cast<double>(n) * static_cast<double>(m) * static_cast<double>(r);
      const double mr = static_cast<double>(m * r), nr = static_cast<double>(n * r), nm = static_cast<double>(n * m);
      emit("matmul", n, m, r, 4 * (nm + mr + nr), flops, time_op(backend, opts.warmup, opts.repeats, [&] {
             backend.matmul(M.data(), Q.data(), P.data(), n, m, r);
           }));
      emit("matmul_tn", n, m, r, 4 * (nm + nr + mr), flops, time_op(backend, opts.warmup, opts.repeats, [&] {
             backend.matmul_tn(M.data(), P.data(), Q.data(), n, m, r);
           }));
      emit("matmul_nt", n, m, r, 4 * (nr + mr + nm), flops, time_op(backend, opts.warmup, opts.repeats, [&] {
             backend.matmul_nt(P.data(), Q.data(), approx.data(), n, m, r);
           }));
    }
  }
  // Re-orthogonalizing the orthonormal result costs the same as the first call.
  for (const auto& [n, r] : {std::pair<std::size_t, std::size_t>{512, 1}, {512, 4}, {1000, 2}, {2048, 4}, {4608, 4}}) {
    Buffer<float> P(backend, normal_vector(n * r, 4, 1.0f));
    emit("orthogonalize", n, 0, r, 8.0 * static_cast<double>(n * r),
         2.0 * static_cast<double>(n) * static_cast<double>(r * r),
         time_op(backend, opts.warmup, opts.repeats, [&] { backend.orthogonalize(P.data(), n, r, 0.0f); }));
  }
  // A bucket's worth: 53 P matrices of 512 x 4 in one launch, and the same as 53 calls.
  constexpr std::size_t kBatch = 53, kRows = 512, kRank = 4;
  Buffer<float> Ps(backend, normal_vector(kBatch * kRows * kRank, 5, 1.0f));
  std::vector<gk::MatrixRef> refs;
  for (std::size_t b = 0; b < kBatch; ++b) refs.push_back({Ps.data() + b * kRows * kRank, kRows, kRank});
  const double bytes = 8.0 * static_cast<double>(kBatch * kRows * kRank);
  const double flops = 2.0 * static_cast<double>(kBatch * kRows * kRank * kRank);
  emit("orthogonalize_batched(53)", kRows, 0, kRank, bytes, flops, time_op(backend, opts.warmup, opts.repeats, [&] {
         backend.orthogonalize_batched(refs.data(), refs.size(), 0.0f);
       }));
  emit("orthogonalize(53 calls)", kRows, 0, kRank, bytes, flops, time_op(backend, opts.warmup, opts.repeats, [&] {
         for (const gk::MatrixRef& m : refs) backend.orthogonalize(m.data, m.rows, m.cols, 0.0f);
       }));
}
// ---- low rank: PowerSGD (end) ----

}  // namespace

int main(int argc, char** argv) try {
  const Options opts = parse(argc, argv);
  for (const std::string& op : opts.ops) byte_model(op, 0, 0);  // reject unknown ops before any work
  auto backend = gk::make_backend("cuda");
  const gk::DeviceInfo info = backend->info();
  const double peak = peak_bandwidth();

  std::ofstream file;
  if (!opts.out.empty()) {
    file.open(opts.out);
    if (!file) throw std::runtime_error("cannot write " + opts.out);
  }
  std::ostream& csv = opts.out.empty() ? std::cout : file;
  if (opts.lowrank) {  // low rank: PowerSGD
    std::cerr << "# " << info.device << ", driver " << info.driver << ", runtime " << info.runtime << '\n';
    run_lowrank(*backend, opts, peak, csv);
    return 0;
  }
  csv << "backend,device,op,n,rho,k,repeats,median_ms,min_ms,byte_model,bytes,gbps,peak_gbps,pct_of_peak\n";
  std::cerr << "# " << info.device << ", driver " << info.driver << ", runtime " << info.runtime << ", peak "
            << peak / 1e9 << " GB/s\n";

  const double max_n = *std::max_element(opts.sizes.begin(), opts.sizes.end());
  const std::vector<float> g_host = normal_vector(static_cast<std::size_t>(max_n), 1, 1.0f);
  const std::vector<float> e_host = normal_vector(static_cast<std::size_t>(max_n), 2, 0.1f);

  for (const double n_real : opts.sizes) {
    const auto n = static_cast<std::size_t>(n_real);
    Buffer<float> g(*backend, n);
    Buffer<float> e(*backend, n);
    Buffer<float> dense(*backend, n);
    backend->upload(g.data(), g_host.data(), n * sizeof(float));
    dense.zero();
    // ---- k-quant: the quantization ops, once per n (rho does not apply) ----
    {
      Buffer<std::uint16_t> half(*backend, n);
      Buffer<std::uint8_t> bits(*backend, gk::sign_bytes(n));
      Buffer<std::uint8_t> codes(*backend, gk::qsgd_bytes(n, 4));
      const auto norm = static_cast<float>(std::sqrt(backend->sum_squares(g.data(), n)));
      backend->to_half(g.data(), n, 1.0f, gk::HalfFormat::Fp16, half.data());
      const float sign_scale = backend->ef_sign(g.data(), nullptr, n, bits.data());
      backend->qsgd_quantize(g.data(), n, 4, norm, 1, codes.data());
      std::uint64_t seed = 1;
      for (const std::string& op : opts.ops) {
        std::function<void()> run;
        if (op == "to_half_fp16") {
          run = [&] { backend->to_half(g.data(), n, 1.0f, gk::HalfFormat::Fp16, half.data()); };
        } else if (op == "to_half_bf16") {
          run = [&] { backend->to_half(g.data(), n, 1.0f, gk::HalfFormat::Bf16, half.data()); };
        } else if (op == "from_half_fp16") {
          backend->to_half(g.data(), n, 1.0f, gk::HalfFormat::Fp16, half.data());
          run = [&] { backend->from_half(half.data(), n, gk::HalfFormat::Fp16, dense.data()); };
        } else if (op == "ef_sign") {
          backend->upload(e.data(), e_host.data(), n * sizeof(float));
          run = [&] { backend->ef_sign(g.data(), e.data(), n, bits.data()); };
        } else if (op == "sign_decode_add") {
          run = [&] { backend->sign_decode_add(bits.data(), n, sign_scale, dense.data()); };
        } else if (op == "qsgd4_quantize") {
          run = [&] {
            const auto nrm = static_cast<float>(std::sqrt(backend->sum_squares(g.data(), n)));
            backend->qsgd_quantize(g.data(), n, 4, nrm, ++seed, codes.data());
          };
        } else if (op == "qsgd4_dequantize_add") {
          run = [&] { backend->qsgd_dequantize_add(codes.data(), n, 4, norm, dense.data()); };
        } else {
          continue;  // a selection op: below, per rho
        }
        const Timing t = time_op(*backend, opts.warmup, opts.repeats, run);
        const ByteModel model = byte_model(op, n_real, 0.0);
        const double gbps = model.bytes / (t.median_ms * 1e-3) / 1e9;
        csv << "cuda,\"" << info.device << "\"," << op << ',' << n << ",0,0," << opts.repeats << ',' << t.median_ms
            << ',' << t.min_ms << ',' << model.formula << ',' << model.bytes << ',' << gbps << ',' << peak / 1e9 << ','
            << 100.0 * gbps / (peak / 1e9) << '\n';
        csv.flush();
      }
      dense.zero();
    }
    for (const double rho : opts.ratios) {
      const auto k = static_cast<std::size_t>(std::ceil(rho * n_real));
      Buffer<float> values(*backend, 2 * k);
      Buffer<Index> indices(*backend, 2 * k);
      Buffer<std::byte> wire(*backend, gk::wire_bytes(n, k));
      backend->topk(g.data(), n, k, values.data(), indices.data());
      backend->pack(values.data(), indices.data(), k, n, wire.data());
      const gk::ThresholdOptions threshold_opts;

      for (const std::string& op : opts.ops) {
        std::function<void()> run;
        if (op == "ef_topk") {
          backend->upload(e.data(), e_host.data(), n * sizeof(float));
          run = [&] { backend->ef_topk(g.data(), e.data(), n, k, values.data(), indices.data()); };
        } else if (op == "topk") {
          run = [&] { backend->topk(g.data(), n, k, values.data(), indices.data()); };
        } else if (op == "threshold") {
          run = [&] { backend->threshold_topk(g.data(), n, k, 2 * k, threshold_opts, values.data(), indices.data()); };
        } else if (op == "randomk") {
          run = [&] { backend->randomk(g.data(), n, k, 1, values.data(), indices.data()); };
        } else if (op == "pack") {
          run = [&] { backend->pack(values.data(), indices.data(), k, n, wire.data()); };
        } else if (op == "unpack_scatter_add") {
          run = [&] {
            const std::size_t got = backend->unpack(wire.data(), wire.size(), n, values.data(), indices.data());
            const gk::SparseRef part{values.data(), indices.data(), got};
            backend->scatter_add(&part, 1, dense.data(), n);
          };
        } else {
          continue;  // k-quant: a quantization op, measured above
        }
        const Timing t = time_op(*backend, opts.warmup, opts.repeats, run);
        const ByteModel model = byte_model(op, n_real, static_cast<double>(k));
        const double gbps = model.bytes / (t.median_ms * 1e-3) / 1e9;
        csv << "cuda,\"" << info.device << "\"," << op << ',' << n << ',' << rho << ',' << k << ',' << opts.repeats
            << ',' << t.median_ms << ',' << t.min_ms << ',' << model.formula << ',' << model.bytes << ',' << gbps
            << ',' << peak / 1e9 << ',' << 100.0 * gbps / (peak / 1e9) << '\n';
        csv.flush();
      }
    }
  }
  return 0;
} catch (const std::exception& err) {
  std::cerr << "kernels_cuda_benchmark: " << err.what() << '\n';
  return 1;
}
