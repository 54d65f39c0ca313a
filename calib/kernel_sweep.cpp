#include "calib/kernel_sweep.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>

#include "kernels/buffer.h"
#include "kernels/synthetic_gradient.h"
#include "kernels/wire_format.h"

namespace gcsim::calib {

namespace {

using kernels::Backend;
using kernels::Buffer;
using kernels::Index;

Summary time_op(Backend& b, int warmup, int repeats, const std::function<void()>& setup,
                const std::function<void()>& op) {
  for (int i = 0; i < warmup; ++i) {
    setup();
    op();
  }
  std::vector<double> t;
  t.reserve(static_cast<std::size_t>(repeats));
  for (int i = 0; i < repeats; ++i) {
    setup();
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
  static const std::vector<std::string> ops = {"topk", "ef_topk", "threshold", "randomk", "pack", "scatter_add"};
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

std::size_t sweep_points(const KernelSweepOptions& opts) {
  const std::size_t ops = opts.ops.empty() ? kernel_ops().size() : opts.ops.size();
  return ops * opts.sizes.size() * opts.ratios.size();
}

std::vector<KernelMeasurement> run_kernel_sweep(Backend& b, const KernelSweepOptions& opts,
                                                const std::function<void()>& on_point) {
  const std::vector<std::string>& ops = opts.ops.empty() ? kernel_ops() : opts.ops;
  for (const auto& op : ops)
    if (std::find(kernel_ops().begin(), kernel_ops().end(), op) == kernel_ops().end())
      throw std::invalid_argument("unknown kernel op '" + op + "'");
  if (opts.repeats < 1 || opts.warmup < 0 || opts.parts < 1)
    throw std::invalid_argument("repeats >= 1, warmup >= 0 and parts >= 1 are required");

  std::vector<KernelMeasurement> out;
  for (double nd : opts.sizes) {
    const auto n = static_cast<std::size_t>(nd);
    const std::vector<float> host = kernels::normal_vector(n, opts.seed + n);
    Buffer<float> x(b, host);
    Buffer<float> e(b, n);
    Buffer<float> dense(b, n);
    for (double rho : opts.ratios) {
      const std::size_t k = std::min(n, std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(rho * nd))));
      const std::size_t capacity = std::min(n, 2 * k);
      Buffer<float> values(b, capacity);
      Buffer<Index> indices(b, capacity);
      // scatter_add's inputs: `parts` wire buffers with different random subsets.
      const std::size_t wire_len = kernels::wire_bytes(n, k);
      std::vector<Buffer<std::byte>> wires;
      std::vector<Buffer<float>> part_values;
      std::vector<Buffer<Index>> part_indices;
      std::vector<kernels::SparseRef> refs;
      if (std::find(ops.begin(), ops.end(), "scatter_add") != ops.end()) {
        for (int p = 0; p < opts.parts; ++p) {
          wires.emplace_back(b, wire_len);
          part_values.emplace_back(b, k);
          part_indices.emplace_back(b, k);
          b.randomk(x.data(), n, k, opts.seed + static_cast<std::uint64_t>(p), values.data(), indices.data());
          b.pack(values.data(), indices.data(), k, n, wires.back().data());
        }
        for (int p = 0; p < opts.parts; ++p)
          refs.push_back({part_values[static_cast<std::size_t>(p)].data(),
                          part_indices[static_cast<std::size_t>(p)].data(), k});
      }
      b.topk(x.data(), n, k, values.data(), indices.data());  // pack's input
      Buffer<std::byte> wire(b, wire_len);

      const auto nothing = [] {};
      for (const auto& op : ops) {
        KernelMeasurement m{op, nd, rho, static_cast<double>(k), {}};
        if (op == "topk") {
          m.seconds = time_op(b, opts.warmup, opts.repeats, nothing,
                              [&] { b.topk(x.data(), n, k, values.data(), indices.data()); });
        } else if (op == "ef_topk") {
          m.seconds = time_op(
              b, opts.warmup, opts.repeats, [&] { e.zero(); },
              [&] { b.ef_topk(x.data(), e.data(), n, k, values.data(), indices.data()); });
        } else if (op == "threshold") {
          kernels::ThresholdOptions t;
          t.seed = opts.seed;
          m.seconds = time_op(b, opts.warmup, opts.repeats, nothing, [&] {
            b.threshold_topk(x.data(), n, k, capacity, t, values.data(), indices.data());
          });
        } else if (op == "randomk") {
          m.seconds = time_op(b, opts.warmup, opts.repeats, nothing,
                              [&] { b.randomk(x.data(), n, k, opts.seed, values.data(), indices.data()); });
        } else if (op == "pack") {
          m.seconds = time_op(b, opts.warmup, opts.repeats, nothing,
                              [&] { b.pack(values.data(), indices.data(), k, n, wire.data()); });
        } else {  // scatter_add
          m.k = static_cast<double>(k) * opts.parts;
          m.seconds = time_op(b, opts.warmup, opts.repeats, nothing, [&] {
            dense.zero();
            for (std::size_t p = 0; p < wires.size(); ++p)
              b.unpack(wires[p].data(), wire_len, n, part_values[p].data(), part_indices[p].data());
            b.scatter_add(refs.data(), refs.size(), dense.data(), n);
          });
        }
        out.push_back(std::move(m));
        if (on_point) on_point();
      }
    }
  }
  return out;
}

}  // namespace gcsim::calib
