#include "sim/training/compression_cost.h"

#include "compress/method.h"
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

double kernels_s(const Profile& profile, const std::vector<compress::KernelUse>& uses) {
  double t = 0.0;
  for (const compress::KernelUse& u : uses) t += profile.kernel(u.op).eval(u.n, u.k);
  return t;
}

}  // namespace

BucketCost bucket_cost(const Scenario& s, const Fabric& f, const Bucket& b) {
  BucketCost c;
  c.params = b.params;
  const int P = f.P;
  // One worker exchanges nothing: its bucket is priced as the dense allreduce
  // it would be (zero time at P = 1) and no kernels run.
  const compress::Method& m = compress::method(P > 1 ? s.compression.method : "none");
  std::vector<Layer> layers;
  layers.reserve(b.layers.size());
  for (std::size_t li : b.layers) layers.push_back(s.model.layers[li]);
  const compress::BucketPlan plan = m.plan(s.compression, layers, std::max(P, 2));
  c.selected = plan.selected;
  for (const compress::Phase& ph : plan.phases) {
    PhaseCost pc;
    pc.before_s = kernels_s(s.profile, ph.before);
    pc.use = ph.collective;
    pc.wire_bytes = ph.collective.bytes;
    pc.label = ph.collective.label;
    phase_collective(pc.use.kind).price(s, f, pc);
    if (f.P > 1) pc.collective.time_s += s.profile.collective_launch_s;
    c.phases.push_back(std::move(pc));
  }
  c.compress_s = c.phases.empty() ? 0.0 : c.phases[0].before_s;
  c.decompress_s = kernels_s(s.profile, plan.after);
  return c;
}

}  // namespace gcsim
