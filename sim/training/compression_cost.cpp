#include "sim/training/compression_cost.h"

#include <algorithm>
#include <cstdio>

#include "compress/method.h"
#include "sim/collectives/fabric.h"
#include "sim/training/kernel_sharing.h"
#include "sim/training/phase_collective.h"

namespace gcsim {

double BucketCost::between_s() const {
  double t = 0.0;
  for (std::size_t i = 1; i < phases.size(); ++i) t += phases[i].before_s;
  return t;
}

double BucketCost::exchange_s() const {
  double t = between_s();
  for (const PhaseCost& p : phases) t += p.collective.time_s;
  return t;
}

double BucketCost::bytes_sent() const {
  double b = 0.0;
  for (const PhaseCost& p : phases) b += p.collective.bytes_sent;
  return b;
}

double BucketCost::bytes_received() const {
  double b = 0.0;
  for (const PhaseCost& p : phases) b += p.collective.bytes_received;
  return b;
}

std::string collective_name(const PhaseCost& p) { return phase_collective(p.use.kind).name(p); }

namespace {

// The kernels' time, stretched where workers share cores (kernel_sharing.h).
double kernels_s(const Scenario& s, const std::vector<compress::KernelUse>& uses) {
  double t = 0.0;
  for (const compress::KernelUse& u : uses) {
    if (!s.profile.kernels.count(u.op) && std::find(op::free_when_absent().begin(), op::free_when_absent().end(),
                                                    u.op) != op::free_when_absent().end())
      continue;  // a profile from before the op: 0 (sim/profile.h)
    t += s.profile.kernel(u.op).eval(u.n, u.k);
  }
  return t * kernel_sharing_factor(s);
}

BucketCost price(const Scenario& s, const Fabric& f, const Bucket& b, const compress::Method& m,
                 const CompressionSpec& spec) {
  BucketCost c;
  c.params = b.params;
  const int P = f.P;
  std::vector<Layer> layers;
  layers.reserve(b.layers.size());
  for (std::size_t li : b.layers) layers.push_back(s.model.layers[li]);
  const compress::BucketPlan plan = m.plan(spec, layers, std::max(P, 2));
  c.selected = plan.selected;
  for (const compress::Phase& ph : plan.phases) {
    PhaseCost pc;
    pc.before_s = kernels_s(s, ph.before);
    pc.use = ph.collective;
    pc.wire_bytes = ph.collective.bytes;
    pc.label = ph.collective.label;
    phase_collective(pc.use.kind).price(s, f.sized(pc.use.bytes), pc);
    if (f.P > 1) pc.collective.time_s += charged_fabric(f, pc).launch_s;
    c.phases.push_back(std::move(pc));
  }
  c.compress_s = c.phases.empty() ? 0.0 : c.phases[0].before_s;
  c.decompress_s = kernels_s(s, plan.after);
  return c;
}

double total_s(const BucketCost& c) { return c.compress_s + c.exchange_s() + c.decompress_s; }

// The spec as priced on f: the hierarchical exchange splits over the fabric's
// node, and "auto" offers it only where there are nodes to exchange between.
CompressionSpec on_fabric(const CompressionSpec& spec, const Fabric& f) {
  CompressionSpec out = spec;
  out.node_size = spec.exchange == Exchange::Auto && f.M <= 1 ? 1 : f.G;
  return out;
}

}  // namespace

BucketCost bucket_cost(const Scenario& s, const Fabric& f, const Bucket& b) {
  // One worker exchanges nothing: its bucket is priced as the dense allreduce
  // it would be (zero time at P = 1) and no kernels run.
  const compress::Method& m = compress::method(f.P > 1 ? s.compression.method : "none");
  const std::vector<CompressionSpec> variants = m.variants(on_fabric(s.compression, f));
  if (variants.size() == 1) return price(s, f, b, m, variants[0]);
  BucketCost best;
  std::vector<std::pair<std::string, double>> alternatives;
  for (const CompressionSpec& v : variants) {
    BucketCost c = price(s, f, b, m, v);
    alternatives.emplace_back(m.label(v), total_s(c));
    if (alternatives.size() == 1 || total_s(c) < total_s(best)) {
      best = std::move(c);
      best.chosen = m.label(v);
    }
  }
  best.alternatives = std::move(alternatives);
  return best;
}

CompressionSpec resolve_auto(const Scenario& s, std::string* why) {
  const compress::Method& m = compress::method(s.compression.method);
  const Fabric f = make_fabric(s.cluster, s.profile);
  const CompressionSpec spec = on_fabric(s.compression, f);
  const std::vector<CompressionSpec> variants = m.variants(spec);
  if (variants.size() <= 1) return variants.empty() ? spec : variants[0];
  const auto buckets = make_buckets(s.model, s.training.bucket_mb * 1024.0 * 1024.0, s.compression.granularity);
  BucketCost whole;  // one "bucket" holding each variant's summed cost
  std::size_t best = 0;
  for (std::size_t i = 0; i < variants.size(); ++i) {
    double t = 0.0;
    for (const Bucket& b : buckets) t += total_s(price(s, f, b, m, variants[i]));
    whole.alternatives.emplace_back(m.label(variants[i]), t);
    if (t < whole.alternatives[best].second) best = i;
  }
  whole.chosen = m.label(variants[best]);
  if (why) *why = describe_choice({whole});
  return variants[best];
}

std::string describe_choice(const std::vector<BucketCost>& buckets) {
  std::vector<std::pair<std::string, double>> sum;
  std::vector<std::pair<std::string, int>> chosen;
  for (const BucketCost& b : buckets) {
    for (const auto& alt : b.alternatives) {
      auto it = std::find_if(sum.begin(), sum.end(), [&](const auto& e) { return e.first == alt.first; });
      if (it == sum.end()) sum.push_back(alt);
      else it->second += alt.second;
    }
    if (b.chosen.empty()) continue;
    auto it = std::find_if(chosen.begin(), chosen.end(), [&](const auto& e) { return e.first == b.chosen; });
    if (it == chosen.end()) chosen.emplace_back(b.chosen, 1);
    else ++it->second;
  }
  if (sum.empty()) return "";
  std::stable_sort(sum.begin(), sum.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
  std::string out;
  for (const auto& [label, n] : chosen)
    out += (out.empty() ? "" : ", ") + label + (chosen.size() > 1 ? " (" + std::to_string(n) + " buckets)" : "");
  out += " [";
  for (std::size_t i = 0; i < sum.size(); ++i) {
    char ms[32];
    std::snprintf(ms, sizeof ms, "%.4g ms", sum[i].second * 1e3);
    out += (i ? ", " : "") + sum[i].first + " " + ms;
  }
  return out + "; per iteration, compression + exchange, cheapest first]";
}

}  // namespace gcsim
