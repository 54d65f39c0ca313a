// The "cuda" backend (kernels/backend.h): device memory by cudaMalloc, one
// non-blocking stream for every op, a grow-only workspace reused across calls
// (radix histograms, the select's device-side state, candidate and staging
// buffers) and a pinned host copy of the state, read once per op that must
// report a count or reject its input. The kernels are in select_kernels.cu
// (Top-K, error feedback, threshold, Random-K) and sparse_kernels.cu (wire
// format, scatter-add, dense sum). The backend works on the device that is
// current when it is made; it is not thread-safe.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>

#include "kernels/backend.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/device_buffer.cuh"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/quant_kernels.cuh"  // k-quant
#include "kernels/cuda/lowrank.cuh"
#include "kernels/cuda/select_kernels.cuh"
#include "kernels/cuda/sparse_kernels.cuh"
#include "kernels/factories.h"
#include "kernels/quant_format.h"  // k-quant
#include "kernels/wire_format.h"

namespace gcsim::kernels {
namespace {

// Why no device can be used, or "" when one can.
std::string device_problem() {
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    cudaGetLastError();  // clear it: this is an answer, not a failure
    return cudaGetErrorString(err);
  }
  return count > 0 ? std::string() : std::string("no CUDA device found");
}

std::string version_string(int v) { return std::to_string(v / 1000) + "." + std::to_string(v % 1000 / 10); }

void check_k(const char* op, std::size_t n, std::size_t k) {
  if (k > n)
    throw std::invalid_argument(std::string(op) + ": k = " + std::to_string(k) + " exceeds the tensor size n = " +
                                std::to_string(n));
}

// What the host reads back after an op: the select's state, unpack's flag.
struct HostStatus {
  cuda::SelectState select;
  unsigned long long bad_indices;
};

class Stream {
 public:
  Stream() { CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking)); }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  ~Stream() { cudaStreamDestroy(stream_); }
  cudaStream_t get() const { return stream_; }

 private:
  cudaStream_t stream_ = nullptr;
};

class PinnedStatus {
 public:
  PinnedStatus() { CUDA_CHECK(cudaMallocHost(&status_, sizeof(HostStatus))); }
  PinnedStatus(const PinnedStatus&) = delete;
  PinnedStatus& operator=(const PinnedStatus&) = delete;
  ~PinnedStatus() { cudaFreeHost(status_); }
  HostStatus* get() const { return status_; }

 private:
  HostStatus* status_ = nullptr;
};

class CudaBackend final : public Backend {
 public:
  CudaBackend() {
    int device = 0;
    CUDA_CHECK(cudaGetDevice(&device));
    cudaDeviceProp prop{};
    CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
    int driver = 0;
    int runtime = 0;
    CUDA_CHECK(cudaDriverGetVersion(&driver));
    CUDA_CHECK(cudaRuntimeGetVersion(&runtime));
    info_.backend = "cuda";
    info_.device = prop.name;
    info_.driver = version_string(driver);
    info_.runtime = version_string(runtime);
    ctx_.stream = stream_.get();
    ctx_.sm_count = prop.multiProcessorCount;
  }

  ~CudaBackend() override { cudaStreamSynchronize(ctx_.stream); }

  DeviceInfo info() const override { return info_; }

  // ---- memory ----
  void* allocate(std::size_t bytes) override {
    if (bytes == 0) return nullptr;
    void* p = nullptr;
    CUDA_CHECK(cudaMalloc(&p, bytes));
    return p;
  }
  void release(void* p) noexcept override {
    if (p != nullptr) cudaFree(p);
  }
  void upload(void* dst, const void* host_src, std::size_t bytes) override {
    if (bytes == 0) return;
    CUDA_CHECK(cudaMemcpyAsync(dst, host_src, bytes, cudaMemcpyHostToDevice, ctx_.stream));
    synchronize();
  }
  void download(void* host_dst, const void* src, std::size_t bytes) override {
    if (bytes == 0) return;
    CUDA_CHECK(cudaMemcpyAsync(host_dst, src, bytes, cudaMemcpyDeviceToHost, ctx_.stream));
    synchronize();
  }
  void fill_zero(void* dst, std::size_t bytes) override {
    if (bytes != 0) CUDA_CHECK(cudaMemsetAsync(dst, 0, bytes, ctx_.stream));
  }
  void synchronize() override { CUDA_CHECK(cudaStreamSynchronize(ctx_.stream)); }

