#include "sim/analytic/iteration.h"

#include <algorithm>
#include <set>

#include "sim/analytic/efficiency.h"
#include "sim/collectives/fabric.h"
#include "sim/training/buckets.h"
#include "sim/training/compression_cost.h"
#include "sim/training/compute_time.h"

namespace gcsim {

IterationResult simulate_analytic(const Scenario& s) {
  IterationResult r;
  r.backend = "analytic";
  r.workers = s.cluster.workers;
  r.params = s.model.total_params();

  const ComputeTimes ct = compute_times(s);
  const Fabric fabric = make_fabric(s.cluster, s.profile);
  const auto buckets = make_buckets(s.model, s.training.bucket_mb * 1024.0 * 1024.0, s.compression.granularity);
  r.buckets = static_cast<int>(buckets.size());

  // Backward completion time of each layer (forward order index).
  std::vector<double> grad_ready(s.model.layers.size(), 0.0);
  double t = ct.forward_s;
  for (std::size_t i = s.model.layers.size(); i-- > 0;) {
    t += ct.backward_layer_s[i];
    grad_ready[i] = t;
  }
  const double backward_end = ct.forward_s + ct.backward_s;

  double comp_free = 0.0;
  double comm_free = 0.0;
  double exposed_coll = 0.0;  // collective time after backward ends
  std::set<std::string> algorithms;
  std::vector<BucketCost> costs;
  costs.reserve(buckets.size());
  const bool communicate = s.cluster.workers > 1;  // one worker exchanges nothing
  for (const auto& b : buckets) {
    if (!communicate) break;
    const double ready = s.training.overlap ? grad_ready[b.layers.back()] : backward_end;
    costs.push_back(bucket_cost(s, fabric, b));
    const BucketCost& c = costs.back();
    // A shared stream: compression waits for the previous bucket's decompression.
    if (s.training.shared_compression_stream) comp_free = std::max(comp_free, comm_free);
    const double comp_end = std::max(ready, comp_free) + c.compress_s;
    comp_free = comp_end;
    // The bucket's collectives run back to back on the communication stream;
    // the kernels between them (PowerSGD's orthogonalisation and Q = M^T P)
    // hold the stream too, and count as compression.
    double t_comm = std::max(comp_end, comm_free);
    for (std::size_t i = 0; i < c.phases.size(); ++i) {
      const PhaseCost& ph = c.phases[i];
      if (i > 0) t_comm += ph.before_s;
      const double start = t_comm;
      t_comm += ph.collective.time_s;
      exposed_coll += std::max(0.0, t_comm - std::max(start, backward_end));
      r.comm_s += ph.collective.time_s;
      algorithms.insert(collective_name(ph));
    }
    comm_free = t_comm + c.decompress_s;
    r.compression_s += c.compress_s + c.between_s() + c.decompress_s;
    r.bytes_sent_per_worker += c.bytes_sent();
    r.bytes_received_per_worker += c.bytes_received();
    r.selected += c.selected;
  }
  for (const auto& a : algorithms) r.algorithm += (r.algorithm.empty() ? "" : "+") + a;
  if (r.algorithm.empty()) r.algorithm = "none";
  r.choice = describe_choice(costs);

  const double tail = std::max(0.0, std::max(comm_free, comp_free) - backward_end);
  r.forward_s = ct.forward_s;
  r.backward_s = ct.backward_s;
  r.optimizer_s = ct.optimizer_s;
  r.compute_s = ct.step_s();
  r.exposed_comm_s = exposed_coll;
  r.exposed_compression_s = std::max(0.0, tail - exposed_coll);  // clamp rounding residue (~1e-17)
  r.iteration_time_s = r.compute_s + tail;
  r.iterations = s.training.iterations;  // all alike: no stragglers in the closed form
  r.iteration_p50_s = r.iteration_p99_s = r.iteration_time_s;
  r.iteration_time_p1_s = ct.step_s();
  fill_efficiency(r);
  return r;
}

}  // namespace gcsim
