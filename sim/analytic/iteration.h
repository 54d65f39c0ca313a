// The analytic iteration model: closed-form collective costs on a per-bucket
// timeline against backward compute.
//
// One worker stands for all (no stragglers, no contention between buckets):
//   forward | backward, layer by layer in reverse; a bucket is ready when its
//   last layer's gradient is (at the end of backward when overlap = false)
//   compression stream: compress bucket b at max(ready_b, stream free)
//   communication stream: collective b at max(compressed_b, stream free),
//   then the bucket's decompression (scatter-add) on the same stream
//   optimizer step after backward and the last bucket.
// This is a timeline, not max(T_compute, T_comm): a bucket that becomes ready
// late in backward can only hide behind what is left of it.
#pragma once

#include "sim/result.h"
#include "sim/scenario.h"

namespace gcsim {

IterationResult simulate_analytic(const Scenario& s);

}  // namespace gcsim
