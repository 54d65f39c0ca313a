// method = "fp16" | "bf16": PyTorch DDP's fp16_compress_hook and
// bf16_compress_hook (torch/distributed/algorithms/ddp_comm_hooks/
// default_hooks.py; bf16 as in Kalamkar et al., "A Study of BFLOAT16 for Deep
// Learning Training", 2019). Per bucket:
//   h = RNE(g / P) in the format  (divide first, as the hooks do, so the sum
//                                  of P values cannot overflow where g / P does not)
//   allreduce h                   2 bytes per element; every partial sum rounded
//                                  to nearest even in the format (comm/communicator.h)
//   g = float(h)                  exact
// Wire: 2N bytes per bucket instead of 4N; bytes per worker as the dense
// allreduce of 2N (ring: 2 (P-1)/P * 2N sent). Gloo has no bfloat16 type, so
// both formats go through Gloo's ring allreduce of 16-bit elements with our
// own reduction (kernels::half_sum), which is exactly what is priced: a ring
// (or the scenario's algorithm) allreduce of 2N bytes.
// A value that overflows the format after / P (|g/P| > 65504 in fp16) is
// rejected like NaN/Inf (NonFiniteError), not sent as Inf.
#include "compress/methods.h"
#include "sim/profile.h"

namespace gcsim::compress {

namespace {

class HalfCodec final : public Codec {
 public:
  HalfCodec(kernels::HalfFormat format, std::vector<std::string> names, std::size_t max_bucket)
      : format_(format), names_(std::move(names)), half_(max_bucket) {}

  void exchange(std::size_t b, std::span<float> g, ExchangeContext& ctx) override {
    const std::size_t n = g.size();
    {
      PhaseTimer t(ctx.stats.compress_s);
      try {
        ctx.kernels.to_half(g.data(), n, 1.0f / static_cast<float>(ctx.comm.size()), format_, half_.data());
      } catch (const kernels::NonFiniteError& e) {
        throw kernels::NonFiniteError(ctx.where + "gradient of " + names_[b] + " (or its value / P in " +
                                          (format_ == kernels::HalfFormat::Fp16 ? "fp16" : "bf16") + ")",
                                      e.count());
      }
    }
    {
      PhaseTimer t(ctx.stats.communicate_s);
      ctx.comm.allreduce_sum_half(half_.data(), n, format_);
    }
    PhaseTimer t(ctx.stats.decompress_s);
    ctx.kernels.from_half(half_.data(), n, format_, g.data());
    ctx.stats.entries_sent += n;
  }

 private:
  kernels::HalfFormat format_;
  std::vector<std::string> names_;
  std::vector<std::uint16_t> half_;
};

class HalfPrecision final : public Method {
 public:
  HalfPrecision(const char* name, kernels::HalfFormat format) : name_(name), format_(format) {}
  std::string_view name() const override { return name_; }
  std::string_view summary() const override {
    return format_ == kernels::HalfFormat::Fp16 ? "fp16: g / P cast to IEEE half, allreduced in fp16"
                                                : "bf16: g / P cast to bfloat16, allreduced in bf16";
  }
  std::vector<std::string_view> options() const override { return {}; }

  BucketPlan plan(const CompressionSpec&, const std::vector<Layer>& bucket, int) const override {
    double n = 0.0;
    for (const Layer& l : bucket) n += static_cast<double>(l.params);
    BucketPlan p;
    p.phases.push_back({{{op::cast, n, 0.0}}, {CollectiveKind::Allreduce, 2.0 * n, 2, "half"}});
    p.selected = static_cast<std::int64_t>(n);
    return p;
  }

  std::unique_ptr<Codec> codec(const CompressionSpec&, const std::vector<Segment>& segments,
                               const std::vector<BucketLayout>& buckets, std::size_t) const override {
    std::size_t max_bucket = 0;
    for (const BucketLayout& b : buckets) max_bucket = std::max(max_bucket, b.size);
    return std::make_unique<HalfCodec>(format_, bucket_names(segments, buckets), max_bucket);
  }

 private:
  const char* name_;
  kernels::HalfFormat format_;
};

}  // namespace

const Method& fp16_method() {
  static const HalfPrecision m("fp16", kernels::HalfFormat::Fp16);
  return m;
}

const Method& bf16_method() {
  static const HalfPrecision m("bf16", kernels::HalfFormat::Bf16);
  return m;
}

}  // namespace gcsim::compress
