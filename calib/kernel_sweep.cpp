#include "calib/kernel_sweep.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>

#include "kernels/buffer.h"
#include "kernels/synthetic_gradient.h"
#include "calib/kernel_ops/kernel_op.h"

namespace gcsim::calib {

namespace {

using kernels::Backend;
using kernels::Buffer;
using kernels::Index;

// Reads and writes one byte of every cache line of `scratch`: what was cached
// before is evicted (KernelSweepOptions::evict_bytes).
void evict(std::vector<unsigned char>& scratch) {
  for (std::size_t i = 0; i < scratch.size(); i += 64) scratch[i] = static_cast<unsigned char>(scratch[i] + 1);
  volatile unsigned char sink = scratch.empty() ? 0 : scratch.back();
  (void)sink;
}

Summary time_op(Backend& b, int warmup, int repeats, const std::function<void()>& setup,
                const std::function<void()>& op, std::vector<unsigned char>& scratch) {
  for (int i = 0; i < warmup; ++i) {
    setup();
    op();
  }
  std::vector<double> t;
  t.reserve(static_cast<std::size_t>(repeats));
  for (int i = 0; i < repeats; ++i) {
    setup();
    evict(scratch);
    b.synchronize();
    const auto t0 = std::chrono::steady_clock::now();
    op();
    b.synchronize();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return summarize(std::move(t));
}

}  // namespace

const std::vector<std::string>& kernel_ops() {
  static const std::vector<std::string> ops = [] {
    std::vector<std::string> names;
    for (const KernelOpSpec& spec : kernel_op_table()) names.push_back(spec.name);
    return names;
  }();
  return ops;
}

std::vector<double> size_grid(double min_n, double max_n, int per_decade) {
  if (!(min_n >= 1.0) || !(max_n >= min_n)) throw std::invalid_argument("size grid needs 1 <= min <= max");
  std::vector<double> mult;
  switch (per_decade) {
    case 1: mult = {1.0}; break;
    case 2: mult = {1.0, 3.0}; break;
    case 3: mult = {1.0, 2.0, 5.0}; break;
    default: throw std::invalid_argument("points per decade must be 1, 2 or 3");
  }
  std::vector<double> out;
  for (double decade = std::pow(10.0, std::floor(std::log10(min_n))); decade <= max_n * 1.0000001; decade *= 10.0)
    for (double m : mult) {
      const double n = std::round(decade * m);
      if (n >= min_n * 0.9999999 && n <= max_n * 1.0000001) out.push_back(n);
    }
  return out;
}

namespace {

const KernelOpSpec& spec_of(const std::string& op) {
  for (const KernelOpSpec& spec : kernel_op_table())
    if (spec.name == op) return spec;
  throw std::invalid_argument("unknown kernel op '" + op + "'");
}

}  // namespace

std::size_t sweep_points(const KernelSweepOptions& opts) {
  const std::vector<std::string>& ops = opts.ops.empty() ? kernel_ops() : opts.ops;
  std::size_t points = 0;
  for (const auto& op : ops)
    for (double n : opts.sizes) points += spec_of(op).points(static_cast<std::size_t>(n), opts.ratios, opts.parts).size();
  return points;
}

std::vector<KernelMeasurement> run_kernel_sweep(Backend& b, const KernelSweepOptions& opts,
                                                const std::function<void()>& on_point) {
  const std::vector<std::string>& ops = opts.ops.empty() ? kernel_ops() : opts.ops;
  for (const auto& op : ops) spec_of(op);  // unknown names throw before any work
  if (opts.repeats < 1 || opts.warmup < 0 || opts.parts < 1)
    throw std::invalid_argument("repeats >= 1, warmup >= 0 and parts >= 1 are required");

  std::vector<unsigned char> scratch(opts.evict_bytes, 0);
  std::vector<KernelMeasurement> out;
  for (double nd : opts.sizes) {
    const auto n = static_cast<std::size_t>(nd);
    const Buffer<float> x(b, kernels::normal_vector(n, opts.seed + n));
    const OpInputs inputs{b, n, x, opts.parts, opts.seed};
    // Points in the order the sweep always had: ratio by ratio, op by op; ops
    // without a ratio after them.
    struct Pending {
      const KernelOpSpec* spec;
      OpPoint point;
    };
    std::vector<Pending> order;
    for (std::size_t r = 0; r < opts.ratios.size(); ++r)
      for (const auto& op : ops) {
        const KernelOpSpec& spec = spec_of(op);
        const std::vector<OpPoint> pts = spec.points(n, opts.ratios, opts.parts);
        if (pts.size() == opts.ratios.size() && pts[r].rho == opts.ratios[r]) order.push_back({&spec, pts[r]});
      }
    for (const auto& op : ops) {
      const KernelOpSpec& spec = spec_of(op);
      for (const OpPoint& p : spec.points(n, opts.ratios, opts.parts))
        if (p.rho == 0.0) order.push_back({&spec, p});
    }
    for (const Pending& item : order) {
      const std::unique_ptr<PreparedOp> prepared = item.spec->prepare(inputs, item.point);
      KernelMeasurement m{item.spec->name, nd, item.point.rho, static_cast<double>(item.point.k), {}};
      m.seconds =
          time_op(b, opts.warmup, opts.repeats, [&] { prepared->setup(); }, [&] { prepared->run(); }, scratch);
      out.push_back(std::move(m));
      if (on_point) on_point();
    }
  }
  return out;
}

}  // namespace gcsim::calib
