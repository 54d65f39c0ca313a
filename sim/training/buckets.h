// Gradient buckets, as PyTorch DDP forms them (Li et al., "PyTorch
// Distributed: Experiences on Accelerating Data Parallel Training", VLDB
// 2020): layers in reverse forward order, a bucket closes before the layer
// that would push it past bucket_cap bytes (a layer larger than the cap gets
// a bucket of its own). Granularity "model" is one bucket of everything.
// (DDP's smaller first bucket is not modelled; DDP assigns tensors, not
// layers, and closes a bucket after the tensor that reaches the cap, so its
// buckets end one tensor later than these.) One rule for
// the simulator (make_buckets) and the trainer (train/loop/gradient_exchange.h
// make_segments): bucket_ranges.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "sim/scenario.h"

namespace gcsim {

struct Bucket {
  std::vector<std::size_t> layers;  // indices into model.layers, in the order their gradients appear
  std::int64_t params = 0;
};

// Layers given by their parameter counts, forward order: the buckets as
// index ranges [first, last) of layers, listed in the order backward fills
// them (the last layers' first). A layer without parameters belongs to the
// range of the next layer backward reaches (the first range reaches to the end).
std::vector<std::pair<std::size_t, std::size_t>> bucket_ranges(const std::vector<std::int64_t>& layer_params,
                                                               double bucket_bytes, Granularity granularity);

std::vector<Bucket> make_buckets(const ModelSpec& model, double bucket_bytes, Granularity granularity);

}  // namespace gcsim
