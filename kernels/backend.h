// The compression kernels: one API, three implementations.
//
//   "cpu-reference"  plain code (std::nth_element, loops): the oracle every test
//                    compares against (kernels/cpu/reference_backend.cpp)
//   "cpu"            the fast CPU path: radix select on the magnitude bits,
//                    multi-threaded (kernels/cpu/fast_backend.cpp)
//   "cuda"           CUDA kernels, radix select with CUB block primitives
//                    (kernels/cuda/cuda_backend.cu)
//
// Every data pointer an op takes lies in memory of the backend's device:
// allocate it with allocate() (or kernels::Buffer), move data with
// upload()/download(). The two pointer arrays (scatter_add's `parts`,
// dense_sum's `inputs`) are host arrays holding device pointers.
// Ops on the CUDA backend are asynchronous on its stream unless they return a
// count (threshold_topk, unpack) or can throw on data (NonFiniteError,
// WireFormatError): those synchronize. synchronize() waits for all work.
//
// Semantics shared by all backends (tests/kernels_contract_test.cpp checks them):
//
// * Magnitude order is the order of |x| as IEEE-754 bits with the sign cleared
//   (the "key"), which for finite floats is the order of |x|; -0 and +0 tie.
// * Top-K outputs are UNORDERED and exactly k long. Entries whose magnitude
//   ties at the k-th largest may be chosen in any way: the multiset of selected
//   magnitudes is unique, the index set need not be.
// * NaN and +-Inf are REJECTED by topk, ef_topk and threshold_topk: they throw
//   NonFiniteError (with the count of offending entries) and do not write
//   values or indices. ef_topk still leaves e = g + e (the accumulation is fused
//   into the first pass), so the residual holds the poisoned accumulator, which
//   the caller must discard. randomk does not read the values it does not
//   select; a non-finite value among the selected ones is rejected the same way.
//   pack, unpack, scatter_add and dense_sum move values without inspecting them.
// * k > n is a std::invalid_argument. k = 0 selects nothing (ef_topk then
//   leaves e = g + e), except in threshold_topk, whose sample rank is clamped
//   to at least 1. k = n selects everything.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

namespace gcsim::kernels {

using Index = std::int64_t;

// An input held NaN or +-Inf.
class NonFiniteError : public std::runtime_error {
 public:
  NonFiniteError(const std::string& op, std::size_t count)
      : std::runtime_error(op + ": input holds " + std::to_string(count) +
                           " non-finite value(s) (NaN or Inf); rejected"),
        count_(count) {}
  std::size_t count() const { return count_; }

 private:
  std::size_t count_;
};

// A wire buffer that does not decode (wrong length, index out of range).
class WireFormatError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One worker's sparse contribution: k (value, index) pairs, device memory.
struct SparseRef {
  const float* values = nullptr;
  const Index* indices = nullptr;
  std::size_t k = 0;
};

// ---- low rank: PowerSGD ----
// One matrix of a batch for Backend::orthogonalize_batched: rows x cols,
// row-major fp32 at data (the backend's device memory).
struct MatrixRef {
  float* data = nullptr;
  std::size_t rows = 0;
  std::size_t cols = 0;
};

// DGC's sampled threshold (Lin et al., "Deep Gradient Compression", ICLR 2018,
// section 3 and its threshold-sampling appendix).
struct ThresholdOptions {
  double sample_fraction = 0.01;   // share of the n entries sampled (with replacement)
  std::size_t min_samples = 1024;  // but at least this many (sampling is with replacement)
  std::uint64_t seed = 0;          // sample positions are hash(seed, j) mod n: identical on every backend
};

struct ThresholdResult {
  std::size_t selected = 0;   // entries written (<= capacity)
  float threshold = 0.0f;     // the sampled magnitude threshold
  std::size_t above = 0;      // entries with |x| >= threshold, before capping at capacity
};

// ---- k-quant: the 16-bit wire formats of to_half / from_half (kernels/half.h) ----
// IEEE binary16; bfloat16 (the top 16 bits of a binary32).
enum class HalfFormat { Fp16, Bf16 };

struct DeviceInfo {
  std::string backend;   // "cpu-reference", "cpu", "cuda"
  std::string device;    // CPU model or GPU name
  std::string driver;    // GPU driver version ("" on CPU)
  std::string runtime;   // CUDA runtime version, or the compiler on CPU
  unsigned threads = 1;  // worker threads (CPU backends)
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual DeviceInfo info() const = 0;

