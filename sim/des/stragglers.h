// Per-worker, per-iteration compute multipliers: a lognormal with mean 1 and
// a given coefficient of variation (sigma^2 = ln(1 + cv^2), mu = -sigma^2/2),
// times a fixed factor for named slow workers. Each (seed, rank, iteration)
// draws from its own counter-based stream (SplitMix64; Steele et al., "Fast
// splittable pseudorandom number generators", OOPSLA 2014), so a multiplier
// does not depend on the order in which the simulation asks for it.
#pragma once

#include <vector>

#include "sim/scenario.h"

namespace gcsim {

class StragglerModel {
 public:
  StragglerModel(const StragglerSpec& spec, int workers);
  double multiplier(int rank, int iteration) const;

 private:
  double cv_;
  std::uint64_t seed_;
  std::vector<double> factor_;  // per rank
};

}  // namespace gcsim
