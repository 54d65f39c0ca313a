// The compression methods of compress/ as the trainer runs them (the codec,
// on P in-process ranks through train::GradientExchange) against plain
// references written here from the papers' definitions, and the link between
// the two faces of each method: the bytes its codec really sends equal the
// bytes its plan() tells the simulator (the wire formats of docs/wire-formats.md).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "compress/fill_in.h"
#include "compress/method.h"
#include "kernels/half.h"
#include "kernels/host_passes.h"
#include "kernels/quant_format.h"
#include "sim/profile.h"
#include "train_support.h"

using namespace gcsim;
using namespace gcsim::train;
using gcsim::train::test::on_ranks;

namespace {

// Two layers: a (6 x 20) matrix with a bias of 6, and a (5 x 3) matrix with a bias of 5.
std::vector<NamedRange> two_layers() {
  return {{"fc1", 0, 126, {{6, 20}, {6, 1}}}, {"fc2", 126, 20, {{5, 3}, {5, 1}}}};
}
constexpr std::size_t kTotal = 146;

std::vector<float> gradient(int rank, std::uint64_t step, float scale = 1.0f) {
  std::mt19937 gen(static_cast<unsigned>(1000 * rank + step + 7));
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> g(kTotal);
  for (float& v : g) v = d(gen);
  return g;
}

struct RankRun {
  std::vector<std::vector<float>> out;       // per step: the exchanged gradient
  std::vector<std::vector<float>> residual;  // per step: the residual after it
  std::vector<std::uint64_t> bytes;          // per step: bytes this rank sent
  std::vector<std::vector<compress::MergeSize>> merges;  // per step: the sparse allreduce's fill-in
};

// Runs `steps` exchanges of gradient(rank, step) (or of `fixed` on every rank) on P ranks.
std::vector<RankRun> run(int P, const CompressionSpec& spec, int steps, const std::vector<float>* fixed = nullptr,
                         const std::vector<NamedRange>& layers = two_layers(), std::size_t total = kTotal) {
  std::vector<RankRun> runs(static_cast<std::size_t>(P));
  on_ranks(P, [&](comm::Communicator& c) {
    GradientExchange ex(c, spec, make_segments(layers, spec, 25), total);
    RankRun& mine = runs[static_cast<std::size_t>(c.rank())];
    for (int s = 0; s < steps; ++s) {
      std::vector<float> g = fixed ? *fixed : gradient(c.rank(), static_cast<std::uint64_t>(s));
      const ExchangeStats st = ex.exchange(g, static_cast<std::uint64_t>(s));
      mine.out.push_back(g);
      mine.residual.emplace_back(ex.residual().begin(), ex.residual().end());
      mine.bytes.push_back(st.bytes_sent);
      mine.merges.push_back(st.merges);
    }
  });
  return runs;
}

CompressionSpec spec_of(const std::string& method) {
  CompressionSpec s;
  s.method = method;
  s.ratio = 0.1;
  return s;
}

void check_identical_on_all_ranks(const std::vector<RankRun>& runs) {
  for (std::size_t r = 1; r < runs.size(); ++r)
    for (std::size_t s = 0; s < runs[0].out.size(); ++s) REQUIRE(runs[r].out[s] == runs[0].out[s]);
}

std::vector<Layer> layers_of(const std::vector<NamedRange>& ranges) {
  std::vector<Layer> out;
  for (const NamedRange& r : ranges) {
    Layer l;
    l.name = r.name;
    l.params = static_cast<std::int64_t>(r.size);
    l.tensors = r.tensors;
    out.push_back(l);
  }
  return out;
}

}  // namespace

TEST_CASE("compress registry: every method resolves by name and reads only CompressionSpec keys", "[compress]") {
  const std::vector<std::string> names = compress::method_names();
  for (const char* want : {"none", "topk", "randomk", "threshold", "fp16", "bf16", "signsgd", "qsgd", "powersgd"})
    CHECK(std::find(names.begin(), names.end(), want) != names.end());
  for (const std::string& n : names) {
    const compress::Method& m = compress::method(n);
    CHECK(m.name() == n);
    CHECK_FALSE(m.label(spec_of(n)).empty());
    for (std::string_view key : m.options()) CHECK_NOTHROW(option_value(spec_of(n), key));
  }
  try {
    compress::method("terngrad");
    FAIL("unknown method accepted");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()).find("powersgd") != std::string::npos);
  }
}

TEST_CASE("fp16 and bf16: the exchange is the rank-order rounded sum of RNE of g over P", "[compress]") {
  for (auto [name, format] : {std::pair{"fp16", kernels::HalfFormat::Fp16}, std::pair{"bf16", kernels::HalfFormat::Bf16}}) {
    INFO(name);
    const int P = 3;
    const auto runs = run(P, spec_of(name), 2);
    check_identical_on_all_ranks(runs);
    for (std::size_t s = 0; s < 2; ++s) {
      double max_rel = 0.0;
      for (std::size_t i = 0; i < kTotal; ++i) {
        // In-process ranks add in rank order, every partial sum rounded in the format.
        std::uint16_t acc = 0;
        double exact = 0.0, magnitude = 0.0;
        for (int r = 0; r < P; ++r) {
          const float g = gradient(r, s)[i];
          const std::uint16_t h = kernels::to_half(g * (1.0f / static_cast<float>(P)), format);
          acc = r == 0 ? h : kernels::half_sum(acc, h, format);
          exact += static_cast<double>(g) / P;
          magnitude += std::abs(static_cast<double>(g)) / P;
        }
        REQUIRE(runs[0].out[s][i] == kernels::from_half(acc, format));
        max_rel = std::max(max_rel, std::abs(runs[0].out[s][i] - exact) / magnitude);
      }
      // P roundings of the terms and P - 1 of the sums, each at most the unit roundoff
      // u (2^-11 fp16, 2^-8 bf16) of the terms' magnitude.
      const double u = format == kernels::HalfFormat::Fp16 ? 0x1p-11 : 0x1p-8;
      CHECK(max_rel <= (2 * P - 1) * u);
      CHECK(max_rel > 0.0);  // it is a lossy cast
    }
  }
}

