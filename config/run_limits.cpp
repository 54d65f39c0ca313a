// validate_run: derived values and the DES's memory and event estimates (run_limits.h).
#include "config/run_limits.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <string>
#include <utility>
#include <stdexcept>
#include <vector>

#include "config/input_error.h"
#include "config/toml_reader.h"
#include "sim/analytic/iteration.h"
#include "sim/collectives/fabric.h"
#include "sim/output/result_format.h"
#include "sim/training/buckets.h"
#include "sim/training/compression_cost.h"
#include "sim/training/compute_time.h"
#include "sim/training/phase_collective.h"

namespace gcsim {

namespace {

// Bytes of DES state per item, from the structures they live in (Boost.Graph
// vertex and edge storage with names, the router's per-vertex search arrays,
// a cached route in its hash map, a queued message with its flow and heap
// entries, a worker, an iteration's statistics). Rounded up: the estimate is
// meant to refuse runs that would not fit, not to predict RSS closely.
constexpr double kBytesPerVertex = 256;
constexpr double kBytesPerLink = 256;     // one direction
constexpr double kBytesPerRoute = 256;    // route cache entry + connection FIFO
constexpr double kBytesPerMessage = 320;  // message + flow + per-link entries + events, while in flight
constexpr double kBytesPerWorker = 192;
constexpr double kBytesPerIteration = 72;

// Throws an InputError located at dotted key `key` (its deepest table that
// exists when the key itself is absent; the --set flag or sweep value that set it).
[[noreturn]] void fail_at(const ScenarioSource& src, const std::string& key, const std::string& what) {
  TableReader r(src.root, "", src.ctx);
  std::string rest = key;
  for (auto dot = rest.find('.'); dot != std::string::npos; dot = rest.find('.')) {
    const auto sub = r.sub(rest.substr(0, dot), false);
    if (!sub) break;
    r = *sub;
    rest = rest.substr(dot + 1);
  }
  throw InputError(r.location(rest), key, what);
}

std::string gib(double bytes) { return format_number(std::round(bytes / (1024.0 * 1024 * 1024) * 10) / 10) + " GiB"; }

// Vertices, directed links and spines of the cluster graph (topology/builders.h).
void topology_size(const ClusterSpec& c, DesEstimate& e) {
  const double P = c.workers, M = c.nodes(), nics = c.nics_per_node;
  const double g = std::min(c.gpus_per_node, c.workers);  // GPUs on a full node
  double duplex = 0;
  switch (c.topology) {
    case TopologyKind::Switch: e.vertices = P + 1; duplex = P; break;
    case TopologyKind::Ring: e.vertices = P; duplex = P; break;
    case TopologyKind::TwoLevel:
    case TopologyKind::FatTree: {
      const bool multi = c.gpus_per_node > 1;
      const double uplinks = multi ? nics : 1;
      e.vertices = M * (multi ? g + 1 + nics : 1);
      duplex = M * (multi ? g + std::max(nics, g) + uplinks : uplinks);
      if (c.topology == TopologyKind::TwoLevel) {
        e.vertices += 1;
      } else {
        const double L = std::ceil(M / c.nodes_per_leaf);
        e.spines = c.spines > 0 ? c.spines
                                : std::max(1.0, std::ceil(c.nodes_per_leaf * nics / c.oversubscription - 1e-9));
        e.vertices += L + e.spines;
        duplex += L * e.spines;
      }
      break;
    }
  }
  e.links = 2 * duplex;
}

std::string approx(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

// The key that drives the largest part of the memory estimate, and what that part is.
std::pair<std::string, std::string> memory_cause(const Scenario& s, const DesEstimate& e) {
  const ClusterSpec& c = s.cluster;
  const double parts[] = {e.topology_bytes, e.route_bytes + e.flow_bytes + e.worker_bytes, e.iteration_bytes};
  const auto top = std::max_element(std::begin(parts), std::end(parts)) - std::begin(parts);
  if (top == 2) return {"training.iterations", "per-iteration statistics of " + std::to_string(s.training.iterations) + " iterations"};
  if (top == 1)
    return {s.algorithm == Algorithm::ParameterServer && s.collective.servers > 1 ? "collective.servers" : "cluster.workers",
            "routes, workers and messages in flight for " + std::to_string(c.workers) + " workers"};
  std::string what = "the topology: " + approx(e.vertices) + " vertices and " + approx(e.links) + " links";
  if (c.topology == TopologyKind::FatTree) {
    const double leaves = std::ceil(static_cast<double>(c.nodes()) / c.nodes_per_leaf);
    what += ", " + approx(leaves) + " leaves x " + approx(e.spines) + " spines" +
            (c.spines > 0 ? "" : " (by default one per leaf port: nodes_per_leaf x nics_per_node / oversubscription)");
    if (2 * leaves * e.spines > e.links / 2) return {c.spines > 0 ? "cluster.spines" : "cluster.nodes_per_leaf", what};
  }
  if (c.gpus_per_node > 1 && c.nics_per_node > c.gpus_per_node) return {"cluster.nics_per_node", what};
  return {"cluster.workers", what};
}

void check_finite(const ScenarioSource& src, double v, const std::string& what) {
  if (!std::isfinite(v) || v < 0)
    fail_at(src, "", what + " is " + format_number(v) + ", not a finite time or size; check the bandwidths, "
                               "latencies and profile costs");
}

// Derived values: the roofline's step, every bucket's costs, the iteration.
void check_derived(const Scenario& s, const ScenarioSource& src) {
  const ComputeTimes ct = compute_times(s);
  const double fb = ct.forward_s + ct.backward_s;
  // A custom model with no FLOPs (forward_flops defaults to 0) is a
  // communication-only model: its step is exactly 0, which is allowed.
  const bool no_flops = s.model.forward_flops() == 0.0;
  if (!s.compute.forward_backward_s && !(no_flops && fb == 0.0) && !(fb >= 1e-9 && fb <= 1e5))
    fail_at(src, "compute",
            "the roofline step (3 x forward FLOPs x batch_per_worker / (peak x efficiency)) is " + format_number(fb) +
                " s, outside [1e-09, 100000] s; check model.batch_per_worker, compute.gpu and compute.efficiency");
  check_finite(src, ct.step_s(), "the compute step");
  const Fabric fabric = make_fabric(s.cluster, s.profile);
  const auto buckets = make_buckets(s.model, s.training.bucket_mb * 1024.0 * 1024.0, s.compression.granularity);
  for (std::size_t i = 0; i < buckets.size() && s.cluster.workers > 1; ++i) {
    const BucketCost c = bucket_cost(s, fabric, buckets[i]);
    const std::string b = "bucket " + std::to_string(i) + "'s ";
    check_finite(src, c.compress_s + c.between_s(), b + "compression time");
    check_finite(src, c.decompress_s, b + "decompression time");
    for (const PhaseCost& ph : c.phases) {
      check_finite(src, ph.collective.time_s, b + "collective time");
      check_finite(src, ph.wire_bytes, b + "payload");
      check_finite(src, ph.collective.bytes_sent, b + "bytes sent");
      check_finite(src, ph.collective.bytes_received, b + "bytes received");
    }
  }
  const IterationResult r = simulate_analytic(s);
  check_finite(src, r.iteration_time_s, "the iteration time");
  check_finite(src, r.iteration_time_s * s.training.iterations, "the run's simulated time");
}

}  // namespace

DesEstimate estimate_des(const Scenario& s) {
  DesEstimate e;
  topology_size(s.cluster, e);
  const double P = s.cluster.workers, iters = s.training.iterations;
  const Fabric fabric = make_fabric(s.cluster, s.profile);
  const auto buckets = make_buckets(s.model, s.training.bucket_mb * 1024.0 * 1024.0, s.compression.granularity);
  const double nb = static_cast<double>(buckets.size());
  e.buckets = nb;
  double per_iteration = 0, in_flight = 0;
  if (s.cluster.workers > 1) {
    std::set<std::string> seen;  // per collective: routes are cached across buckets
    for (const Bucket& b : buckets) {
      for (const PhaseCost& c : bucket_cost(s, fabric, b).phases) {
        const MessageCount z = phase_collective(c.use.kind).messages(s, c);
        per_iteration += z.messages;
        const std::string name = collective_name(c);
        if ((name == "ring" || name == "ring-allgather" || name == "hierarchical") &&
            (s.cluster.topology == TopologyKind::Switch || s.cluster.topology == TopologyKind::TwoLevel))
          e.fast_ring_messages += z.messages * iters;
        in_flight = std::max(in_flight, z.in_flight);
        if (seen.insert(collective_name(c)).second) e.routes += z.pairs;
      }
    }
  }
  e.messages = per_iteration * iters;
  // Per message: its start, its flow's completion, and a share of rate
  // recomputations; per worker and bucket: arrival and decompression; per
  // worker: the iteration's end.
  e.events = 3 * e.messages + iters * (P * (2 * nb + 1) + 4 * nb);
  e.work_events = e.events - (3 - kFastRingEventsPerMessage) * e.fast_ring_messages;
  e.topology_bytes = e.vertices * kBytesPerVertex + e.links * kBytesPerLink;
  e.route_bytes = e.routes * kBytesPerRoute;
  e.flow_bytes = in_flight * kBytesPerMessage;
  e.worker_bytes = P * (kBytesPerWorker + 8 * nb);
  e.iteration_bytes = iters * kBytesPerIteration;
  return e;
}

void validate_run(const Scenario& s, const ScenarioSource& src, std::string_view backend) {
  if (backend != "des" && backend != "analytic")
    throw std::invalid_argument("validate_run: unknown backend '" + std::string(backend) + "'");
  check_derived(s, src);
  if (backend != "des") return;

  const DesEstimate e = estimate_des(s);
  const std::string analytic = s.stragglers.any() ? " (without stragglers)" : "";
  if (e.bytes() > kDesMemoryLimitBytes) {
    const auto [key, cause] = memory_cause(s, e);
    fail_at(src, key,
            "the discrete-event simulator would need about " + gib(e.bytes()) + " of memory (limit " +
                gib(kDesMemoryLimitBytes) + "), mostly for " + cause + "; lower it, or use --backend analytic" +
                analytic);
  }
  if (e.work_events > kDesEventLimit) {
    // The key whose reduction alone would bring the run under the limit, else the workers.
    std::string key = "cluster.workers", fewer = "fewer workers";
    if (s.training.iterations > 1 && e.work_events / s.training.iterations <= kDesEventLimit) {
      key = "training.iterations", fewer = "fewer iterations";
    } else if (s.collective.chunks > 1 && e.work_events / s.collective.chunks <= kDesEventLimit) {
      key = "collective.chunks", fewer = "fewer chunks";
    } else if (s.algorithm == Algorithm::ParameterServer && s.collective.servers > 1 &&
               e.work_events / s.collective.servers <= kDesEventLimit) {
      key = "collective.servers", fewer = "fewer servers";
    }
    fail_at(src, key,
            "the discrete-event simulator would process about " + approx(e.work_events) + " events (" +
                approx(e.messages) + " messages over " + std::to_string(s.training.iterations) +
                (s.training.iterations == 1 ? " iteration" : " iterations") + "; limit " + approx(kDesEventLimit) +
                ", about half an hour); use " + fewer + " or --backend analytic" + analytic);
  }
  if (e.buckets >= (1u << 24))  // the DES's event tags hold a bucket in 24 bits
    fail_at(src, "training.bucket_mb", "the discrete-event simulator takes at most 16777215 buckets (got " +
                                           approx(e.buckets) + "); use a larger bucket_mb or --backend analytic");
}

}  // namespace gcsim
