// `gcsim calibrate kernels`: time every compression op of a kernel backend over
// a grid of tensor sizes n (and density ratios rho, for the ops that take one),
// with warm-up and repeats.
//
// Each op is one file in calib/kernel_ops/ (the table: kernel_ops/table.cpp),
// which says what its measurement covers and what n and k of the simulator's
// cost(n, k) mean for it (sim/profile.h), with k = ceil(rho n):
//   topk            exact Top-K of |x|                               cost(n, k)
//   ef_topk         e = g + e, Top-K, zero the selected entries      cost(n, k)
//   threshold       DGC sampled threshold, capacity 2k               cost(n, k)
//   randomk         Random-K                                         cost(n, k)
//   pack            k (value, index) pairs to the wire format        cost(n, k)
//   scatter_add     zero a dense buffer of n, unpack `parts` wire buffers of k
//                   entries and scatter-add them                     cost(n, parts k)
//   cast            to_half (fp16) then from_half of n entries       cost(n, 0)
//   ef_sign         EF-signSGD: p = g + e, scale, bits, residual     cost(n, 0)
//   sign_decode     zero a dense buffer of n, sign_decode_add `parts`
//                   sign buffers                                     cost(n, parts n)
//   qsgd_quantize   sum_squares, then 4-bit QSGD codes               cost(n, 0)
//   qsgd_dequantize zero a dense buffer of n, dequantize-add `parts`
//                   4-bit code buffers                               cost(n, parts n)
//   matmul, orthogonalize: PowerSGD's (calib/kernel_ops/)
//   dense_sum       out = a + b                                      cost(n, 0)
// and the codecs' passes in host memory (kernels/host_passes.h), timed on the
// host CPU whatever the backend:
//   finite_check    count NaN / Inf                                  cost(n, 0)
//   scale           x *= 1 / P                                       cost(n, 0)
//   ef_add          g += e, copy kept                                cost(n, 0)
//   ef_residual     e = copy - g                                     cost(n, 0)
// The ratio-free ops (cast, ef_sign, qsgd_quantize) are measured once per n
// (rho = 0 in the output); the two decode ops once with 1 part and once with
// `parts` parts (rho = 0), so the fit can tell the n term from the parts n term.
// Each repeat is bracketed by synchronize(), so GPU timings include launches.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "calib/stats.h"
#include "kernels/backend.h"

namespace gcsim::calib {

struct KernelSweepOptions {
  std::vector<double> sizes;                   // n values
  std::vector<double> ratios = {0.1, 0.01, 0.001};
  std::vector<std::string> ops;                // empty = all of kernel_ops()
  int warmup = 2;
  int repeats = 7;
  int parts = 4;                               // contributions per scatter_add
  std::uint64_t seed = 1;
  // Bytes of host memory swept (each cache line read and written) after each
  // repeat's setup, before it is timed: 0 times every repeat with the caches
  // as the last one left them (warm); a sweep larger than the last-level cache
  // times it cold, as a trainer meets a bucket written long before.
  std::size_t evict_bytes = 0;
};

struct KernelMeasurement {
  std::string op;
  double n = 0.0;     // elements
  double rho = 0.0;
  double k = 0.0;     // the k of the op's cost(n, k) (see above)
  Summary seconds;
};

// The ops calibrate measures, in the profile's names (sim/profile.h op::).
const std::vector<std::string>& kernel_ops();

// n from min to max (inclusive), `per_decade` points per decade (1, 2 or 3:
// 1; 1, 3; 1, 2, 5 times powers of ten).
std::vector<double> size_grid(double min_n, double max_n, int per_decade);

// Number of points `run_kernel_sweep` will measure.
std::size_t sweep_points(const KernelSweepOptions& opts);

// Measures every point; calls `on_point` after each (for a progress bar).
std::vector<KernelMeasurement> run_kernel_sweep(kernels::Backend& backend, const KernelSweepOptions& opts,
                                                const std::function<void()>& on_point);

}  // namespace gcsim::calib
