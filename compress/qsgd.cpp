// method = "qsgd": QSGD (Alistarh, Grubic, Li, Tomioka & Vojnovic, "QSGD:
// Communication-Efficient SGD via Gradient Quantization and Encoding",
// NeurIPS 2017, section 3.1) with s = 2^(bits-1) - 1 levels (bits = 2, 4, 8:
// s = 1, 7, 127) and stochastic rounding, without the Elias coding.
//
// The unit of one norm is a chunk of d = compression.chunk entries, the
// paper's "bucket size" (section 3.1, "bucketing"; its experiments use
// d = 128 .. 8192), or the whole DDP bucket when chunk = 0 (the default).
// Per chunk v (n_c entries): norm = ||v||_2; entry i is sent as sign(v_i) and
// a level l_i in [0, s] with E[l_i] = |v_i| / norm * s (kernels/backend.h
// qsgd_quantize: the rounding's uniform draws are hash64(seed_c, i), with
// seed_0 = hash of (step, bucket, rank) and seed_c = hash64(seed_0, c) for
// chunk c > 0, so runs are deterministic, the CPU and CUDA paths give the same
// bits, and chunk >= n gives the bits of chunk = 0). Unbiased: E[decode] = v.
// Smaller chunks cost 4 bytes each but bound each entry's rounding error by
// its own chunk's norm / s rather than the whole bucket's.
// Exchange: one allgather of every rank's message; each rank decodes and
// averages: g = (1/P) sum_r sign_r l_r norm_r / s.
// Wire format of one rank's bucket message (docs/wire-formats.md): the
// C = ceil(n / d) norms as float32, then n codes of `bits` bits (sign in the
// top bit, the level below), LSB first, chunk after chunk (d is a multiple of
// 8, so every chunk starts on a byte): bytes = 4 C + ceil(n bits / 8).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "compress/methods.h"
#include "kernels/hash.h"
#include "kernels/quant_format.h"
#include "sim/profile.h"

namespace gcsim::compress {

namespace {

// Entries per norm: the chunk, or all n when it is 0 or at least n.
std::size_t chunk_of(std::size_t n, std::int64_t chunk) {
  return chunk <= 0 || static_cast<std::size_t>(chunk) >= n ? std::max<std::size_t>(n, 1)
                                                              : static_cast<std::size_t>(chunk);
}
std::size_t chunks_of(std::size_t n, std::int64_t chunk) {
  const std::size_t d = chunk_of(n, chunk);
  return n == 0 ? 1 : (n + d - 1) / d;
}
std::size_t message_bytes(std::size_t n, int bits, std::int64_t chunk) {
  return 4 * chunks_of(n, chunk) + kernels::qsgd_bytes(n, bits);
}

class QsgdCodec final : public Codec {
 public:
  QsgdCodec(int bits, std::int64_t chunk, const std::vector<Segment>& segments, const std::vector<BucketLayout>& buckets)
      : bits_(bits), chunk_(chunk) {
    names_ = bucket_names(segments, buckets);
  }

  void exchange(std::size_t b, std::span<float> g, ExchangeContext& ctx) override {
    const std::size_t n = g.size();
    const std::size_t bytes = message_bytes(n, bits_, chunk_);
    const std::size_t d = chunk_of(n, chunk_), chunks = chunks_of(n, chunk_);
    const std::size_t codes_at = 4 * chunks;
    {
      PhaseTimer t(ctx.stats.compress_s);
      wire_.assign(bytes, 0);
      try {
        reject_non_finite(g, "gradient");
        const std::uint64_t seed =
            kernels::hash64(kernels::hash64(ctx.step, b), static_cast<std::uint64_t>(ctx.comm.rank()) + 1);
        for (std::size_t c = 0; c < chunks; ++c) {
          const std::size_t at = c * d, len = std::min(d, n - at);
          const auto norm = static_cast<float>(std::sqrt(ctx.kernels.sum_squares(g.data() + at, len)));
          std::memcpy(wire_.data() + 4 * c, &norm, 4);
          ctx.kernels.qsgd_quantize(g.data() + at, len, bits_, norm, c == 0 ? seed : kernels::hash64(seed, c),
                                    wire_.data() + codes_at + kernels::qsgd_bytes(at, bits_));
        }
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
      for (std::size_t c = 0; c < chunks; ++c) {
        const std::size_t at = c * d;
        float norm = 0.0f;
        std::memcpy(&norm, msg + 4 * c, 4);
        ctx.kernels.qsgd_dequantize_add(msg + codes_at + kernels::qsgd_bytes(at, bits_), std::min(d, n - at), bits_,
                                        norm, g.data() + at);
      }
    }
    divide_by_ranks(g, P);
  }

 private:
  int bits_;
  std::int64_t chunk_;
  std::vector<std::string> names_;
  std::vector<std::uint8_t> wire_, gathered_;
  std::vector<std::size_t> counts_;
};

class Qsgd final : public Method {
 public:
  std::string_view name() const override { return "qsgd"; }
  std::string_view summary() const override {
    return "QSGD: sign + (bits-1)-bit stochastic level per entry + one norm per chunk (or bucket), allgathered";
  }
  std::vector<std::string_view> options() const override { return {"bits", "chunk"}; }
  std::string label(const CompressionSpec& s) const override {
    std::string l = "qsgd " + std::to_string(s.bits) + "-bit";
    if (s.chunk > 0) l += " d=" + std::to_string(s.chunk);
    return l;
  }
  std::optional<OptionError> validate(const CompressionSpec& s) const override {
    if (s.chunk % 8 != 0)
      return OptionError{"chunk", "must be 0 (one norm per bucket) or a multiple of 8 entries (got " +
                                      std::to_string(s.chunk) + ")"};
    return std::nullopt;
  }

  BucketPlan plan(const CompressionSpec& spec, const std::vector<Layer>& bucket, int P) const override {
    std::int64_t n = 0;
    for (const Layer& l : bucket) n += l.params;
    const double nd = static_cast<double>(n);
    BucketPlan p;
    p.phases.push_back({{{op::finite_check, nd, 0.0}, {op::qsgd_quantize, nd, 0.0}},
                        {CollectiveKind::Allgather,
                         static_cast<double>(message_bytes(static_cast<std::size_t>(n), spec.bits, spec.chunk)), 1, "codes"}});
    p.after.push_back({op::qsgd_dequantize, nd, nd * P});
    p.after.push_back({op::scale, nd, 0.0});
    p.selected = n;
    return p;
  }

  std::unique_ptr<Codec> codec(const CompressionSpec& spec, const std::vector<Segment>& segments,
                               const std::vector<BucketLayout>& buckets, std::size_t) const override {
    return std::make_unique<QsgdCodec>(spec.bits, spec.chunk, segments, buckets);
  }
};

}  // namespace

const Method& qsgd_method() {
  static const Qsgd m;
  return m;
}

}  // namespace gcsim::compress
