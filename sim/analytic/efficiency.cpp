#include "sim/analytic/efficiency.h"

namespace gcsim {

double weak_efficiency(double t1, double tp) { return tp > 0 ? t1 / tp : 1.0; }

double strong_efficiency(double tc, double tcomm, int workers) {
  const double per = tc / workers;
  return per + tcomm > 0 ? per / (per + tcomm) : 1.0;
}

void fill_efficiency(IterationResult& r) {
  r.efficiency_weak = weak_efficiency(r.iteration_time_p1_s, r.iteration_time_s);
  r.efficiency_strong = strong_efficiency(r.compute_s, r.comm_s + r.compression_s, r.workers);
  r.speedup = r.workers * r.efficiency_weak;
}

}  // namespace gcsim