  // ---- memory of this backend's device ----
  virtual void* allocate(std::size_t bytes) = 0;
  virtual void release(void* p) noexcept = 0;
  virtual void upload(void* dst, const void* host_src, std::size_t bytes) = 0;
  virtual void download(void* host_dst, const void* src, std::size_t bytes) = 0;
  virtual void fill_zero(void* dst, std::size_t bytes) = 0;
  virtual void synchronize() = 0;

  // ---- selection ----
  // Exact Top-K of |x|: writes k values (signed, as in x) and their indices.
  virtual void topk(const float* x, std::size_t n, std::size_t k, float* values, Index* indices) = 0;

  // Fused error feedback (Stich et al. 2018; Karimireddy et al. 2019):
  //   acc = g + e;  S = top-k of |acc|;  emit (acc[S], S);  e = acc with S zeroed.
  // Invariant: sum of emitted values over steps + final e == sum of g over steps.
  virtual void ef_topk(const float* g, float* e, std::size_t n, std::size_t k, float* values,
                       Index* indices) = 0;

  // Approximate Top-K by a sampled threshold: s = max(min_samples, ceil(sample_fraction n))
  // positions p_j = hash(seed, j) mod n (with replacement); threshold t = the
  // ceil(k s / n)-th largest |x[p_j]| (clamped to [1, s]); select every i with
  // |x_i| >= t. When more than `capacity` qualify, keep the exact top `capacity`
  // of them (DGC's hierarchical re-selection). Returns the count written.
  virtual ThresholdResult threshold_topk(const float* x, std::size_t n, std::size_t k, std::size_t capacity,
                                         const ThresholdOptions& opts, float* values, Index* indices) = 0;

  // Random-K: the k indices with the smallest hash32(seed, i) (a uniformly
  // random k-subset, the same on every backend and every worker sharing the
  // seed), and x at them. Costs O(n) hashing, no pass over x.
  virtual void randomk(const float* x, std::size_t n, std::size_t k, std::uint64_t seed, float* values,
                       Index* indices) = 0;

  // ---- wire format (see kernels/wire_format.h) ----
  // Writes wire_bytes(n, k) bytes: k float32 values, then k indices as int32
  // (n < 2^31) or int64. Indices must be < n (not checked).
  virtual void pack(const float* values, const Index* indices, std::size_t k, std::size_t n,
                    std::byte* wire) = 0;
  // Decodes a wire buffer for a tensor of n entries; returns k. Throws
  // WireFormatError when the length is not a multiple of the entry size or an
  // index is out of [0, n). values/indices must hold k entries.
  virtual std::size_t unpack(const std::byte* wire, std::size_t wire_bytes, std::size_t n, float* values,
                             Index* indices) = 0;

  // ---- reduction ----
  // dense[idx] += value for every entry of every part (duplicates add up).
  virtual void scatter_add(const SparseRef* parts, std::size_t num_parts, float* dense, std::size_t n) = 0;
  // out[i] = sum over j of inputs[j][i] (out is overwritten; num_inputs = 0 gives zeros).
  virtual void dense_sum(const float* const* inputs, std::size_t num_inputs, float* out, std::size_t n) = 0;

  // ==== quantization ops (k-quant) ==========================================
  // Casts, EF-signSGD and QSGD. Every backend gives the reference's bits for
  // every output below (kernels/half.h for the conversions, the fixed
  // summation order of sum_squares / sum_abs, and float operation orders
  // spelled out per op). Byte sizes of the packed formats: kernels/quant_format.h.
  // The CUDA backend synchronizes in the ops that can throw on data (to_half,
  // ef_sign, qsgd_quantize) or return a value (ef_sign, sum_squares, sum_abs).

  // ---- casts: PyTorch DDP's fp16_compress_hook / bf16_compress_hook ----
  // out[i] = round-to-nearest-even(x[i] * scale) in `format` (x[i] * scale is
  // one float multiply; the rounding is kernels/half.h's to_half). Throws
  // NonFiniteError(op, count) when any x[i] is NaN/Inf or a scaled value is not
  // finite in the format (rounds to +-Inf, or is NaN, e.g. from a non-finite
  // scale); count = the number of such entries. out's contents are then unspecified.
  virtual void to_half(const float* x, std::size_t n, float scale, HalfFormat format, std::uint16_t* out) = 0;
  // out[i] = the exact float value of h[i] (NaN payloads kept, subnormals exact).
  virtual void from_half(const std::uint16_t* h, std::size_t n, HalfFormat format, float* out) = 0;