TEST_CASE("fp16: a gradient that overflows fp16 after the division by P is rejected before anything is sent", "[compress]") {
  std::vector<float> g(kTotal, 1.0f);
  g[3] = 2e5f;  // 2e5 / 2 = 1e5 > 65504
  try {
    run(2, spec_of("fp16"), 1, &g);
    FAIL("overflow accepted");
  } catch (const kernels::NonFiniteError& e) {
    CHECK(e.count() == 1);
    CHECK(std::string(e.what()).find("step 1: gradient of") != std::string::npos);
  }
  g[3] = 1e5f;  // 5e4 fits
  CHECK_NOTHROW(run(2, spec_of("fp16"), 1, &g));
}

TEST_CASE("signsgd: every rank gets the mean of scale sign per tensor and keeps p - scale sign", "[compress]") {
  const int P = 3;
  const auto runs = run(P, spec_of("signsgd"), 3);
  check_identical_on_all_ranks(runs);
  // The reference, per rank and tensor: p = g + e; scale = mean |p|; e = p - scale sign(p).
  const std::vector<std::pair<std::size_t, std::size_t>> tensors = {{0, 120}, {120, 6}, {126, 15}, {141, 5}};
  std::vector<std::vector<double>> e(P, std::vector<double>(kTotal, 0.0));
  for (std::uint64_t s = 0; s < 3; ++s) {
    std::vector<double> avg(kTotal, 0.0);
    for (int r = 0; r < P; ++r) {
      const std::vector<float> g = gradient(r, s);
      for (auto [at, d] : tensors) {
        double l1 = 0.0;
        std::vector<double> p(d);
        for (std::size_t i = 0; i < d; ++i) l1 += std::abs(p[i] = g[at + i] + e[r][at + i]);
        const double scale = l1 / static_cast<double>(d);
        for (std::size_t i = 0; i < d; ++i) {
          const double sgn = p[i] < 0 ? -1.0 : 1.0;
          avg[at + i] += scale * sgn / P;
          e[r][at + i] = p[i] - scale * sgn;
        }
      }
    }
    for (std::size_t i = 0; i < kTotal; ++i) {
      REQUIRE(runs[0].out[s][i] == Approx(avg[i]).margin(1e-5));
      for (int r = 0; r < P; ++r) REQUIRE(runs[r].residual[s][i] == Approx(e[r][i]).margin(1e-5));
    }
  }
}

TEST_CASE("signsgd majority vote: the elected sign times the mean scale and no residual", "[compress]") {
  const int P = 3;
  CompressionSpec spec = spec_of("signsgd");
  spec.majority_vote = true;
  const auto runs = run(P, spec, 1);
  check_identical_on_all_ranks(runs);
  const std::vector<std::pair<std::size_t, std::size_t>> tensors = {{0, 120}, {120, 6}, {126, 15}, {141, 5}};
  for (auto [at, d] : tensors) {
    double mean_scale = 0.0;
    for (int r = 0; r < P; ++r) {
      double l1 = 0.0;
      for (std::size_t i = 0; i < d; ++i) l1 += std::abs(gradient(r, 0)[at + i]);
      mean_scale += l1 / static_cast<double>(d) / P;
    }
    for (std::size_t i = 0; i < d; ++i) {
      int votes = 0;
      for (int r = 0; r < P; ++r) votes += gradient(r, 0)[at + i] < 0 ? -1 : 1;
      REQUIRE(runs[0].out[0][at + i] == Approx((votes > 0 ? 1 : -1) * mean_scale).epsilon(1e-5));
    }
  }
  for (float v : runs[0].residual[0]) REQUIRE(v == 0.0f);
}

TEST_CASE("qsgd: the exchange is the average of every rank's decoded codes - the same bits run to run", "[compress]") {
  for (int bits : {2, 4, 8}) {
    INFO("bits " << bits);
    const int P = 3;
    CompressionSpec spec = spec_of("qsgd");
    spec.bits = bits;
    const auto a = run(P, spec, 2);
    const auto b = run(P, spec, 2);
    check_identical_on_all_ranks(a);
    CHECK(a[0].out == b[0].out);
    // Each decoded entry is sign * l * norm / s with l an integer in [0, s]: the average of P of them.
    const int s = kernels::qsgd_levels(bits);
    for (std::size_t i = 0; i < kTotal; ++i) {
      double bound = 0.0, exact = 0.0;
      for (int r = 0; r < P; ++r) {
        double norm = 0.0;
        for (float v : gradient(r, 0)) norm += static_cast<double>(v) * v;
        bound += std::sqrt(norm) / P;  // |decoded| <= norm
        exact += gradient(r, 0)[i] / P;
      }
      REQUIRE(std::abs(a[0].out[0][i]) <= bound * (1 + 1e-6));
      // Stochastic rounding moves each entry by less than one level.
      REQUIRE(std::abs(a[0].out[0][i] - exact) <= bound / s * (1 + 1e-6));
    }
  }
}

