// Scaling efficiency and speedup (definitions in sim/result.h and the README).
#pragma once

#include "sim/result.h"

namespace gcsim {

// E = T1 / TP (weak scaling).
double weak_efficiency(double t_iter_1, double t_iter_p);
// E = (Tc/P) / (Tc/P + Tcomm): the problem statement's strong-scaling form.
double strong_efficiency(double t_compute, double t_comm, int workers);

// Sets efficiency_weak, efficiency_strong and speedup from the other fields.
void fill_efficiency(IterationResult& r);

}  // namespace gcsim
