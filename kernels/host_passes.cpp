#include "kernels/host_passes.h"

#include <cmath>

namespace gcsim::kernels::host {

std::size_t count_non_finite(const float* x, std::size_t n) {
  std::size_t bad = 0;
  for (std::size_t i = 0; i < n; ++i) bad += std::isfinite(x[i]) ? 0 : 1;
  return bad;
}

void scale(float* x, std::size_t n, float s) {
  for (std::size_t i = 0; i < n; ++i) x[i] *= s;
}

void ef_add(float* g, const float* e, float* copy, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) copy[i] = g[i] += e[i];
}

void ef_residual(const float* copy, const float* g, float* e, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) e[i] = copy[i] - g[i];
}

}  // namespace gcsim::kernels::host