TEST_CASE("qsgd chunks: one norm per d entries bounds each entry by its own chunk - chunk >= n is chunk 0's bits", "[compress]") {
  const int P = 3;
  const std::size_t d = 16;
  for (int bits : {2, 4, 8}) {
    INFO("bits " << bits);
    CompressionSpec spec = spec_of("qsgd");
    spec.bits = bits;
    spec.chunk = static_cast<std::int64_t>(d);
    const auto a = run(P, spec, 2);
    check_identical_on_all_ranks(a);
    const int s = kernels::qsgd_levels(bits);
    // Chunk c = [c d, min((c + 1) d, n)) of the 146 entries (the last one has 2).
    double loose = 0.0, tight = 0.0;
    for (std::size_t at = 0; at < kTotal; at += d) {
      const std::size_t end = std::min(at + d, kTotal);
      double bound = 0.0;
      for (int r = 0; r < P; ++r) {
        double norm = 0.0;
        for (std::size_t i = at; i < end; ++i) norm += static_cast<double>(gradient(r, 0)[i]) * gradient(r, 0)[i];
        bound += std::sqrt(norm) / P;
      }
      for (std::size_t i = at; i < end; ++i) {
        double exact = 0.0;
        for (int r = 0; r < P; ++r) exact += gradient(r, 0)[i] / P;
        REQUIRE(std::abs(a[0].out[0][i]) <= bound * (1 + 1e-6));
        REQUIRE(std::abs(a[0].out[0][i] - exact) <= bound / s * (1 + 1e-6));
        tight += std::abs(a[0].out[0][i] - exact);
      }
    }
    // Against one norm per bucket, the chunked codes are closer to the mean on the whole.
    CompressionSpec whole = spec;
    whole.chunk = 0;
    const auto w = run(P, whole, 1);
    for (std::size_t i = 0; i < kTotal; ++i) {
      double exact = 0.0;
      for (int r = 0; r < P; ++r) exact += gradient(r, 0)[i] / P;
      loose += std::abs(w[0].out[0][i] - exact);
    }
    CHECK(tight < loose);
    // A chunk as long as the bucket is the unchunked format, bit for bit.
    CompressionSpec one = spec;
    one.chunk = 160;
    const auto o = run(P, one, 1);
    CHECK(o[0].out[0] == w[0].out[0]);
    CHECK(o[0].bytes[0] == w[0].bytes[0]);
  }
}

TEST_CASE("powersgd: a rank-r gradient shared by all ranks is reproduced and leaves no residual", "[compress]") {
  // M = u v^T on every rank (rank 1) in the (6 x 20) tensor; the biases and the (5 x 3)
  // matrix, which rank 1 would not shrink enough (min_compression_rate 2: 8 * 2 >= 15),
  // go through the dense allreduce.
  std::vector<float> g(kTotal);
  for (std::size_t i = 0; i < 6; ++i)
    for (std::size_t j = 0; j < 20; ++j) g[i * 20 + j] = static_cast<float>((i + 1.0) * std::sin(j + 0.5));
  for (std::size_t i = 120; i < kTotal; ++i) g[i] = 0.01f * static_cast<float>(i);
  CompressionSpec spec = spec_of("powersgd");
  spec.rank = 1;
  const auto runs = run(4, spec, 2, &g);
  check_identical_on_all_ranks(runs);
  for (std::size_t s = 0; s < 2; ++s)
    for (std::size_t i = 0; i < kTotal; ++i) {
      REQUIRE(runs[0].out[s][i] == Approx(g[i]).margin(1e-5));
      REQUIRE(std::abs(runs[0].residual[s][i]) < 1e-5);
    }
}