  // ---- sign: EF-signSGD (Karimireddy et al., "Error Feedback Fixes SignSGD", ICML 2019) ----
  // bits: sign_bytes(n) = ceil(n / 8) bytes; bit i is bit (i % 8) of byte i / 8
  // (LSB first); 1 when p_i < 0, else 0 (so +0, -0 and positive values decode
  // as +1); unused trailing bits are 0.
  // With e != nullptr: p_i = g_i + e_i (float add); scale = float(sum_abs(p) / double(n));
  //   bits = sign(p); e_i = bit_i ? p_i + scale : p_i - scale (= p_i - scale sign(p_i)).
  // With e == nullptr: p = g (plain scaled signSGD, no error feedback).
  // Returns scale (0 for n == 0, when nothing is read or written).
  // NaN/Inf in p: NonFiniteError with their count; bits are then unspecified
  // and e holds g + e (the caller discards it).
  virtual float ef_sign(const float* g, float* e, std::size_t n, std::uint8_t* bits) = 0;
  // out[i] = out[i] + (bit_i ? -scale : scale)  (one float add)
  virtual void sign_decode_add(const std::uint8_t* bits, std::size_t n, float scale, float* out) = 0;
  // x[i] = scale * sign(x[i]): scale when x[i] > 0, -scale when x[i] < 0, +0
  // when x[i] is +-0, and a NaN is left as it is. signSGD with majority vote
  // (Bernstein et al., "signSGD: Compressed Optimisation for Non-Convex
  // Problems", ICML 2018): the votes summed by sign_decode_add with scale 1
  // become the elected sign (a tie elects 0).
  virtual void apply_sign(float* x, std::size_t n, float scale) = 0;

  // ---- QSGD (Alistarh et al., "QSGD: Communication-Efficient SGD via Gradient
  //      Quantization and Encoding", NeurIPS 2017) ----
  // sum of double(x_i)^2 (exact products) in the FIXED order every backend
  // reproduces bit for bit: x is cut into blocks of kSumBlock = 4096
  // consecutive entries (the last may be shorter); in each block, lane
  // l in [0, 32) sums, in double from +0.0, the block's entries l, l + 32,
  // l + 64, ... in that order; the block sum folds the 32 lane sums by
  // s_l = s_l + s_(l xor o) for o = 16, 8, 4, 2, 1 (all l at once) and is s_0.
  // The block sums are then combined the same way (lane l sums block sums
  // l, l + 32, ... in order, then the same fold). n == 0 gives 0.
  // (kernels/quant_format.h: kSumBlock, kSumLanes.)
  virtual double sum_squares(const float* x, std::size_t n) = 0;
  // sum of double(|x_i|) in the same order (ef_sign's ||p||_1).
  virtual double sum_abs(const float* x, std::size_t n) = 0;
  // bits in {2, 4, 8} (else std::invalid_argument): s = 2^(bits-1) - 1 levels
  // (1, 7, 127). factor = float(s) / norm (one float division). Entry i:
  //   l_i = 0 when x_i == +-0; otherwise r_i = |x_i| * factor (one float
  //   multiply); l_i = s when r_i >= s (or is +Inf); else f = floor(r_i) and
  //   l_i = f + (u_i < r_i - f ? 1 : 0), with u_i = float(hash64(seed, i) >> 40) * 2^-24
  //   (kernels/hash.h): stochastic rounding, unbiased (E[l_i] = r_i up to 2^-24).
  // code_i = (x_i < 0 ? 1 : 0) << (bits-1) | l_i, packed `bits` bits per
  // entry, LSB first (entry i is bits [i bits, (i+1) bits) of the stream, bit j
  // of the stream bit j % 8 of byte j / 8), qsgd_bytes(n, bits) =
  // ceil(n bits / 8) bytes, unused trailing bits 0. norm == 0 gives all-zero
  // codes (no sign bits). norm is the caller's, normally sqrt(sum_squares(x)):
  // a smaller one clamps levels at s. NonFiniteError: a norm that is not
  // (finite and >= 0) is rejected first, count 1, before x is read; then NaN/Inf
  // in x, with their count (codes then unspecified).
  virtual void qsgd_quantize(const float* x, std::size_t n, int bits, float norm, std::uint64_t seed,
                             std::uint8_t* codes) = 0;
  // q = norm / float(s) (one float division, once); v_i = float(l_i) * q (one
  // float multiply); out[i] = sign_i ? out[i] - v_i : out[i] + v_i (one float
  // add). No FMA contraction anywhere (CPU files built with -ffp-contract=off,
  // CUDA with __fmul_rn / __fadd_rn), so all backends give identical bits.
  virtual void qsgd_dequantize_add(const std::uint8_t* codes, std::size_t n, int bits, float norm, float* out) = 0;
  // ==== end of quantization ops (k-quant) ===================================
  // ---- low rank: PowerSGD (begin) ----
  // The matrix kernels of PowerSGD (Vogels, Karimireddy and Jaggi, "PowerSGD:
  // Practical Low-Rank Gradient Compression for Distributed Optimization",
  // NeurIPS 2019, Algorithm 1; PyTorch's ddp_comm_hooks/powerSGD_hook.py).
  // One power-iteration step on M (n x m): P = M Q, orthogonalize(P),
  // Q = M^T P, and the approximation P Q^T. Matrices are dense, row-major fp32
  // in this backend's memory; an output must not overlap an input. Sizes of 0
  // are allowed: an empty output is not touched, and an empty inner dimension
  // gives zeros. On "cuda" n, m and r must each fit in an int (cuBLAS), else
  // std::invalid_argument; the ops are enqueued on the stream (no
  // synchronization).
  //
  // Accuracy: the reference accumulates in double and rounds once. "cpu" and
  // "cuda" accumulate in fp32 in their own order (cuda: cuBLAS sgemm in its
  // default math mode, FP32, no TF32); tests/kernel_contract_lowrank_test.cpp
  // holds them to |C - C_ref|_ij <= (4 sqrt(k) + 2) 2^-24 (|A| |B|)_ij, k the
  // inner dimension (a statistical bound on fp32 rounding, not the worst case).
  //
  // Non-finite values are not rejected: NaN and Inf propagate as IEEE
  // arithmetic carries them (no shortcut skips a zero factor, so 0 * NaN and
  // 0 * Inf give NaN): an output entry is NaN or Inf when an entry it
  // depends on is, and entries that depend on none are unaffected.