  // ---- selection ----
  void topk(const float* x, std::size_t n, std::size_t k, float* values, Index* indices) override {
    check_k("topk", n, k);
    if (n == 0) return;
    const cuda::SelectWorkspace ws = workspace(k != 0 ? n : 0, 0, 0);
    cuda::enqueue_topk(x, n, k, values, indices, ws, ctx_);
    finish_select("topk", ws);
  }

  void ef_topk(const float* g, float* e, std::size_t n, std::size_t k, float* values, Index* indices) override {
    check_k("ef_topk", n, k);
    if (n == 0) return;
    const cuda::SelectWorkspace ws = workspace(k != 0 ? n : 0, 0, 0);
    cuda::enqueue_ef_topk(g, e, n, k, values, indices, ws, ctx_);
    finish_select("ef_topk", ws);
  }

  // The sample count and rank are computed as HostBackend::sampled_threshold_key
  // computes them, so every backend ranks the same samples.
  ThresholdResult threshold_topk(const float* x, std::size_t n, std::size_t k, std::size_t capacity,
                                 const ThresholdOptions& opts, float* values, Index* indices) override {
    check_k("threshold_topk", n, k);
    if (n == 0) return {};
    const double wanted = std::ceil(opts.sample_fraction * static_cast<double>(n));
    const std::size_t by_fraction = wanted > 0.0 ? static_cast<std::size_t>(wanted) : 0;
    const std::size_t samples = std::max<std::size_t>({opts.min_samples, by_fraction, 1});
    __extension__ using Wide = unsigned __int128;
    const Wide ks = static_cast<Wide>(k) * samples;
    const auto rank = static_cast<std::size_t>(std::clamp<Wide>((ks + n - 1) / n, 1, samples));

    const std::size_t staged = std::min(capacity, n);
    const cuda::SelectWorkspace ws = workspace(samples, staged, staged);
    cuda::enqueue_threshold(x, n, samples, rank, opts.seed, capacity, values, indices, ws, ctx_);
    const cuda::SelectState st = finish_select("threshold_topk", ws);

    ThresholdResult r;
    std::memcpy(&r.threshold, &st.prefix, sizeof r.threshold);
    r.above = st.above;
    if (r.above > capacity) {
      topk(x, n, capacity, values, indices);
      r.selected = capacity;
    } else {
      r.selected = r.above;
    }
    return r;
  }

  void randomk(const float* x, std::size_t n, std::size_t k, std::uint64_t seed, float* values,
               Index* indices) override {
    check_k("randomk", n, k);
    if (k == 0) return;
    const cuda::SelectWorkspace ws = workspace(n, 0, k);
    cuda::enqueue_randomk(x, n, k, seed, values, indices, ws, ctx_);
    finish_select("randomk", ws);
  }

  // ---- wire format ----
  void pack(const float* values, const Index* indices, std::size_t k, std::size_t n, std::byte* wire) override {
    cuda::enqueue_pack(values, indices, k, index_bytes(n), wire, ctx_);
  }

  std::size_t unpack(const std::byte* wire, std::size_t wire_bytes, std::size_t n, float* values,
                     Index* indices) override {
    const std::size_t k = wire_entry_count(wire_bytes, n);
    auto* bad = flag_.reserve<unsigned long long>(1, ctx_.stream);
    cuda::enqueue_unpack(wire, k, index_bytes(n), n, values, indices, bad, ctx_);
    CUDA_CHECK(cudaMemcpyAsync(&status_.get()->bad_indices, bad, sizeof *bad, cudaMemcpyDeviceToHost, ctx_.stream));
    synchronize();
    if (status_.get()->bad_indices != 0)
      throw WireFormatError("unpack: a wire buffer of " + std::to_string(k) + " entries has an index outside [0, " +
                            std::to_string(n) + ")");
    return k;
  }