TEST_CASE("powersgd: the approximation has rank r - the residual is g + e minus it - dense before start_iter", "[compress]") {
  const int P = 3;
  CompressionSpec spec = spec_of("powersgd");
  spec.rank = 2;
  spec.start_iter = 1;
  const auto runs = run(P, spec, 3);
  check_identical_on_all_ranks(runs);
  // Step 0 (before start_iter): the dense average, no residual.
  for (std::size_t i = 0; i < kTotal; ++i) {
    double avg = 0.0;
    for (int r = 0; r < P; ++r) avg += gradient(r, 0)[i];
    REQUIRE(runs[0].out[0][i] == Approx(avg / P).margin(1e-6));
    REQUIRE(runs[0].residual[0][i] == 0.0f);
  }
  for (std::size_t s = 1; s < 3; ++s) {
    // The (6 x 20) block has rank <= 2: every 3 x 3 minor vanishes.
    const std::vector<float>& o = runs[0].out[s];
    auto at = [&](std::size_t i, std::size_t j) { return static_cast<double>(o[i * 20 + j]); };
    double scale = 0.0;
    for (std::size_t i = 0; i < 120; ++i) scale = std::max(scale, std::abs(static_cast<double>(o[i])));
    for (std::size_t j = 0; j + 2 < 20; ++j) {
      const double det = at(0, j) * (at(1, j + 1) * at(2, j + 2) - at(1, j + 2) * at(2, j + 1)) -
                         at(0, j + 1) * (at(1, j) * at(2, j + 2) - at(1, j + 2) * at(2, j)) +
                         at(0, j + 2) * (at(1, j) * at(2, j + 1) - at(1, j + 1) * at(2, j));
      REQUIRE(std::abs(det) < 1e-4 * scale * scale * scale);
    }
    // Error feedback as the hook keeps it: e = (g + e_before) - exchanged, on every entry.
    for (int r = 0; r < P; ++r)
      for (std::size_t i = 0; i < kTotal; ++i) {
        const float before = runs[r].residual[s - 1][i];
        REQUIRE(runs[r].residual[s][i] == Approx(gradient(r, s)[i] + before - runs[r].out[s][i]).margin(1e-5));
      }
    // The biases are averaged exactly (they are not compressed).
    for (std::size_t i = 120; i < 126; ++i) {
      double avg = 0.0;
      for (int r = 0; r < P; ++r) avg += gradient(r, s)[i] + runs[r].residual[s - 1][i];
      REQUIRE(o[i] == Approx(avg / P).margin(1e-5));
    }
  }
}

TEST_CASE("every method's codec sends exactly the bytes its plan prices", "[compress]") {
  // The simulator prices plan(): an allreduce of B bytes of e-byte elements sends
  // ring_allreduce_bytes(B / e); an allgather of B bytes per rank sends (P - 1) B.
  for (const std::string& name : compress::method_names()) {
    if (name == "threshold") continue;  // its k varies per rank (and it exchanges the counts first)
    for (int P : {2, 3, 5})
    for (std::int64_t chunk : {0, 8}) {
      if (chunk != 0 && name != "qsgd") continue;
      CompressionSpec spec = spec_of(name);
      spec.rank = 2;
      spec.chunk = chunk;
      INFO(name << " P = " << P << " chunk " << chunk);
      const auto runs = run(P, spec, 2);
      const compress::BucketPlan plan = compress::method(name).plan(spec, layers_of(two_layers()), P);
      for (int r = 0; r < P; ++r) {
        std::uint64_t want = 0;
        for (const compress::Phase& ph : plan.phases) {
          const auto bytes = static_cast<std::size_t>(ph.collective.bytes);
          if (ph.collective.kind == compress::CollectiveKind::Allreduce)
            want += comm::ring_allreduce_bytes(bytes / static_cast<std::size_t>(ph.collective.element_bytes), P, r,
                                               static_cast<std::size_t>(ph.collective.element_bytes));
          else
            want += static_cast<std::uint64_t>(P - 1) * bytes;
        }
        CHECK(runs[static_cast<std::size_t>(r)].bytes[1] == want);
      }
    }
  }
}

namespace {

// Rank r's Top-K of gradient(r, 0) (no residual yet at step 0): k largest |g|, sorted by index.
std::map<std::int64_t, float> top_k_of(const std::vector<float>& g, std::size_t k) {
  std::vector<std::size_t> order(g.size());
  for (std::size_t i = 0; i < g.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return std::abs(g[a]) > std::abs(g[b]); });
  std::map<std::int64_t, float> out;
  for (std::size_t j = 0; j < k; ++j) out[static_cast<std::int64_t>(order[j])] = g[order[j]];
  return out;
}

// mine + theirs on a shared index, in that order.
std::map<std::int64_t, float> add(std::map<std::int64_t, float> mine, const std::map<std::int64_t, float>& theirs) {
  for (const auto& [i, v] : theirs) {
    auto it = mine.find(i);
    if (it == mine.end()) mine[i] = v;
    else it->second = it->second + v;
  }
  return mine;
}

std::map<std::int64_t, float> keep_top(const std::map<std::int64_t, float>& v, std::size_t k) {
  std::vector<std::pair<std::int64_t, float>> e(v.begin(), v.end());
  std::sort(e.begin(), e.end(), [](const auto& a, const auto& b) { return std::abs(a.second) > std::abs(b.second); });
  e.resize(std::min(k, e.size()));
  return {e.begin(), e.end()};
}

}  // namespace

