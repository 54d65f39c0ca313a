// method = "none": the dense baseline, DDP's default allreduce hook. One
// allreduce of the bucket's fp32 gradient, then / P.
//   wire: 4 N bytes per bucket; bytes per worker by the allreduce algorithm
//   (ring: 2 (P-1)/P * 4N sent).
#include "compress/methods.h"
#include "sim/profile.h"

namespace gcsim::compress {

namespace {

class DenseCodec final : public Codec {
 public:
  explicit DenseCodec(std::vector<std::string> names) : names_(std::move(names)) {}

  void exchange(std::size_t b, std::span<float> g, ExchangeContext& ctx) override {
    {
      PhaseTimer t(ctx.stats.compress_s);
      reject_non_finite(g, ctx.where + "gradient of " + names_[b]);
    }
    {
      PhaseTimer t(ctx.stats.communicate_s);
      ctx.comm.allreduce_sum(g.data(), g.size());
    }
    PhaseTimer t(ctx.stats.decompress_s);
    divide_by_ranks(g, ctx.comm.size());
    ctx.stats.entries_sent += g.size();
  }

 private:
  std::vector<std::string> names_;  // per bucket
};

class Dense final : public Method {
 public:
  std::string_view name() const override { return "none"; }
  std::string_view summary() const override { return "no compression: dense fp32 allreduce (DDP's default)"; }
  std::vector<std::string_view> options() const override { return {}; }
  BucketPlan plan(const CompressionSpec&, const std::vector<Layer>& bucket, int) const override {
    double n = 0.0;
    for (const Layer& l : bucket) n += static_cast<double>(l.params);
    BucketPlan p;
    p.phases.push_back({{{op::finite_check, n, 0.0}}, {CollectiveKind::Allreduce, 4.0 * n, 4, "dense"}});
    p.after.push_back({op::scale, n, 0.0});
    p.selected = static_cast<std::int64_t>(n);
    return p;
  }
  std::unique_ptr<Codec> codec(const CompressionSpec&, const std::vector<Segment>& segments,
                               const std::vector<BucketLayout>& buckets, std::size_t) const override {
    return std::make_unique<DenseCodec>(bucket_names(segments, buckets));
  }
};

}  // namespace

const Method& dense_method() {
  static const Dense m;
  return m;
}

}  // namespace gcsim::compress
