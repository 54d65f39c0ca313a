// A profile: the measured (or published) world the simulator runs on.
// Kernel costs, collective software overheads and GPU entries. Written by
// `gcsim calibrate`, or shipped from published figures (scenarios/profiles/).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "sim/collective_figures.h"
#include "sim/kernel_cost.h"
#include "sim/layer_times.h"

namespace gcsim {

struct GpuEntry {
  std::string name;
  double peak_flops = 0.0;          // FLOP/s at the training precision
  double memory_bandwidth = 0.0;    // bytes/s
  double default_efficiency = 0.4;  // fraction of peak a training step reaches (MFU)
};

// Names of the kernel ops of a profile: the first seven are required in every profile.
namespace op {
inline constexpr const char* topk = "topk";                  // exact Top-K of |x|
inline constexpr const char* ef_topk = "ef_topk";            // fused error feedback + Top-K
inline constexpr const char* randomk = "randomk";            // Random-K
inline constexpr const char* threshold = "threshold";        // sampled-threshold Top-K (DGC)
inline constexpr const char* pack = "pack";                  // (value, index) to wire format
inline constexpr const char* scatter_add = "scatter_add";    // unpack + scatter-add of received entries
inline constexpr const char* optimizer = "optimizer";        // SGD-momentum step over all parameters
// ---- k-quant: OPTIONAL in a profile (config/profile_loader.cpp): required only
// by a scenario whose compression method uses them. What n and k mean: calib/kernel_sweep.h.
inline constexpr const char* cast = "cast";                        // fp16 cast and back (DDP fp16 hook)   cost(n, 0)
inline constexpr const char* ef_sign = "ef_sign";                  // EF-signSGD compression               cost(n, 0)
inline constexpr const char* sign_decode = "sign_decode";          // decode-add of received sign parts    cost(n, parts n)
inline constexpr const char* qsgd_quantize = "qsgd_quantize";      // norm + QSGD codes                    cost(n, 0)
inline constexpr const char* qsgd_dequantize = "qsgd_dequantize";  // decode-add of received QSGD parts    cost(n, parts n)
// ---- PowerSGD, optional likewise:
inline constexpr const char* matmul = "matmul";                // one GEMM of PowerSGD  cost(rows cols, rows cols r)
inline constexpr const char* orthogonalize = "orthogonalize";  // Gram-Schmidt of P      cost(rows r, rows r^2)
// ---- the hierarchical exchange, optional likewise; a profile without it
// (written before it existed) prices these sums at 0, as the model then did:
inline constexpr const char* dense_sum = "dense_sum";  // out = a + b, a dense reduce-scatter's sums  cost(n, 0)
// ---- the codecs' passes over a bucket in host memory (kernels/host_passes.h),
// optional likewise and priced at 0 where a profile (written before them) has none:
inline constexpr const char* finite_check = "finite_check";  // count NaN / Inf in the gradient   cost(n, 0)
inline constexpr const char* scale = "scale";                // the sum / P                       cost(n, 0)
inline constexpr const char* ef_add = "ef_add";              // g += e, keep a copy (PowerSGD)    cost(n, 0)
inline constexpr const char* ef_residual = "ef_residual";    // e = copy - g (PowerSGD)           cost(n, 0)

// The one list of each kind: the loader reads exactly these, the fuzz
// property checks against them. A new op is a name above and one entry here.
inline const std::vector<std::string>& required() {
  static const std::vector<std::string> names = {topk, ef_topk, randomk, threshold, pack, scatter_add, optimizer};
  return names;
}
inline const std::vector<std::string>& optional() {
  static const std::vector<std::string> names = {cast,   ef_sign,       sign_decode,  qsgd_quantize, qsgd_dequantize,
                                                 matmul, orthogonalize, dense_sum,    finite_check,  scale,
                                                 ef_add, ef_residual};
  return names;
}
// The optional ops a profile without them prices at 0 (the model before they
// were priced); a missing one of the others is an error when a method needs it.
inline const std::vector<std::string>& free_when_absent() {
  static const std::vector<std::string> names = {dense_sum, finite_check, scale, ef_add, ef_residual};
  return names;
}
}  // namespace op

struct Profile {
  std::string name;
  std::string source_path;     // file it was read from
  std::string device;          // what it describes or was measured on
  std::string measured_on;     // date, driver, library versions (free text)

  // Per-message (per step) software overhead of the collective library
  // (seconds), added to each link class's latency to form the alpha of the
  // alpha-beta model.
  double collective_alpha_s = 0.0;
  // Fixed cost of launching one collective (seconds), paid once per collective.
  double collective_launch_s = 0.0;
  // Fraction of link bandwidth a large message achieves (bus bandwidth / line rate).
  double intra_node_efficiency = 1.0;
  double inter_node_efficiency = 1.0;
  // [collective] fabric_efficiency: the links between switches' (collective_figures.h); unset: the NICs'
  std::optional<double> fabric_efficiency;
  // Fitted figures per algorithm family ([collective.ring], [collective.tree],
  // [collective.allgather]), keyed by family:: names; a family without its own
  // uses the ring's, and the ring without its own the four above.
  std::map<std::string, CollectiveFigures> collective_families;

  std::map<std::string, KernelCost> kernels;  // keyed by op:: names
  std::map<std::string, GpuEntry> gpus;       // keyed by GpuEntry::name
  // [layer_times.MODEL]: measured per-layer compute, keyed by zoo model name (sim/layer_times.h).
  std::map<std::string, MeasuredLayers> layer_times;

  const KernelCost& kernel(const std::string& name) const;  // throws std::logic_error if absent
  // The figures collectives of `family` are charged: its own section, else the ring's, else the defaults.
  CollectiveFigures collective(std::string_view family) const;
};

}  // namespace gcsim