  // ---- reduction ----
  void scatter_add(const SparseRef* parts, std::size_t num_parts, float* dense, std::size_t n) override {
    cuda::enqueue_scatter_add(parts, num_parts, dense, n, ctx_);
  }
  void dense_sum(const float* const* inputs, std::size_t num_inputs, float* out, std::size_t n) override {
    cuda::enqueue_dense_sum(inputs, num_inputs, out, n, ctx_);
  }

  // ---- low rank: PowerSGD (kernels/cuda/lowrank.cu) ----
  void matmul(const float* A, const float* B, float* C, std::size_t n, std::size_t m, std::size_t r) override {
    lowrank_.matmul(A, B, C, n, m, r);
  }
  void matmul_tn(const float* A, const float* B, float* C, std::size_t n, std::size_t m, std::size_t r) override {
    lowrank_.matmul_tn(A, B, C, n, m, r);
  }
  void matmul_nt(const float* A, const float* B, float* C, std::size_t n, std::size_t m, std::size_t r) override {
    lowrank_.matmul_nt(A, B, C, n, m, r);
  }
  void orthogonalize(float* P, std::size_t n, std::size_t r, float epsilon) override {
    lowrank_.orthogonalize(P, n, r, epsilon);
  }
  void orthogonalize_batched(const MatrixRef* matrices, std::size_t count, float epsilon) override {
    lowrank_.orthogonalize_batched(matrices, count, epsilon);
  }

 private:
  // The workspace for a select with room for `candidates` candidate entries
  // and `stage_values` / `stage_indices` staged outputs.
  cuda::SelectWorkspace workspace(std::size_t candidates, std::size_t stage_values, std::size_t stage_indices) {
    cuda::SelectWorkspace ws;
    ws.header = header_.reserve<unsigned char>(cuda::kSelectHeaderBytes, ctx_.stream);
    ws.cand_words = cand_words_.reserve<std::uint32_t>(candidates, ctx_.stream);
    ws.cand_indices = cand_indices_.reserve<Index>(candidates, ctx_.stream);
    ws.stage_values = stage_values_.reserve<float>(stage_values, ctx_.stream);
    ws.stage_indices = stage_indices_.reserve<Index>(stage_indices, ctx_.stream);
    return ws;
  }

  // The one synchronization of a select: reads its state back and rejects a
  // non-finite input.
  cuda::SelectState finish_select(const char* op, const cuda::SelectWorkspace& ws) {
    HostStatus* status = status_.get();
    CUDA_CHECK(cudaMemcpyAsync(&status->select, ws.state(), sizeof status->select, cudaMemcpyDeviceToHost,
                               ctx_.stream));
    synchronize();
    if (status->select.nonfinite != 0) throw NonFiniteError(op, status->select.nonfinite);
    return status->select;
  }

  // Members are destroyed in reverse order: buffers first, the stream last.
  Stream stream_;
  PinnedStatus status_;
  cuda::GrowOnlyBuffer header_;
  cuda::GrowOnlyBuffer cand_words_;
  cuda::GrowOnlyBuffer cand_indices_;
  cuda::GrowOnlyBuffer stage_values_;
  cuda::GrowOnlyBuffer stage_indices_;
  cuda::GrowOnlyBuffer flag_;
  cuda::LaunchContext ctx_;
  cuda::LowRank lowrank_{ctx_};  // its cuBLAS handle goes before the stream
  DeviceInfo info_;

