// One kernel op as `gcsim calibrate kernels` times it: its profile name
// (sim/profile.h op::), what the n and k of its cost(n, k) mean, the points it
// is measured at for each tensor size, and how to set up and time one point.
// Each op lives in its own file under calib/kernel_ops/ and is listed once in
// calib/kernel_ops/table.cpp; calib/kernel_sweep.cpp runs the table.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "kernels/backend.h"
#include "kernels/buffer.h"

namespace gcsim::calib {

// What the sweep hands an op for one tensor size: the backend, n, N(0, 1)
// data already in device memory, and the sweep's options.
struct OpInputs {
  kernels::Backend& backend;
  std::size_t n = 0;
  const kernels::Buffer<float>& x;   // n entries, N(0, 1)
  int parts = 4;                     // the sweep's --parts
  std::uint64_t seed = 1;
};

// One measured point: k is the op's cost-model k; rho is the density ratio it
// was measured at (0 for ops that take none).
struct OpPoint {
  double rho = 0.0;
  std::size_t k = 0;     // for selections: ceil(rho n); the value the cost fit sees
  int parts = 1;         // contributions decoded (decode ops)
};

// A point made ready to time: setup() runs before every repeat, untimed;
// run() is the timed call (the sweep brackets it with synchronize()).
struct PreparedOp {
  virtual ~PreparedOp() = default;
  virtual void setup() {}
  virtual void run() = 0;
};

struct KernelOpSpec {
  std::string name;    // sim/profile.h op:: name
  std::string n_is;    // what n means in cost(n, k)
  std::string k_is;    // what k means
  // The points measured at size n for the sweep's ratios and parts.
  std::function<std::vector<OpPoint>(std::size_t n, const std::vector<double>& ratios, int parts)> points;
  std::function<std::unique_ptr<PreparedOp>(const OpInputs&, const OpPoint&)> prepare;
};

// k = ceil(rho n), clamped to [1, n]: the selection ops' k.
std::size_t selected_count(std::size_t n, double rho);

// The points of a selection op: one per ratio, k = selected_count(n, rho) x k_scale.
std::vector<OpPoint> ratio_points(std::size_t n, const std::vector<double>& ratios, int k_scale = 1);

// The table, in calibrate's order.
const std::vector<KernelOpSpec>& kernel_op_table();

// One per file (calib/kernel_ops/<name>.cpp).
KernelOpSpec topk_op();
KernelOpSpec ef_topk_op();
KernelOpSpec threshold_op();
KernelOpSpec randomk_op();
KernelOpSpec pack_op();
KernelOpSpec scatter_add_op();
KernelOpSpec cast_op();             // k-quant
KernelOpSpec ef_sign_op();          // k-quant
KernelOpSpec sign_decode_op();      // k-quant
KernelOpSpec qsgd_quantize_op();    // k-quant
KernelOpSpec qsgd_dequantize_op();  // k-quant
KernelOpSpec matmul_op();           // PowerSGD
KernelOpSpec orthogonalize_op();    // PowerSGD
KernelOpSpec dense_sum_op();        // the hierarchical exchange's reduce-scatter sums
KernelOpSpec finite_check_op();     // the codecs' host passes (kernels/host_passes.h)
KernelOpSpec scale_op();
KernelOpSpec ef_add_op();
KernelOpSpec ef_residual_op();

// A PreparedOp from two lambdas (setup may be empty); `state` keeps the
// buffers the lambdas use alive.
template <class State>
std::unique_ptr<PreparedOp> prepared(std::shared_ptr<State> state, std::function<void(State&)> run,
                                     std::function<void(State&)> setup = {}) {
  struct Op final : PreparedOp {
    std::shared_ptr<State> s;
    std::function<void(State&)> r, u;
    void setup() override {
      if (u) u(*s);
    }
    void run() override { r(*s); }
  };
  auto op = std::make_unique<Op>();
  op->s = std::move(state);
  op->r = std::move(run);
  op->u = std::move(setup);
  return op;
}

}  // namespace gcsim::calib
