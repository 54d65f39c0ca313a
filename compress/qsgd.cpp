// method = "qsgd": QSGD (Alistarh, Grubic, Li, Tomioka & Vojnovic, "QSGD:
// Communication-Efficient SGD via Gradient Quantization and Encoding",
// NeurIPS 2017, section 3.1) with s = 2^(bits-1) - 1 levels (bits = 2, 4, 8:
// s = 1, 7, 127) and stochastic rounding, without the Elias coding.
//
// Per bucket v (n entries): norm = ||v||_2; entry i is sent as sign(v_i) and
// a level l_i in [0, s] with E[l_i] = |v_i| / norm * s (kernels/backend.h
// qsgd_quantize: the rounding's uniform draws are hash64(seed, i), seed =
// hash of (step, bucket, rank), so runs are deterministic and the CPU and CUDA
// paths give the same bits). Unbiased: E[decode] = v.
// Exchange: one allgather of every rank's message; each rank decodes and
// averages: g = (1/P) sum_r sign_r l_r norm_r / s.
// Wire format of one rank's bucket message (docs/wire-formats.md): the norm
// as float32, then n codes of `bits` bits (sign in the top bit, the level
// below), LSB first: bytes = 4 + ceil(n bits / 8).
#include <cmath>
#include <cstring>

#include "compress/methods.h"
#include "kernels/hash.h"
#include "kernels/quant_format.h"
#include "sim/profile.h"

namespace gcsim::compress {

namespace {

std::size_t message_bytes(std::size_t n, int bits) { return 4 + kernels::qsgd_bytes(n, bits); }

class QsgdCodec final : public Codec {
 public:
  QsgdCodec(int bits, const std::vector<Segment>& segments, const std::vector<BucketLayout>& buckets) : bits_(bits) {
    names_ = bucket_names(segments, buckets);
  }

  void exchange(std::size_t b, std::span<float> g, ExchangeContext& ctx) override {
    const std::size_t n = g.size();
    const std::size_t bytes = message_bytes(n, bits_);
    {
      PhaseTimer t(ctx.stats.compress_s);
      wire_.assign(bytes, 0);
      try {
        reject_non_finite(g, "gradient");
        const auto norm = static_cast<float>(std::sqrt(ctx.kernels.sum_squares(g.data(), n)));
        const std::uint64_t seed =
            kernels::hash64(kernels::hash64(ctx.step, b), static_cast<std::uint64_t>(ctx.comm.rank()) + 1);
        std::memcpy(wire_.data(), &norm, 4);
        ctx.kernels.qsgd_quantize(g.data(), n, bits_, norm, seed, wire_.data() + 4);
      } catch (const kernels::NonFiniteError& e) {
        throw kernels::NonFiniteError(ctx.where + "gradient of " + names_[b], e.count());
      }
    }
    ctx.stats.entries_sent += n;
    {
      PhaseTimer t(ctx.stats.communicate_s);
      allgather_equal(ctx.comm, wire_.data(), bytes, counts_, gathered_);
    }
    PhaseTimer t(ctx.stats.decompress_s);
    std::fill(g.begin(), g.end(), 0.0f);
    const int P = ctx.comm.size();
    for (int r = 0; r < P; ++r) {
      const std::uint8_t* msg = gathered_.data() + static_cast<std::size_t>(r) * bytes;
      float norm = 0.0f;
      std::memcpy(&norm, msg, 4);
      ctx.kernels.qsgd_dequantize_add(msg + 4, n, bits_, norm, g.data());
    }
    const float inv_p = 1.0f / static_cast<float>(P);
    for (float& v : g) v *= inv_p;
  }

 private:
  int bits_;
  std::vector<std::string> names_;
  std::vector<std::uint8_t> wire_, gathered_;
  std::vector<std::size_t> counts_;
};

class Qsgd final : public Method {
 public:
  std::string_view name() const override { return "qsgd"; }
  std::string_view summary() const override {
    return "QSGD: sign + (bits-1)-bit stochastic level per entry + one norm per bucket, allgathered";
  }
  std::vector<std::string_view> options() const override { return {"bits"}; }
  std::string label(const CompressionSpec& s) const override { return "qsgd " + std::to_string(s.bits) + "-bit"; }

  BucketPlan plan(const CompressionSpec& spec, const std::vector<Layer>& bucket, int P) const override {
    std::int64_t n = 0;
    for (const Layer& l : bucket) n += l.params;
    const double nd = static_cast<double>(n);
    BucketPlan p;
    p.phases.push_back({{{op::qsgd_quantize, nd, 0.0}},
                        {CollectiveKind::Allgather,
                         static_cast<double>(message_bytes(static_cast<std::size_t>(n), spec.bits)), 1, "codes"}});
    p.after.push_back({op::qsgd_dequantize, nd, nd * P});
    p.selected = n;
    return p;
  }

  std::unique_ptr<Codec> codec(const CompressionSpec& spec, const std::vector<Segment>& segments,
                               const std::vector<BucketLayout>& buckets, std::size_t) const override {
    return std::make_unique<QsgdCodec>(spec.bits, segments, buckets);
  }
};

}  // namespace

const Method& qsgd_method() {
  static const Qsgd m;
  return m;
}

}  // namespace gcsim::compress