  // C (n x r) = A (n x m) B (m x r): P = M Q.
  virtual void matmul(const float* A, const float* B, float* C, std::size_t n, std::size_t m, std::size_t r) = 0;
  // C (m x r) = A^T B, A (n x m), B (n x r): Q = M^T P.
  virtual void matmul_tn(const float* A, const float* B, float* C, std::size_t n, std::size_t m, std::size_t r) = 0;
  // C (n x m) = A (n x r) B^T, B (m x r): the approximation P Q^T.
  virtual void matmul_nt(const float* A, const float* B, float* C, std::size_t n, std::size_t m, std::size_t r) = 0;

  // In place on the r columns of P (n x r), modified Gram-Schmidt as
  // powerSGD_hook's _orthogonalize_gram_schmidt: for i = 0 .. r-1:
  //   col_i /= (||col_i||_2 + epsilon);  for j > i: col_j -= (col_i . col_j) col_i.
  // r > n is a std::invalid_argument (r orthonormal columns need n >= r; the
  // hook clamps its rank to min(n, m)); r = 0 is a no-op. The reference works
  // in double and rounds the result once; "cpu" and "cuda" in fp32.
  // Degenerate columns, the same on every backend: with epsilon = 0 an exactly
  // zero column i gives 0 / 0 = NaN, so columns i .. r-1 become all NaN and
  // columns before i are kept (as in PyTorch, whose except ZeroDivisionError
  // never fires on tensors); with epsilon > 0 a zero column stays zero and the
  // others are orthonormalized. A NaN in column c likewise makes columns c ..
  // r-1 all NaN; an Inf in column c leaves at least one NaN in it and makes
  // columns c+1 .. r-1 all NaN; columns before c do not depend on column c.
  // Nearly dependent columns come out as normalized rounding noise, which
  // differs between backends, and the fp32 backends overflow ||col||^2 for
  // entries beyond about 1e19 (the reference does not): scale such inputs first.
  virtual void orthogonalize(float* P, std::size_t n, std::size_t r, float epsilon) = 0;
  // orthogonalize on each of `count` matrices (a host array of MatrixRef;
  // rows = n, cols = r; they must not overlap): PowerSGD's bucket holds many
  // layers, each with its own P, and this costs one launch on "cuda" (a block
  // per matrix) and one fork on "cpu" (whole matrices per thread, so a matrix
  // may round differently than in a multi-threaded orthogonalize call). Every
  // matrix is checked first: cols > rows in any is a std::invalid_argument
  // naming it, and then none is touched. count = 0 is a no-op.
  virtual void orthogonalize_batched(const MatrixRef* matrices, std::size_t count, float epsilon) = 0;
  // ---- low rank: PowerSGD (end) ----
};

// "cpu-reference", "cpu" or "cuda". threads: CPU worker threads (0 = all
// cores); ignored by "cuda". Throws std::invalid_argument for an unknown name
// and std::runtime_error for "cuda" without CUDA or without a device.
std::unique_ptr<Backend> make_backend(const std::string& name, unsigned threads = 1);

// Whether this build has the CUDA backend and a device is present.
bool cuda_device_available();

}  // namespace gcsim::kernels
