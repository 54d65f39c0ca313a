// Synthetic gradients (see synthetic_gradient.h).
#include "train/emulate/synthetic_gradient.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace gcsim::train {

void synthetic_layer_gradient(std::span<float> out, std::uint64_t seed, int rank, std::size_t layer) {
  std::seed_seq seq{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32),
                    static_cast<std::uint32_t>(rank), static_cast<std::uint32_t>(layer), 0x67637369u};
  std::mt19937_64 rng(seq);
  const double scale = std::pow(10.0, std::uniform_real_distribution<double>(-4.0, -2.0)(rng));
  std::student_t_distribution<double> t3(3.0);
  for (float& x : out) x = static_cast<float>(scale * t3(rng));
}

void step_gradient(std::span<const float> pristine, std::span<float> out, std::uint64_t step) {
  const std::size_t n = pristine.size();
  if (n == 0) return;
  const std::size_t shift = static_cast<std::size_t>((step * 2654435761ULL) % n);
  std::copy(pristine.begin() + static_cast<std::ptrdiff_t>(shift), pristine.end(), out.begin());
  std::copy(pristine.begin(), pristine.begin() + static_cast<std::ptrdiff_t>(shift),
            out.begin() + static_cast<std::ptrdiff_t>(n - shift));
}

}  // namespace gcsim::train
