// method = "signsgd": EF-signSGD (Karimireddy, Rebjock, Stich & Jaggi, "Error
// Feedback Fixes SignSGD and other Gradient Compression Schemes", ICML 2019,
// Algorithm 1), and with majority_vote = true signSGD with majority vote
// (Bernstein, Wang, Azizzadenesheli & Anandkumar, "signSGD: Compressed
// Optimisation for Non-Convex Problems", ICML 2018), the baseline known to
// fail without error feedback.
//
// Per parameter tensor of the bucket (d entries):
//   p = g + e;  scale = ||p||_1 / d;  send sign(p) and scale;  e = p - scale sign(p)
//   (error_feedback = false: p = g, e stays 0)
// Exchange: one allgather of every rank's bucket message; each rank decodes
//   g = (1/P) sum_r scale_r sign_r            (EF-signSGD: the average)
//   g = mean_r(scale_r) * sign(sum_r sign_r)  (majority vote; a tie gives 0;
//                                              no error feedback)
// Wire format of one rank's bucket message (docs/wire-formats.md):
//   T float32 scales (one per tensor, in storage order), then each tensor's
//   bits, ceil(d_t / 8) bytes each (bit i = 1 when p_i < 0, LSB first).
//   bytes = 4 T + sum_t ceil(d_t / 8); each rank receives (P - 1) times that.
#include <cstring>

#include "compress/methods.h"
#include "kernels/quant_format.h"
#include "sim/profile.h"

namespace gcsim::compress {

namespace {

struct TensorSpan {
  std::size_t offset = 0, size = 0;  // within the bucket
};

std::vector<TensorSpan> tensor_spans(const std::vector<Segment>& segments, const BucketLayout& b) {
  std::vector<TensorSpan> out;
  for (std::size_t si = b.first; si < b.last; ++si) {
    std::size_t at = segments[si].offset - b.offset;
    for (const TensorShape& t : segments[si].tensors) {
      out.push_back({at, static_cast<std::size_t>(t.size())});
      at += static_cast<std::size_t>(t.size());
    }
  }
  return out;
}

std::size_t message_bytes(const std::vector<TensorSpan>& ts) {
  std::size_t bytes = 4 * ts.size();
  for (const TensorSpan& t : ts) bytes += kernels::sign_bytes(t.size);
  return bytes;
}

class SignCodec final : public Codec {
 public:
  SignCodec(const CompressionSpec& spec, const std::vector<Segment>& segments, const std::vector<BucketLayout>& buckets,
            std::size_t total)
      : vote_(spec.majority_vote), ef_(spec.error_feedback && !spec.majority_vote),
        residual_(ef_ ? total : 0, 0.0f), names_(bucket_names(segments, buckets)) {
    for (const BucketLayout& b : buckets) {
      tensors_.push_back(tensor_spans(segments, b));
      offsets_.push_back(b.offset);
    }
  }

  std::span<float> residual() override { return residual_; }

  void exchange(std::size_t b, std::span<float> g, ExchangeContext& ctx) override {
    const std::vector<TensorSpan>& ts = tensors_[b];
    const std::size_t bytes = message_bytes(ts);
    const std::size_t T = ts.size();
    {
      PhaseTimer t(ctx.stats.compress_s);
      wire_.assign(bytes, std::byte{0});
      std::size_t at = 4 * T;
      for (std::size_t i = 0; i < T; ++i) {
        float* e = ef_ ? residual_.data() + offsets_[b] + ts[i].offset : nullptr;
        float scale = 0.0f;
        try {
          scale = ctx.kernels.ef_sign(g.data() + ts[i].offset, e, ts[i].size,
                                      reinterpret_cast<std::uint8_t*>(wire_.data() + at));
        } catch (const kernels::NonFiniteError& err) {
          throw kernels::NonFiniteError(ctx.where + "gradient of " + names_[b], err.count());
        }
        std::memcpy(wire_.data() + 4 * i, &scale, 4);
        at += kernels::sign_bytes(ts[i].size);
      }
    }
    ctx.stats.entries_sent += g.size();
    {
      PhaseTimer t(ctx.stats.communicate_s);
      allgather_equal(ctx.comm, wire_.data(), bytes, counts_, gathered_);
    }
    PhaseTimer t(ctx.stats.decompress_s);
    const int P = ctx.comm.size();
    std::fill(g.begin(), g.end(), 0.0f);
    mean_scale_.assign(T, 0.0);
    for (int r = 0; r < P; ++r) {
      const std::uint8_t* msg = gathered_.data() + static_cast<std::size_t>(r) * bytes;
      std::size_t at = 4 * T;
      for (std::size_t i = 0; i < T; ++i) {
        float scale = 0.0f;
        std::memcpy(&scale, msg + 4 * i, 4);
        mean_scale_[i] += scale;
        // EF-signSGD averages scale_r sign_r; majority vote counts the signs.
        ctx.kernels.sign_decode_add(msg + at, ts[i].size, vote_ ? 1.0f : scale / static_cast<float>(P),
                                    g.data() + ts[i].offset);
        at += kernels::sign_bytes(ts[i].size);
      }
    }
    if (vote_)
      for (std::size_t i = 0; i < T; ++i)
        ctx.kernels.apply_sign(g.data() + ts[i].offset, ts[i].size, static_cast<float>(mean_scale_[i] / P));
  }

 private:
  bool vote_, ef_;
  std::vector<float> residual_;
  std::vector<std::vector<TensorSpan>> tensors_;  // per bucket
  std::vector<std::string> names_;
  std::vector<std::size_t> offsets_;
  std::vector<std::byte> wire_;
  std::vector<std::uint8_t> gathered_;
  std::vector<std::size_t> counts_;
  std::vector<double> mean_scale_;
};

class SignSgd final : public Method {
 public:
  std::string_view name() const override { return "signsgd"; }
  std::string_view summary() const override {
    return "EF-signSGD: 1 bit per entry + one scale per tensor, allgathered (majority_vote: Bernstein's vote)";
  }
  std::vector<std::string_view> options() const override { return {"error_feedback", "majority_vote"}; }
  std::string label(const CompressionSpec& s) const override {
    if (s.majority_vote) return "signsgd majority";
    return s.error_feedback ? "ef-signsgd" : "signsgd no-EF";
  }

  BucketPlan plan(const CompressionSpec& spec, const std::vector<Layer>& bucket, int P) const override {
    BucketPlan p;
    Phase ph;
    double bytes = 0.0, n = 0.0;
    for (const Layer& l : bucket)
      for (const TensorShape& t : tensors_of(l)) {
        const double d = static_cast<double>(t.size());
        ph.before.push_back({op::ef_sign, d, 0.0});
        p.after.push_back({op::sign_decode, d, d * P});
        bytes += 4.0 + static_cast<double>(kernels::sign_bytes(static_cast<std::size_t>(t.size())));
        n += d;
      }
    ph.collective = {CollectiveKind::Allgather, bytes, 1, spec.majority_vote ? "votes" : "signs"};
    p.phases.push_back(std::move(ph));
    p.selected = static_cast<std::int64_t>(n);
    return p;
  }

  std::unique_ptr<Codec> codec(const CompressionSpec& spec, const std::vector<Segment>& segments,
                               const std::vector<BucketLayout>& buckets, std::size_t total) const override {
    return std::make_unique<SignCodec>(spec, segments, buckets, total);
  }
};

}  // namespace

const Method& signsgd_method() {
  static const SignSgd m;
  return m;
}

}  // namespace gcsim::compress
