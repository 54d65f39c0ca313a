#include "sim/training/buckets.h"

namespace gcsim {

std::vector<std::pair<std::size_t, std::size_t>> bucket_ranges(const std::vector<std::int64_t>& params,
                                                               double bucket_bytes, Granularity granularity) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  const bool one_bucket = granularity == Granularity::Model;
  std::size_t last = params.size();
  std::int64_t held = 0;
  for (std::size_t i = params.size(); i-- > 0;) {
    if (params[i] == 0) continue;  // no gradient: rides in whichever bucket takes the next layer
    if (!one_bucket && held > 0 && 4.0 * static_cast<double>(held + params[i]) > bucket_bytes) {
      out.push_back({i + 1, last});
      last = i + 1;
      held = 0;
    }
    held += params[i];
  }
  if (held > 0) out.push_back({0, last});
  return out;
}

std::vector<Bucket> make_buckets(const ModelSpec& model, double bucket_bytes, Granularity granularity) {
  std::vector<std::int64_t> params;
  for (const auto& l : model.layers) params.push_back(l.params);
  std::vector<Bucket> out;
  for (const auto& [first, last] : bucket_ranges(params, bucket_bytes, granularity)) {
    Bucket b;
    for (std::size_t i = last; i-- > first;) {
      if (model.layers[i].params == 0) continue;  // no gradient
      b.layers.push_back(i);
      b.params += model.layers[i].params;
    }
    out.push_back(std::move(b));
  }
  return out;
}

}  // namespace gcsim
