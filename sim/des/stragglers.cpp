#include "sim/des/stragglers.h"

#include <cmath>

namespace gcsim {

namespace {

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Uniform in (0, 1).
double uniform(std::uint64_t bits) { return (static_cast<double>(bits >> 11) + 0.5) * 0x1.0p-53; }

}  // namespace

StragglerModel::StragglerModel(const StragglerSpec& spec, int workers)
    : cv_(spec.cv), seed_(spec.seed), factor_(workers, 1.0) {
  for (const SlowWorker& s : spec.slow)
    if (s.rank >= 0 && s.rank < workers) factor_[s.rank] = s.factor;
}

double StragglerModel::multiplier(int rank, int iteration) const {
  double m = factor_[rank];
  if (cv_ > 0.0) {
    const std::uint64_t key = splitmix64(seed_ ^ splitmix64((static_cast<std::uint64_t>(rank) << 32) |
                                                            static_cast<std::uint32_t>(iteration)));
    const double u1 = uniform(splitmix64(key));
    const double u2 = uniform(splitmix64(key + 1));
    const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);  // Box-Muller
    const double sigma2 = std::log1p(cv_ * cv_);
    m *= std::exp(-0.5 * sigma2 + std::sqrt(sigma2) * z);
  }
  return m;
}

}  // namespace gcsim