TEST_CASE("gtopk exchange: the tree's top k of the sum on every rank - unsent-back entries return to the residual", "[compress]") {
  for (int P : {2, 3, 4, 5, 7, 8}) {
    INFO("P = " << P);
    CompressionSpec spec = spec_of("topk");
    spec.exchange = Exchange::Gtopk;
    const std::size_t k = 15;  // ceil(0.1 * 146)
    const auto runs = run(P, spec, 2);
    check_identical_on_all_ranks(runs);
    // The reference: binomial tree, receiver r merges r + 2^j into its own and keeps the top k.
    std::vector<std::map<std::int64_t, float>> cur(static_cast<std::size_t>(P)), sent(static_cast<std::size_t>(P));
    for (int r = 0; r < P; ++r) sent[r] = cur[r] = top_k_of(gradient(r, 0), k);
    for (int d = 1; d < P; d *= 2)
      for (int r = 0; r + d < P; r += 2 * d) cur[r] = keep_top(add(cur[r], cur[r + d]), k);
    const std::map<std::int64_t, float>& G = cur[0];
    REQUIRE(G.size() == k);
    std::vector<float> want(kTotal, 0.0f);
    for (const auto& [i, v] : G) want[static_cast<std::size_t>(i)] = v * (1.0f / static_cast<float>(P));
    CHECK(runs[0].out[0] == want);
    for (int r = 0; r < P; ++r) {
      const std::vector<float> g = gradient(r, 0);
      for (std::size_t i = 0; i < kTotal; ++i) {
        const bool delivered = sent[r].count(static_cast<std::int64_t>(i)) && G.count(static_cast<std::int64_t>(i));
        REQUIRE(runs[static_cast<std::size_t>(r)].residual[0][i] == (delivered ? 0.0f : g[i]));
      }
    }
    // Bytes: 2 (P - 1) messages of k (4 + 4) bytes in all, as the plan prices on average.
    std::uint64_t total = 0;
    for (const RankRun& rr : runs) total += rr.bytes[1];
    CHECK(total == 2 * static_cast<std::uint64_t>(P - 1) * k * 8);
    const compress::BucketPlan plan = compress::method("topk").plan(spec, layers_of(two_layers()), P);
    CHECK(plan.phases[0].collective.kind == compress::CollectiveKind::GlobalTopK);
    CHECK(plan.phases[0].collective.bytes == 8.0 * k);
  }
}

TEST_CASE("sparse-allreduce exchange: the exact sum in the butterfly's order - dense once it fills in", "[compress]") {
  for (double ratio : {0.05, 0.2, 0.5}) {
    for (int P : {2, 3, 4, 5, 6, 8}) {
      INFO("ratio " << ratio << " P = " << P);
      CompressionSpec spec = spec_of("topk");
      spec.ratio = ratio;
      spec.exchange = Exchange::SparseAllreduce;
      const std::size_t k = static_cast<std::size_t>(std::ceil(ratio * kTotal - 1e-9));
      const auto runs = run(P, spec, 1);
      check_identical_on_all_ranks(runs);
      // The reference on dense vectors: fold the extra ranks in, then s_x = s_x + s_(x XOR d).
      int pof2 = 1;
      while (pof2 * 2 <= P) pof2 *= 2;
      std::vector<std::vector<float>> s(static_cast<std::size_t>(P), std::vector<float>(kTotal, 0.0f));
      for (int r = 0; r < P; ++r)
        for (const auto& [i, v] : top_k_of(gradient(r, 0), k)) s[r][static_cast<std::size_t>(i)] = v;
      // Each core rank's record of fill-in: (ranks summed, nonzeros) after each merge.
      std::vector<std::vector<std::pair<int, std::size_t>>> fill(static_cast<std::size_t>(pof2));
      std::vector<int> held(static_cast<std::size_t>(pof2), 1);
      const auto nonzeros = [](const std::vector<float>& v) {
        return static_cast<std::size_t>(std::count_if(v.begin(), v.end(), [](float x) { return x != 0.0f; }));
      };
      for (int i = 0; i + pof2 < P; ++i) {
        for (std::size_t e = 0; e < kTotal; ++e) s[i][e] = s[i][e] + s[i + pof2][e];
        held[i] = 2;
        fill[i].push_back({2, nonzeros(s[i])});
      }
      for (int d = 1; d < pof2; d *= 2) {
        std::vector<std::vector<float>> next = s;
        std::vector<int> next_held = held;
        for (int x = 0; x < pof2; ++x) {
          for (std::size_t e = 0; e < kTotal; ++e) next[x][e] = s[x][e] + s[x ^ d][e];
          next_held[x] = held[x] + held[x ^ d];
          fill[x].push_back({next_held[x], nonzeros(next[x])});
        }
        s = next;
        held = next_held;
      }
      for (int x = 0; x < pof2; ++x) {
        const auto& got = runs[static_cast<std::size_t>(x)].merges[0];
        REQUIRE(got.size() == fill[x].size());
        for (std::size_t m = 0; m < got.size(); ++m) {
          CHECK(got[m].ranks == fill[x][m].first);
          CHECK(got[m].nonzeros == fill[x][m].second);
          CHECK(got[m].n == kTotal);
        }
        CHECK(got.back().ranks == P);
      }
      for (int e = pof2; e < P; ++e) CHECK(runs[static_cast<std::size_t>(e)].merges[0].empty());
      std::vector<float> want(kTotal);
      for (std::size_t e = 0; e < kTotal; ++e) want[e] = s[0][e] * (1.0f / static_cast<float>(P));
      CHECK(runs[0].out[0] == want);
      // Error feedback loses nothing: every sent entry arrived, the rest stays in the residual.
      for (int r = 0; r < P; ++r) {
        const auto sent = top_k_of(gradient(r, 0), k);
        for (std::size_t i = 0; i < kTotal; ++i)
          REQUIRE(runs[static_cast<std::size_t>(r)].residual[0][i] ==
                  (sent.count(static_cast<std::int64_t>(i)) ? 0.0f : gradient(r, 0)[i]));
      }
    }
  }
}

