// The gradients an emulated worker "computes" (train/emulate/emulated_trainer.h):
// seeded, with the spread of real ones. Real gradients are heavy-tailed (a
// few entries dominate: what makes Top-K work) and their scale differs from
// layer to layer by orders of magnitude. Each layer here gets a scale
// 10^U(-4, -2) and Student-t values with 3 degrees of freedom (finite
// variance, power-law tails), seeded by (seed, rank, layer).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace gcsim::train {

// Fills `out` with layer `layer`'s synthetic gradient on `rank`.
void synthetic_layer_gradient(std::span<float> out, std::uint64_t seed, int rank, std::size_t layer);

// Step `step`'s gradient of one layer from its pristine values: the same
// values rotated by a step-dependent offset, so the largest entries move from
// step to step (as a sparsifier sees them do) at the cost of one copy.
void step_gradient(std::span<const float> pristine, std::span<float> out, std::uint64_t step);

}  // namespace gcsim::train
