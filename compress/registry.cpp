// The compression methods gcsim knows: a new method is a new file and one
// line here (and its accessor in methods.h).
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "compress/methods.h"
#include "kernels/host_passes.h"

namespace gcsim::compress {

namespace {

const std::vector<const Method*>& all() {
  static const std::vector<const Method*> methods = {
      &dense_method(),
      &topk_method(),
      &randomk_method(),
      &threshold_method(),
      &fp16_method(),
      &bf16_method(),
      &signsgd_method(),
      &qsgd_method(),
      &powersgd_method(),
  };
  return methods;
}

}  // namespace

const Method* find_method(std::string_view name) {
  for (const Method* m : all())
    if (m->name() == name) return m;
  return nullptr;
}

std::vector<std::string> method_names() {
  std::vector<std::string> out;
  for (const Method* m : all()) out.emplace_back(m->name());
  return out;
}

const Method& method(std::string_view name) {
  if (const Method* m = find_method(name)) return *m;
  std::string known;
  for (const auto& n : method_names()) known += (known.empty() ? "" : ", ") + n;
  throw std::invalid_argument("unknown compression method '" + std::string(name) + "' (known: " + known + ")");
}

std::int64_t topk_count(double ratio, std::int64_t n) {
  const double x = ratio * static_cast<double>(n);
  auto k = static_cast<std::int64_t>(std::ceil(x - 4.0 * std::numeric_limits<double>::epsilon() * x));
  return std::clamp<std::int64_t>(k, 1, std::max<std::int64_t>(n, 1));
}

void reject_non_finite(std::span<const float> g, const std::string& what) {
  const std::size_t bad = kernels::host::count_non_finite(g.data(), g.size());
  if (bad > 0) throw kernels::NonFiniteError(what, bad);
}

void divide_by_ranks(std::span<float> g, int ranks) { kernels::host::scale(g.data(), g.size(), 1.0f / static_cast<float>(ranks)); }

std::vector<std::string> bucket_names(const std::vector<Segment>& segments, const std::vector<BucketLayout>& buckets) {
  std::vector<std::string> names;
  for (const BucketLayout& b : buckets) names.push_back(segments[b.first].name);
  return names;
}

void allgather_equal(comm::Communicator& comm, const void* data, std::size_t bytes, std::vector<std::size_t>& counts,
                     std::vector<std::uint8_t>& out) {
  counts.assign(static_cast<std::size_t>(comm.size()), bytes);
  comm.allgatherv_known(data, bytes, counts, out);
}

}  // namespace gcsim::compress

namespace gcsim {

const char* to_string(Granularity g) {
  switch (g) {
    case Granularity::Layer: return "layer";
    case Granularity::Bucket: return "bucket";
    case Granularity::Model: return "model";
  }
  return "?";
}

const char* to_string(Exchange e) {
  switch (e) {
    case Exchange::Allgather: return "allgather";
    case Exchange::Dense: return "dense";
    case Exchange::Gtopk: return "gtopk";
    case Exchange::SparseAllreduce: return "sparse-allreduce";
    case Exchange::Hierarchical: return "hierarchical";
    case Exchange::Auto: return "auto";
  }
  return "?";
}

}  // namespace gcsim