TEST_CASE("sparse-allreduce fill-in: independent uniform supports follow the fill-in model", "[compress]") {
  // Top-K of i.i.d. Gaussian gradients: each rank's support is uniform and
  // independent of the others', the fill-in model's assumption.
  const std::size_t n = 60000;
  const std::vector<NamedRange> layer = {{"fc", 0, n, {{300, 200}}}};
  for (int P : {4, 6, 8}) {
    INFO("P = " << P);
    CompressionSpec spec = spec_of("topk");
    spec.ratio = 0.01;
    spec.exchange = Exchange::SparseAllreduce;
    std::map<int, std::pair<double, int>> sum;  // ranks -> (nonzeros summed, count)
    std::size_t k = 0;
    std::mutex mu;
    on_ranks(P, [&](comm::Communicator& c) {
      GradientExchange ex(c, spec, make_segments(layer, spec, 25), n);
      for (int step = 0; step < 4; ++step) {
        std::mt19937 gen(static_cast<unsigned>(7919 * c.rank() + 31 * step + 1));
        std::normal_distribution<float> d(0.0f, 1.0f);
        std::vector<float> g(n);
        for (float& v : g) v = d(gen);
        const ExchangeStats st = ex.exchange(g, static_cast<std::uint64_t>(step));
        std::lock_guard lock(mu);
        for (const compress::MergeSize& m : st.merges) {
          k = m.k;
          sum[m.ranks].first += static_cast<double>(m.nonzeros);
          ++sum[m.ranks].second;
        }
      }
    });
    REQUIRE(k == 600);
    REQUIRE(sum.count(P) == 1);
    const compress::FillIn model{static_cast<double>(n), static_cast<double>(k), 8.0, 4.0};
    for (const auto& [ranks, s] : sum) {
      INFO("ranks " << ranks);
      const double measured = s.first / s.second;
      // The union of c independent k-subsets: sd below sqrt(c k), so 2 % holds by a wide margin.
      CHECK(std::abs(measured / model.support(ranks) - 1.0) < 0.02);
      CHECK(measured < static_cast<double>(ranks) * k);  // overlap happens
    }
  }
}

TEST_CASE("sparse-allreduce fill-in on real Fashion-MNIST gradients: at most the independent-support model", "[compress][train]") {
  // SimpleCNN's real gradients on P = 4 in-process ranks, Top-K 1 % per
  // layer: the ranks' largest entries coincide more often than independent
  // supports would, so the measured fill-in stays below the model the
  // simulator prices with (the model is conservative; reports/sparse-exchanges.md).
  const std::string dir = kDefaultFashionMnistDir;
  if (!std::filesystem::is_directory(dir)) {
    WARN("skipping: " << dir << " missing (install the Debian package dataset-fashion-mnist)");
    return;
  }
  const FashionMnist data = load_fashion_mnist(dir, 4 * 32 * 6, 10);
  TrainConfig cfg = test::small_config(4, "topk", 0.01, true);
  cfg.scenario.batch_per_worker = 32;
  cfg.scenario.compression.exchange = Exchange::SparseAllreduce;
  cfg.settings.epochs = 1;
  struct Merges final : TrainObserver {
    void on_step(const StepRecord& r) override { all.insert(all.end(), r.merges.begin(), r.merges.end()); }
    std::vector<compress::MergeSize> all;
  };
  Merges rank0;
  test::on_ranks(4, [&](comm::Communicator& c) {
    Trainer t(c, data, cfg, {});
    Merges mine;
    t.run(&mine);
    if (c.rank() == 0) rank0 = mine;
  });
  REQUIRE(rank0.all.size() == 6 * 2);  // 6 steps, 2 rounds, one bucket
  double measured = 0, modelled = 0;
  for (const compress::MergeSize& m : rank0.all) {
    INFO("ranks " << m.ranks << " nonzeros " << m.nonzeros << " of " << m.n << ", k " << m.k);
    CHECK(m.nonzeros >= m.k);
    CHECK(m.nonzeros <= static_cast<std::size_t>(m.ranks) * m.k);
    CHECK_FALSE(m.dense);
    const compress::FillIn model{static_cast<double>(m.n), static_cast<double>(m.k), 8.0, 4.0};
    measured += static_cast<double>(m.nonzeros);
    modelled += model.support(m.ranks);
  }
  INFO("measured / modelled fill-in " << measured / modelled);
  CHECK(measured < modelled);
  CHECK(measured > 0.5 * modelled);
}

