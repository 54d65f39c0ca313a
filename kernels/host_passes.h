// The passes the trainer's codecs make over a whole bucket in host memory,
// around the backend's kernels (compress/*.cpp): the finite check of a
// gradient, the division of a sum by the ranks, and a dense error feedback's
// two halves (PowerSGD). Here once, so that the codecs run them and
// `gcsim calibrate kernels` times them (calib/kernel_ops/: finite_check,
// scale, ef_add, ef_residual) as the same code, and the simulator prices them
// (sim/profile.h op::). Plain loops on one thread, as the codecs call them.
#pragma once

#include <cstddef>

namespace gcsim::kernels::host {

// How many of x[0, n) are NaN or +-Inf.
std::size_t count_non_finite(const float* x, std::size_t n);

// x[i] *= s.
void scale(float* x, std::size_t n, float s);

// Error feedback in: g[i] += e[i], and copy[i] = the new g[i].
void ef_add(float* g, const float* e, float* copy, std::size_t n);

// Error feedback out: e[i] = copy[i] - g[i] (what was not delivered).
void ef_residual(const float* copy, const float* g, float* e, std::size_t n);

}  // namespace gcsim::kernels::host
