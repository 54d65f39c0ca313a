// Timing Gloo collectives and fitting the profile's collective figures (see collective_sweep.h).
#include "calib/collective_sweep.h"

#include "calib/communicator_bench.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>

namespace gcsim::calib {

std::vector<CollectiveMeasurement> run_collective_sweep(CollectiveBench& bench, const CollectiveSweepOptions& opts,
                                                        const std::function<void()>& tick) {
  if (opts.repeats < 1 || opts.warmup < 0) throw std::invalid_argument("collective sweep: repeats >= 1, warmup >= 0");
  const std::vector<std::string> can = bench.collectives();
  std::vector<std::string> ops = opts.collectives.empty() ? can : opts.collectives;
  for (const std::string& op : ops) {
    check_collective(op);
    if (std::find(can.begin(), can.end(), op) == can.end())
      throw std::invalid_argument("collective sweep: this backend cannot time " + op);
  }
  std::vector<CollectiveMeasurement> out;
  for (const std::string& op : all_ops()) {  // always in the same order
    if (std::find(ops.begin(), ops.end(), op) == ops.end()) continue;
    for (const std::size_t bytes : opts.sizes) {
      if (bytes == 0 || bytes % 4 != 0) throw std::invalid_argument("collective sweep: sizes must be positive multiples of 4");
      bench.prepare(op, bytes);
      std::vector<double> times;
      for (int i = 0; i < opts.warmup + opts.repeats; ++i) {
        const double s = bench.run_timed();
        if (i >= opts.warmup) times.push_back(s);
      }
      CollectiveMeasurement m;
      m.op = op;
      m.bytes = bytes;
      m.wire_bytes = wire_bytes(op, bytes, bench.ring_length(op));
      m.seconds = summarize(times);
      if (opts.check) m.wrong = bench.check();
      if (m.wrong > 0)
        throw std::runtime_error("collective sweep: the data check of " + op + " on " + std::to_string(bytes) +
                                 " bytes found " + std::to_string(m.wrong) + " wrong elements");
      out.push_back(m);
      if (tick) tick();
    }
  }
  return out;
}

std::vector<CollectiveMeasurement> run_collective_sweep(comm::Communicator& comm, const CollectiveSweepOptions& opts,
                                                        const std::function<void()>& tick) {
  CommunicatorBench bench(comm, opts.compute_s, opts.groups);
  return run_collective_sweep(bench, opts, tick);
}

namespace {

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

// Least-squares slope of t over n on the larger half of the points (by n);
// 0 when it is not positive or there is no spread in n.
double upper_half_slope(std::vector<CostPoint> pts) {
  std::sort(pts.begin(), pts.end(), [](const CostPoint& a, const CostPoint& b) { return a.n < b.n; });
  pts.erase(pts.begin(), pts.begin() + static_cast<std::ptrdiff_t>(pts.size() / 2));
  double mn = 0, mt = 0;
  for (const auto& p : pts) {
    mn += p.n;
    mt += p.t;
  }
  mn /= static_cast<double>(pts.size());
  mt /= static_cast<double>(pts.size());
  double sxy = 0, sxx = 0;
  for (const auto& p : pts) {
    sxy += (p.n - mn) * (p.t - mt);
    sxx += (p.n - mn) * (p.n - mn);
  }
  return sxx > 0 && sxy > 0 ? sxy / sxx : 0.0;
}

// t = c + slope n with c the median residual; r2 and the worst relative error.
CostFit robust_line(const std::vector<CostPoint>& pts, double slope) {
  std::vector<double> residual;
  for (const auto& p : pts) residual.push_back(p.t - slope * p.n);
  CostFit f;
  f.alpha_s = std::max(0.0, median_of(residual));
  f.per_element_s = slope;
  f.points = static_cast<int>(pts.size());
  double mean = 0;
  for (const auto& p : pts) mean += p.t;
  mean /= static_cast<double>(pts.size());
  double ss_res = 0, ss_tot = 0;
  for (const auto& p : pts) {
    const double e = p.t - f.eval(p.n, 0.0);
    ss_res += e * e;
    ss_tot += (p.t - mean) * (p.t - mean);
    f.max_rel_error = std::max(f.max_rel_error, std::fabs(e) / p.t);
  }
  f.r2 = ss_tot > 0 ? 1.0 - ss_res / ss_tot : 1.0;
  return f;
}

// The (size, median time) points of one collective, each time checked
// positive; `wire` picks the bytes on the wire over the payload bytes.
std::vector<CostPoint> points_of(const std::vector<CollectiveMeasurement>& ms, const std::string& op, bool wire,
                                 const char* who) {
  std::vector<CostPoint> out;
  for (const auto& m : ms) {
    if (m.op != op) continue;
    if (!(m.seconds.median > 0.0)) throw std::invalid_argument(std::string(who) + ": a time is not positive");
    out.push_back({wire ? m.wire_bytes : static_cast<double>(m.bytes), 0.0, m.seconds.median});
  }
  return out;
}

}  // namespace

CollectiveFit fit_collectives(const std::vector<CollectiveMeasurement>& ms, int workers) {
  if (workers < 2) throw std::invalid_argument("fit_collectives: needs at least 2 workers");
  std::vector<CostPoint> ar, ag;
  for (const auto& m : ms) {
    if (!(m.seconds.median > 0.0)) throw std::invalid_argument("fit_collectives: a time is not positive");
    if (m.op == coll::allreduce) ar.push_back({m.wire_bytes, 0.0, m.seconds.median});
    else if (m.op == coll::allgather) ag.push_back({m.wire_bytes, 0.0, m.seconds.median});
  }
  if (ar.size() < 2 || ag.empty()) throw std::invalid_argument("fit_collectives: needs allreduce and allgather points");
  CollectiveFit f;
  f.workers = workers;
  const double slope = upper_half_slope(ar);
  f.allreduce = robust_line(ar, slope);
  f.allgather = robust_line(ag, slope);
  const double steps = workers - 1.0;
  f.step_alpha_s = std::max(0.0, (f.allreduce.alpha_s - f.allgather.alpha_s) / steps);
  f.launch_s = std::max(0.0, f.allgather.alpha_s - steps * f.step_alpha_s);
  f.bytes_per_s = f.allreduce.per_element_s > 0.0 ? 1.0 / f.allreduce.per_element_s : 0.0;
  return f;
}

TreeFit fit_tree_allreduce(const std::vector<CollectiveMeasurement>& ms, int workers, double launch_s) {
  if (workers < 2) throw std::invalid_argument("fit_tree_allreduce: needs at least 2 workers");
  const std::vector<CostPoint> ar = points_of(ms, coll::allreduce, false, "fit_tree_allreduce");
  if (ar.size() < 2) throw std::invalid_argument("fit_tree_allreduce: needs allreduce points at two sizes at least");
  TreeFit f;
  f.workers = workers;
  f.launch_s = launch_s;
  f.allreduce = robust_line(ar, upper_half_slope(ar));
  int levels = 0;
  while ((1 << levels) < workers) ++levels;
  f.step_alpha_s = std::max(0.0, (f.allreduce.alpha_s - launch_s) / (2.0 * levels));
  f.bytes_per_s = f.allreduce.per_element_s > 0.0 ? 2.0 / f.allreduce.per_element_s : 0.0;
  return f;
}

namespace {

// t = c + wire / B over op's points, alpha = (c - launch) / (passes (P - 1)).
AllgatherFit fit_ring_steps(const std::vector<CollectiveMeasurement>& ms, int workers, double launch_s,
                            const std::string& op, double passes, const char* who) {
  if (workers < 2) throw std::invalid_argument(std::string(who) + ": needs at least 2 workers");
  const std::vector<CostPoint> pts = points_of(ms, op, true, who);
  if (pts.size() < 2) throw std::invalid_argument(std::string(who) + ": needs " + op + " points at two sizes at least");
  AllgatherFit f;
  f.workers = workers;
  f.launch_s = launch_s;
  f.allgather = robust_line(pts, upper_half_slope(pts));
  f.step_alpha_s = std::max(0.0, (f.allgather.alpha_s - launch_s) / (passes * (workers - 1.0)));
  f.bytes_per_s = f.allgather.per_element_s > 0.0 ? 1.0 / f.allgather.per_element_s : 0.0;
  return f;
}

}  // namespace

AllgatherFit fit_allgather(const std::vector<CollectiveMeasurement>& ms, int workers, double launch_s,
                           const std::string& op) {
  return fit_ring_steps(ms, workers, launch_s, op, 1.0, "fit_allgather");
}

AllgatherFit fit_half_allreduce(const std::vector<CollectiveMeasurement>& ms, int workers, double launch_s) {
  return fit_ring_steps(ms, workers, launch_s, coll::allreduce_half, 2.0, "fit_half_allreduce");
}

std::vector<EfficiencyPoint> efficiency_curve(const std::vector<CollectiveMeasurement>& ms, const std::string& op,
                                              double fixed_s, double line_bytes_per_s) {
  if (!(line_bytes_per_s > 0.0)) throw std::invalid_argument("efficiency_curve: needs a line rate > 0");
  // The latency regime is left out: a size whose transfer at the line rate
  // takes less than the fixed part, or than the cheapest collective measured,
  // has a time that is its fixed part plus noise, and no rate to read.
  double cheapest_s = std::numeric_limits<double>::infinity();
  for (const auto& m : ms)
    if (m.op == op) cheapest_s = std::min(cheapest_s, m.seconds.median);
  const double floor_s = std::max(fixed_s, cheapest_s);
  std::vector<EfficiencyPoint> out;
  for (const auto& m : ms) {
    if (m.op != op || m.bytes == 0) continue;
    if (m.wire_bytes / line_bytes_per_s < floor_s) continue;
    const double transfer_s = m.seconds.median - fixed_s;
    const double e = transfer_s > 0.0 ? m.wire_bytes / (line_bytes_per_s * transfer_s) : 1.0;
    out.push_back({static_cast<double>(m.bytes), std::clamp(e, 1e-3, 1.0)});
  }
  std::sort(out.begin(), out.end(), [](const EfficiencyPoint& a, const EfficiencyPoint& b) { return a.bytes < b.bytes; });
  // One point per size (a repeated size keeps its first measurement).
  out.erase(std::unique(out.begin(), out.end(),
                        [](const EfficiencyPoint& a, const EfficiencyPoint& b) { return a.bytes == b.bytes; }),
            out.end());
  return out;
}

std::vector<std::size_t> collective_size_grid(std::size_t min_bytes, std::size_t max_bytes) {
  std::vector<std::size_t> out;
  for (std::size_t b = 4; b <= max_bytes; b *= 4)
    if (b >= min_bytes) out.push_back(b);
  return out;
}

}  // namespace gcsim::calib