TEST_CASE("hierarchical exchange: node reduce-scatter - Top-K of each shard - nodes summed in order - node allgather", "[compress]") {
  for (Granularity gran : {Granularity::Bucket, Granularity::Layer}) {
    for (auto [P, G] : {std::pair{2, 2}, std::pair{4, 2}, std::pair{6, 3}, std::pair{8, 4}, std::pair{6, 2},
                        std::pair{3, 1}}) {
      INFO("P = " << P << ", G = " << G << ", granularity " << to_string(gran));
      CompressionSpec spec = spec_of("topk");
      spec.exchange = Exchange::Hierarchical;
      spec.granularity = gran;
      spec.node_size = G;
      const auto runs = run(P, spec, 1);
      check_identical_on_all_ranks(runs);
      const int M = P / G;
      // Pieces of a shard: the whole shard (bucket), or its part of each layer.
      std::vector<std::size_t> cuts = {0, kTotal};
      if (gran == Granularity::Layer) cuts = {0, 126, kTotal};
      std::vector<float> want(kTotal, 0.0f);
      std::uint64_t bytes = 0;
      for (int l = 0; l < G; ++l) {
        const std::size_t lo = kTotal * l / G, hi = kTotal * (l + 1) / G;
        std::vector<float> sum(hi - lo, 0.0f);
        for (int m = 0; m < M; ++m) {
          // The node's ring: x_(l+1) + x_(l+2) + ... + x_l.
          std::vector<float> acc(hi - lo);
          for (int t = 1; t <= G; ++t) {
            const std::vector<float> x = gradient(m * G + (l + t) % G, 0);
            for (std::size_t i = lo; i < hi; ++i) acc[i - lo] = t == 1 ? x[i] : acc[i - lo] + x[i];
          }
          // Top-K of each piece (no residual yet); the rest stays in rank (m, l)'s residual.
          std::vector<float> sent(hi - lo, 0.0f);
          std::vector<bool> was_sent(hi - lo, false);
          std::size_t k = 0;
          for (std::size_t c = 0; c + 1 < cuts.size(); ++c) {
            const std::size_t a = std::max(lo, cuts[c]), b = std::min(hi, cuts[c + 1]);
            if (a >= b) continue;
            const std::vector<float> piece(acc.begin() + (a - lo), acc.begin() + (b - lo));
            const auto kp = static_cast<std::size_t>(compress::topk_count(spec.ratio, static_cast<std::int64_t>(b - a)));
            for (const auto& [i, v] : top_k_of(piece, kp)) {
              sent[a - lo + static_cast<std::size_t>(i)] = v;
              was_sent[a - lo + static_cast<std::size_t>(i)] = true;
            }
            k += kp;
          }
          for (std::size_t i = 0; i < hi - lo; ++i)
            if (was_sent[i]) sum[i] = sum[i] + sent[i];
          const RankRun& rr = runs[static_cast<std::size_t>(m * G + l)];
          for (std::size_t i = 0; i < kTotal; ++i) {
            const float e = i >= lo && i < hi && !was_sent[i - lo] ? acc[i - lo] : 0.0f;
            REQUIRE(rr.residual[0][i] == e);
          }
          // Bytes: every chunk but its own in the reduce-scatter, but its successor's in
          // the allgather, (M - 1) k pairs between nodes.
          const std::size_t next_lo = kTotal * ((l + 1) % G) / G, next_hi = kTotal * ((l + 1) % G + 1) / G;
          const std::uint64_t mine = G > 1 ? 4 * (kTotal - (hi - lo)) + 4 * (kTotal - (next_hi - next_lo)) : 0;
          CHECK(rr.bytes[0] == mine + static_cast<std::uint64_t>(M - 1) * k * 8);
          bytes += rr.bytes[0];
        }
        for (std::size_t i = lo; i < hi; ++i) want[i] = sum[i - lo] * (1.0f / static_cast<float>(P));
      }
      CHECK(runs[0].out[0] == want);
      // The plan: the three collectives, the selection on the shard.
      const compress::BucketPlan plan = compress::method("topk").plan(spec, layers_of(two_layers()), P);
      REQUIRE(plan.phases.size() == 3);
      CHECK(plan.phases[0].collective.kind == compress::CollectiveKind::IntraNodeReduceScatter);
      CHECK(plan.phases[0].collective.bytes == 4.0 * kTotal);
      CHECK(plan.phases[1].collective.kind == compress::CollectiveKind::InterNodeAllgather);
      CHECK(plan.phases[2].collective.kind == compress::CollectiveKind::IntraNodeAllgather);
      REQUIRE_FALSE(plan.phases[1].before.empty());
      double selected_n = 0.0, summed_n = 0.0;
      for (const auto& u : plan.phases[1].before) {
        if (u.op == std::string("dense_sum")) summed_n += u.n;
        else if (u.op != std::string("pack")) selected_n += u.n;
      }
      CHECK(selected_n == Approx(static_cast<double>(kTotal) / G));
      // the reduce-scatter's sums: G - 1 received shards of n / G
      CHECK(summed_n == Approx(static_cast<double>(kTotal) * (G - 1) / G));
      // before the reduce-scatter only the finite check of the whole bucket (kernels/host_passes.h)
      REQUIRE(plan.phases[0].before.size() == 1);
      CHECK(plan.phases[0].before[0].op == op::finite_check);
      CHECK(plan.phases[0].before[0].n == static_cast<double>(kTotal));
    }
  }
  // A NaN is rejected before the reduce-scatter sends it to the node.
  std::vector<float> bad(kTotal, 1.0f);
  bad[7] = std::nanf("");
  CompressionSpec spec = spec_of("topk");
  spec.exchange = Exchange::Hierarchical;
  spec.node_size = 2;
  try {
    run(4, spec, 1, &bad);
    FAIL("NaN accepted");
  } catch (const kernels::NonFiniteError& e) {
    CHECK(e.count() == 1);
    CHECK(std::string(e.what()).find("step 1: gradient of") != std::string::npos);
  }
}

TEST_CASE("gtopk needs every rank to send the same k and no momentum correction", "[compress]") {
  CompressionSpec spec = spec_of("threshold");
  spec.exchange = Exchange::Gtopk;
  REQUIRE(compress::method("threshold").validate(spec));
  CHECK(compress::method("threshold").validate(spec)->key == "exchange");
  spec.method = "topk";
  CHECK_FALSE(compress::method("topk").validate(spec));
  spec.momentum_correction = true;
  CHECK(compress::method("topk").validate(spec));
  spec.exchange = Exchange::SparseAllreduce;
  CHECK_FALSE(compress::method("topk").validate(spec));
}

