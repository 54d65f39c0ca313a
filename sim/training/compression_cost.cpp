#include "sim/training/compression_cost.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "sim/collectives/ring_allgather.h"

namespace gcsim {

std::int64_t topk_count(double ratio, std::int64_t n) {
  // ceil, guarded against rho*n landing a few ulps above an integer (0.1 * 30 = 3.0000000000000004).
  const double x = ratio * static_cast<double>(n);
  std::int64_t k = static_cast<std::int64_t>(std::ceil(x - 4.0 * std::numeric_limits<double>::epsilon() * x));
  if (k < 1) k = 1;
  if (k > n) k = n;
  return k;
}

namespace {

const char* select_op(const CompressionSpec& c) {
  switch (c.method) {
    case Method::TopK: return c.error_feedback ? op::ef_topk : op::topk;
    case Method::RandomK: return op::randomk;
    case Method::Threshold: return op::threshold;
    case Method::None: break;
  }
  return op::topk;
}

}  // namespace

namespace {
BucketCost priced(const Scenario& s, const Fabric& f, const Bucket& b);
}  // namespace

BucketCost bucket_cost(const Scenario& s, const Fabric& f, const Bucket& b) {
  BucketCost c = priced(s, f, b);
  if (f.P > 1) c.collective.time_s += s.profile.collective_launch_s;
  return c;
}

namespace {

BucketCost priced(const Scenario& s, const Fabric& f, const Bucket& b) {
  BucketCost c;
  c.params = b.params;
  const double n = static_cast<double>(b.params);
  if (s.compression.method == Method::None || f.P <= 1) {
    c.selected = b.params;
    c.wire_bytes = 4.0 * n;
    const AllreduceChoice ar = dense_allreduce(s.algorithm, f, c.wire_bytes, s.collective);
    c.algorithm = ar.algorithm;
    c.collective = ar.cost;
    return c;
  }

  const KernelCost& sel = s.profile.kernel(select_op(s.compression));
  if (s.compression.granularity == Granularity::Layer) {
    for (std::size_t li : b.layers) {
      const std::int64_t nl = s.model.layers[li].params;
      const std::int64_t kl = topk_count(s.compression.ratio, nl);
      c.selected += kl;
      c.compress_s += sel.eval(static_cast<double>(nl), static_cast<double>(kl));
    }
  } else {
    c.selected = topk_count(s.compression.ratio, b.params);
    c.compress_s = sel.eval(n, static_cast<double>(c.selected));
  }
  const double k = static_cast<double>(c.selected);
  const KernelCost& scatter = s.profile.kernel(op::scatter_add);

  if (s.compression.exchange == Exchange::Allgather) {
    c.compress_s += s.profile.kernel(op::pack).eval(0.0, k);
    c.sparse = true;
    c.wire_bytes = k * (4.0 + s.compression.index_bytes);
    c.algorithm = Algorithm::Ring;
    c.collective = ring_allgather(f, c.wire_bytes);
    c.decompress_s = scatter.eval(n, k * f.P);
  } else {
    c.compress_s += scatter.eval(n, k);  // local decompression to a dense buffer
    c.wire_bytes = 4.0 * n;
    const AllreduceChoice ar = dense_allreduce(s.algorithm, f, c.wire_bytes, s.collective);
    c.algorithm = ar.algorithm;
    c.collective = ar.cost;
  }
  return c;
}

}  // namespace

}  // namespace gcsim
