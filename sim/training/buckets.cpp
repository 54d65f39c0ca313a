#include "sim/training/buckets.h"

namespace gcsim {

std::vector<Bucket> make_buckets(const ModelSpec& model, double bucket_bytes, Granularity granularity) {
  std::vector<Bucket> out;
  Bucket cur;
  const bool one_bucket = granularity == Granularity::Model;
  for (std::size_t i = model.layers.size(); i-- > 0;) {
    const std::int64_t p = model.layers[i].params;
    if (p == 0) continue;  // no gradient
    const double bytes_if_added = 4.0 * static_cast<double>(cur.params + p);
    if (!one_bucket && !cur.layers.empty() && bytes_if_added > bucket_bytes) {
      out.push_back(std::move(cur));
      cur = Bucket{};
    }
    cur.layers.push_back(i);
    cur.params += p;
  }
  if (!cur.layers.empty()) out.push_back(std::move(cur));
  return out;
}

}  // namespace gcsim
