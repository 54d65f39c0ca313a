// Gradient buckets, as PyTorch DDP forms them (Li et al., "PyTorch
// Distributed: Experiences on Accelerating Data Parallel Training", VLDB
// 2020): parameters in reverse forward order, a bucket closes before the
// layer that would push it past bucket_cap bytes (a layer larger than the cap
// gets a bucket of its own). Granularity "model" is one bucket of everything.
// (DDP's smaller first bucket is not modelled.)
#pragma once

#include <cstdint>
#include <vector>

#include "sim/scenario.h"

namespace gcsim {

struct Bucket {
  std::vector<std::size_t> layers;  // indices into model.layers, in the order their gradients appear
  std::int64_t params = 0;
};

std::vector<Bucket> make_buckets(const ModelSpec& model, double bucket_bytes, Granularity granularity);

}  // namespace gcsim