  // ==== quantization ops (k-quant): kernels/cuda/quant_kernels.cu ====
 public:
  void to_half(const float* x, std::size_t n, float scale, HalfFormat format, std::uint16_t* out) override {
    if (n == 0) return;
    cuda::QuantStatus* st = quant_status();
    cuda::enqueue_to_half(x, n, scale, format, out, st, ctx_);
    if (const cuda::QuantStatus h = read_quant_status(st); h.bad != 0) throw NonFiniteError("to_half", h.bad);
  }
  void from_half(const std::uint16_t* h, std::size_t n, HalfFormat format, float* out) override {
    cuda::enqueue_from_half(h, n, format, out, ctx_);
  }
  float ef_sign(const float* g, float* e, std::size_t n, std::uint8_t* bits) override {
    if (n == 0) return 0.0f;
    cuda::QuantStatus* st = quant_status();
    cuda::enqueue_ef_sign(g, e, n, bits, quant_block_sums(n), st, ctx_);
    const cuda::QuantStatus h = read_quant_status(st);
    if (h.bad != 0) throw NonFiniteError("ef_sign", h.bad);
    return h.scale;
  }
  void sign_decode_add(const std::uint8_t* bits, std::size_t n, float scale, float* out) override {
    cuda::enqueue_sign_decode_add(bits, n, scale, out, ctx_);
  }
  void apply_sign(float* x, std::size_t n, float scale) override { cuda::enqueue_apply_sign(x, n, scale, ctx_); }
  double sum_squares(const float* x, std::size_t n) override { return fixed_order_sum(x, n, true); }
  double sum_abs(const float* x, std::size_t n) override { return fixed_order_sum(x, n, false); }
  void qsgd_quantize(const float* x, std::size_t n, int bits, float norm, std::uint64_t seed,
                     std::uint8_t* codes) override {
    check_qsgd_bits("qsgd_quantize", bits);
    if (!(std::isfinite(norm) && norm >= 0.0f)) throw NonFiniteError("qsgd_quantize (norm)", 1);
    if (n == 0) return;
    const bool zero_norm = norm == 0.0f;
    const float factor = zero_norm ? 0.0f : static_cast<float>(qsgd_levels(bits)) / norm;
    cuda::QuantStatus* st = quant_status();
    cuda::enqueue_qsgd_quantize(x, n, bits, factor, zero_norm, seed, codes, st, ctx_);
    if (const cuda::QuantStatus h = read_quant_status(st); h.bad != 0) throw NonFiniteError("qsgd_quantize", h.bad);
  }
  void qsgd_dequantize_add(const std::uint8_t* codes, std::size_t n, int bits, float norm, float* out) override {
    check_qsgd_bits("qsgd_dequantize_add", bits);
    cuda::enqueue_qsgd_dequantize_add(codes, n, bits, norm / static_cast<float>(qsgd_levels(bits)), out, ctx_);
  }

 private:
  // A zeroed status in device memory for one op.
  cuda::QuantStatus* quant_status() {
    auto* st = quant_status_.reserve<cuda::QuantStatus>(1, ctx_.stream);
    CUDA_CHECK(cudaMemsetAsync(st, 0, sizeof *st, ctx_.stream));
    return st;
  }
  // The op's one synchronization.
  cuda::QuantStatus read_quant_status(const cuda::QuantStatus* st) {
    cuda::QuantStatus h{};
    CUDA_CHECK(cudaMemcpyAsync(&h, st, sizeof h, cudaMemcpyDeviceToHost, ctx_.stream));
    synchronize();
    return h;
  }
  double* quant_block_sums(std::size_t n) {
    return quant_sums_.reserve<double>((n + kSumBlock - 1) / kSumBlock, ctx_.stream);
  }
  double fixed_order_sum(const float* x, std::size_t n, bool squares) {
    if (n == 0) return 0.0;
    cuda::QuantStatus* st = quant_status();
    cuda::enqueue_fixed_order_sum(x, n, squares, quant_block_sums(n), st, ctx_);
    return read_quant_status(st).total;
  }
  cuda::GrowOnlyBuffer quant_status_;
  cuda::GrowOnlyBuffer quant_sums_;
  // ==== end of quantization ops (k-quant) ====
};

}  // namespace

bool cuda_device_available() { return device_problem().empty(); }

std::unique_ptr<Backend> make_cuda_backend() {
  if (const std::string problem = device_problem(); !problem.empty())
    throw std::runtime_error("the cuda kernel backend is unavailable: " + problem);
  return std::make_unique<CudaBackend>();
}

}  // namespace gcsim::kernels
