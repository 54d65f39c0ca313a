// Prediction against measurement (see validation_row.h).
#include "validate/validation_row.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "sim/percentile.h"

namespace gcsim {

namespace {

double rel_error(double predicted, double measured) { return measured > 0 ? predicted / measured - 1.0 : 0.0; }

// How far a point's repeated measurements are apart: (max - min) / median of
// their step times; 0 for one run.
double step_spread(const MeasuredRun& m) {
  if (m.repeat_step_s.size() < 2 || !(m.step_s > 0)) return 0.0;
  const auto [lo, hi] = std::minmax_element(m.repeat_step_s.begin(), m.repeat_step_s.end());
  return (*hi - *lo) / m.step_s;
}

const char* const kNames[] = {
    "measured_steps",        "predicted_step_s",      "measured_step_s",        "step_error",
    "measured_step_p90_s",   "predicted_compute_s",   "measured_compute_s",     "compute_error",
    "predicted_comm_s",      "measured_comm_s",       "comm_error",             "predicted_compression_s",
    "measured_compression_s", "compression_error",    "predicted_exposed_s",    "predicted_bytes",
    "measured_bytes",        "bytes_error",           "buckets",                "bucket_end_error_max",
    "measured_repeats",      "measured_step_spread",  "run_dir"};

}  // namespace

Columns validation_blank() {
  Columns c;
  for (const char* n : kNames) c.emplace_back(n, "");
  return c;
}

Columns validation_columns(const DesRun& p, const MeasuredRun& m, const std::string& run_dir) {
  const IterationResult& r = p.result;
  const double m_compute = m.compute_s + m.optimizer_s;
  const double m_compression = m.compress_s + m.decompress_s;
  double bucket_err = 0.0;
  if (!p.buckets.empty() && p.buckets.size() == m.buckets.size() && m.step_s > 0)
    for (std::size_t b = 0; b < p.buckets.size(); ++b)
      bucket_err = std::max(bucket_err, std::abs(p.buckets[b].end_s - m.buckets[b].end_s) / m.step_s);
  const std::vector<std::string> v = {
      std::to_string(m.steps),
      format_number(r.iteration_time_s),
      format_number(m.step_s),
      format_number(rel_error(r.iteration_time_s, m.step_s)),
      format_number(m.step_p90_s),
      format_number(r.compute_s),
      format_number(m_compute),
      format_number(rel_error(r.compute_s, m_compute)),
      format_number(r.comm_s),
      format_number(m.communicate_s),
      format_number(rel_error(r.comm_s, m.communicate_s)),
      format_number(r.compression_s),
      format_number(m_compression),
      format_number(rel_error(r.compression_s, m_compression)),
      format_number(r.exposed_comm_s + r.exposed_compression_s),
      format_number(r.bytes_sent_per_worker),
      format_number(m.bytes_per_step),
      format_number(rel_error(r.bytes_sent_per_worker, m.bytes_per_step)),
      std::to_string(m.buckets.size()) + (p.buckets.size() == m.buckets.size() ? "" : "!=" + std::to_string(p.buckets.size())),
      format_number(bucket_err),
      std::to_string(m.repeat_step_s.empty() ? 1 : m.repeat_step_s.size()),
      format_number(step_spread(m)),
      run_dir};
  Columns c = validation_blank();
  for (std::size_t i = 0; i < c.size(); ++i) c[i].second = v[i];
  return c;
}

ErrorSummary summarize_errors(const std::vector<std::vector<std::string>>& rows) {
  ErrorSummary s;
  if (rows.empty()) return s;
  const auto col = std::find(rows[0].begin(), rows[0].end(), "step_error");
  if (col == rows[0].end()) throw std::runtime_error("results.csv: no step_error column");
  const auto at = static_cast<std::size_t>(col - rows[0].begin());
  std::vector<double> e;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    const double v = std::abs(std::stod(rows[i].at(at)));
    if (e.empty() || v > s.max) {
      s.max = v;
      s.worst = static_cast<std::size_t>(std::stoul(rows[i].at(0)));
    }
    e.push_back(v);
    s.within_5 += v <= 0.05;
    s.within_10 += v <= 0.10;
    s.within_20 += v <= 0.20;
  }
  s.points = e.size();
  s.median = percentile(e, 0.5);
  s.p90 = percentile(e, 0.9);
  return s;
}

std::string summary_text(const ErrorSummary& s, const std::string& sweep) {
  char b[512];
  std::snprintf(b, sizeof b,
                "validation %s: %zu points, |step time error| median %.1f %%, p90 %.1f %%, max %.1f %% (point %zu); "
                "within 5 %%: %zu, within 10 %%: %zu, within 20 %%: %zu\n",
                sweep.c_str(), s.points, 100 * s.median, 100 * s.p90, 100 * s.max, s.worst, s.within_5, s.within_10,
                s.within_20);
  return b;
}

}  // namespace gcsim
