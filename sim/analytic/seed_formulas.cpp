#include "sim/analytic/seed_formulas.h"

#include "sim/analytic/efficiency.h"

namespace gcsim::seed {

double gradient_bytes(double params) { return 4.0 * params; }

double table_comm_time_s(double params, double gbps) { return gradient_bytes(params) * 8.0 / (gbps * 1e9); }

double ring_allreduce_time_s(double params, int workers, double gbps) {
  const double P = workers;
  return 2.0 * (P - 1.0) / P * gradient_bytes(params) * 8.0 / (gbps * 1e9);
}

double efficiency(double t_compute_s, double t_comm_s, int workers) {
  return strong_efficiency(t_compute_s, t_comm_s, workers);
}

double reduction(double rho, int index_bytes) { return 4.0 / (rho * (4.0 + index_bytes)); }

double section_5_2_comm_time_s(double gradient_mb, double gbps) {
  const double bytes_per_s = gbps * 1e9 / 8.0;
  return 2.0 * gradient_mb * 1e6 / bytes_per_s;
}

}  // namespace gcsim::seed