TEST_CASE("topk sparsity warm-up: 25 % then 6.25 % ... down to the ratio - every rank sends the warm-up k", "[compress]") {
  CompressionSpec spec = spec_of("topk");
  spec.ratio = 0.01;
  spec.warmup_epochs = 3;
  CHECK(GradientExchange::warmup_density(spec, 0) == 0.25);
  CHECK(GradientExchange::warmup_density(spec, 1) == 0.0625);
  CHECK(GradientExchange::warmup_density(spec, 2) == 0.015625);
  CHECK(GradientExchange::warmup_density(spec, 3) == 0.01);
  spec.ratio = 0.1;
  CHECK(GradientExchange::warmup_density(spec, 1) == 0.1);  // never below the target density
  spec.ratio = 0.01;
  std::vector<std::size_t> sent(2);
  on_ranks(2, [&](comm::Communicator& c) {
    GradientExchange ex(c, spec, make_segments(two_layers(), spec, 25), kTotal);
    ex.set_density(0.25);
    std::vector<float> g = gradient(c.rank(), 0);
    sent[static_cast<std::size_t>(c.rank())] = ex.exchange(g, 0).entries_sent;
  });
  CHECK(sent[0] == static_cast<std::size_t>(compress::topk_count(0.25, kTotal)));
  CHECK(sent[1] == sent[0]);
}

namespace {

// The n of every use of `op` in the plan, before any collective or after the last.
double priced_n(const compress::BucketPlan& p, const std::string& op) {
  double n = 0.0;
  for (const compress::Phase& ph : p.phases)
    for (const compress::KernelUse& u : ph.before) n += u.op == op ? u.n : 0.0;
  for (const compress::KernelUse& u : p.after) n += u.op == op ? u.n : 0.0;
  return n;
}

}  // namespace

TEST_CASE("the plans price the codecs' passes over the bucket in host memory", "[compress]") {
  // kernels/host_passes.h: each pass a codec makes over the bucket is in its plan, over as many entries.
  const std::vector<Layer> layers = layers_of(two_layers());
  const double N = static_cast<double>(kTotal);
  const compress::BucketPlan dense = compress::method("none").plan(spec_of("none"), layers, 4);
  CHECK(priced_n(dense, op::finite_check) == N);
  CHECK(priced_n(dense, op::scale) == N);
  for (const Exchange e : {Exchange::Allgather, Exchange::SparseAllreduce, Exchange::Dense}) {
    CompressionSpec spec = spec_of("topk");
    spec.exchange = e;
    INFO("topk, exchange " << to_string(e));
    CHECK(priced_n(compress::method("topk").plan(spec, layers, 4), op::scale) == N);
  }
  CHECK(priced_n(compress::method("qsgd").plan(spec_of("qsgd"), layers, 4), op::scale) == N);
  CHECK(priced_n(compress::method("qsgd").plan(spec_of("qsgd"), layers, 4), op::finite_check) == N);

  CompressionSpec ps = spec_of("powersgd");
  ps.rank = 2;
  ps.error_feedback = true;
  const compress::BucketPlan p = compress::method("powersgd").plan(ps, layers, 4);
  CHECK(priced_n(p, op::finite_check) == N);
  CHECK(priced_n(p, op::ef_add) == N);
  CHECK(priced_n(p, op::ef_residual) == N);
  // Q / P and the uncompressed tensors / P: every entry that is not in P's factors.
  double p_entries = 0.0;
  for (const compress::Phase& ph : p.phases)
    if (ph.collective.label == "P") p_entries = ph.collective.bytes / 4.0;
  double sent = 0.0;
  for (const compress::Phase& ph : p.phases) sent += ph.collective.bytes / 4.0;
  CHECK(priced_n(p, op::scale) == sent - p_entries);
  ps.error_feedback = false;
  const compress::BucketPlan no_ef = compress::method("powersgd").plan(ps, layers, 4);
  CHECK(priced_n(no_ef, op::ef_add) == 0.0);
  CHECK(priced_n(no_ef, op::ef_residual) == 0.0);
}

TEST_CASE("host passes: the finite count - the scaling and both halves of dense error feedback", "[compress][kernels]") {
  std::vector<float> x = {1.0f, std::numeric_limits<float>::quiet_NaN(), -2.0f, std::numeric_limits<float>::infinity(),
                          -std::numeric_limits<float>::infinity()};
  CHECK(kernels::host::count_non_finite(x.data(), x.size()) == 3);
  CHECK(kernels::host::count_non_finite(x.data(), 1) == 0);
  std::vector<float> g = {1.0f, 2.0f, -4.0f}, e = {0.5f, -1.0f, 1.0f}, copy(3), res(3);
  kernels::host::ef_add(g.data(), e.data(), copy.data(), 3);
  CHECK(g == std::vector<float>{1.5f, 1.0f, -3.0f});
  CHECK(copy == g);
  kernels::host::scale(g.data(), 3, 0.5f);
  CHECK(g == std::vector<float>{0.75f, 0.5f, -1.5f});
  kernels::host::ef_residual(copy.data(), g.data(), res.data(), 3);
  CHECK(res == std::vector<float>{0.75f, 0.5f, -1.5f});
}
