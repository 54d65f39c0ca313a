// What compressing and exchanging one bucket costs, from the profile's kernel
// costs (alpha + per element + per selected) and the exchange's collective.
//
//   compress   = select (EF+Top-K | Top-K | Random-K | threshold) over the
//                bucket, or over each layer at granularity "layer", + pack
//   exchange   = allgather: ring allgather(v) of k (value, index) pairs per rank,
//                then scatter-add of the P*k received entries into a dense buffer
//                dense: scatter the local k into a dense buffer, then a dense
//                allreduce of the whole bucket (the seed's "decompress before
//                AllReduce" design: no bytes saved on the wire)
//   k          = ceil(rho * n) per compression unit; payload k (4 + index_bytes)
#pragma once

#include <cstdint>

#include "sim/collectives/allreduce.h"
#include "sim/collectives/fabric.h"
#include "sim/scenario.h"
#include "sim/training/buckets.h"

namespace gcsim {

struct BucketCost {
  std::int64_t params = 0;
  std::int64_t selected = 0;     // k summed over the bucket's compression units (params when dense)
  double compress_s = 0.0;       // on the compression stream, before the collective
  double decompress_s = 0.0;     // after the collective (scatter-add of received entries)
  double wire_bytes = 0.0;       // payload each rank puts into the collective
  Algorithm algorithm = Algorithm::Ring;  // collective used (ring allgather for sparse exchange)
  bool sparse = false;           // allgather of (value, index) pairs
  CollectiveCost collective;
};

std::int64_t topk_count(double ratio, std::int64_t n);  // ceil(ratio * n), at least 1

BucketCost bucket_cost(const Scenario& s, const Fabric& f, const Bucket& b);

}  // namespace gcsim
