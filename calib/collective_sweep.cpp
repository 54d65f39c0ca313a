// Timing Gloo collectives and fitting the profile's collective figures (see collective_sweep.h).
#include "calib/collective_sweep.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <stdexcept>

namespace gcsim::calib {

namespace {

// Keeps one core busy for `seconds` (arithmetic the compiler cannot drop).
void busy_for(double seconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  volatile double sink = 1.0;
  while (std::chrono::steady_clock::now() < end)
    for (int i = 0; i < 1000; ++i) sink = sink * 1.0000001 + 1e-9;
}

}  // namespace

std::vector<CollectiveMeasurement> run_collective_sweep(comm::Communicator& comm, const CollectiveSweepOptions& opts,
                                                        const std::function<void()>& tick) {
  if (opts.repeats < 1 || opts.warmup < 0) throw std::invalid_argument("collective sweep: repeats >= 1, warmup >= 0");
  const int p = comm.size();
  std::vector<CollectiveMeasurement> out;
  std::vector<float> vec;
  std::vector<std::uint8_t> part, gathered;
  for (const char* op : {"allreduce", "allgather"}) {
    const bool reduce = op == std::string("allreduce");
    for (const std::size_t bytes : opts.sizes) {
      if (bytes == 0 || bytes % 4 != 0) throw std::invalid_argument("collective sweep: sizes must be positive multiples of 4");
      vec.assign(bytes / 4, 1.0f);
      part.assign(bytes, static_cast<std::uint8_t>(comm.rank()));
      const std::vector<std::size_t> counts(static_cast<std::size_t>(p), bytes);
      std::vector<double> times;
      for (int i = 0; i < opts.warmup + opts.repeats; ++i) {
        if (opts.compute_s > 0) busy_for(opts.compute_s);
        comm.barrier();
        const auto t0 = std::chrono::steady_clock::now();
        if (reduce) comm.allreduce_sum(vec.data(), vec.size());
        else comm.allgatherv_known(part.data(), part.size(), counts, gathered);
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (i >= opts.warmup) times.push_back(s);
      }
      CollectiveMeasurement m;
      m.op = op;
      m.bytes = bytes;
      m.wire_bytes = reduce ? 2.0 * (p - 1) / p * static_cast<double>(bytes) : (p - 1.0) * static_cast<double>(bytes);
      m.seconds = summarize(times);
      out.push_back(m);
      if (tick) tick();
    }
  }
  return out;
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

}  // namespace

CollectiveFit fit_collectives(const std::vector<CollectiveMeasurement>& ms, int workers) {
  if (workers < 2) throw std::invalid_argument("fit_collectives: needs at least 2 workers");
  std::vector<CostPoint> ar, ag;
  for (const auto& m : ms) {
    if (!(m.seconds.median > 0.0)) throw std::invalid_argument("fit_collectives: a time is not positive");
    (m.op == "allreduce" ? ar : ag).push_back({m.wire_bytes, 0.0, m.seconds.median});
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

std::vector<std::size_t> collective_size_grid(std::size_t min_bytes, std::size_t max_bytes) {
  std::vector<std::size_t> out;
  for (std::size_t b = 4; b <= max_bytes; b *= 4)
    if (b >= min_bytes) out.push_back(b);
  return out;
}

}  // namespace gcsim::calib
