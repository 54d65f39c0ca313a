// Tests for the closed-form collectives (sim/collectives/): every expected
// time is the alpha-beta formula written out here from the header comments
// (Thakur, Rabenseifner & Gropp 2005; Patarasuk & Yuan 2009; Sanders et al.
// 2009), never a second call of the function under test.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "compress/method.h"
#include "sim/collectives/allreduce.h"
#include "sim/collectives/fabric.h"
#include "sim/collectives/halving_doubling.h"
#include "sim/collectives/hierarchical_allreduce.h"
#include "sim/collectives/ring_allgather.h"
#include "sim/collectives/ring_allreduce.h"
#include "sim/collectives/tree_allreduce.h"
#include "sim/profile.h"
#include "sim/scenario.h"
#include "sim/training/buckets.h"
#include "sim/training/compression_cost.h"

using gcsim::Algorithm;
using gcsim::ClusterSpec;
using gcsim::Fabric;
using gcsim::LinkParams;
using gcsim::Profile;

namespace {

Approx exact(double v) { return Approx(v).epsilon(1e-12); }

// A fabric with one link class: all P ranks on one node (the intra link).
Fabric one_class(int P, double alpha, double bytes_per_s) {
  Fabric f;
  f.P = P;
  f.G = P;
  f.M = 1;
  f.nics = 1;
  f.intra = LinkParams{alpha, bytes_per_s};
  f.inter = LinkParams{alpha, bytes_per_s};
  return f;
}

// Two link classes, ranks packed G per node.
Fabric two_level(int P, int G, int nics, LinkParams intra, LinkParams inter) {
  Fabric f;
  f.P = P;
  f.G = G;
  f.M = (P + G - 1) / G;
  f.nics = nics;
  f.intra = intra;
  f.inter = inter;
  return f;
}

Profile zero_profile() {
  Profile p;
  p.name = "test";
  for (const auto& o : gcsim::op::required()) p.kernels[o] = gcsim::KernelCost{};
  p.collective_alpha_s = 0.0;
  p.collective_launch_s = 0.0;
  p.intra_node_efficiency = 1.0;
  p.inter_node_efficiency = 1.0;
  return p;
}

const std::vector<int> kRanks = {2, 3, 4, 7, 8, 16, 64, 256};
const std::vector<double> kBytes = {1.0, 4096.0, 1e6, 102.2e6, 3.3e9};
const std::vector<double> kAlphas = {0.0, 2e-6, 50e-6};

int log2_floor(int P) {
  int l = 0;
  while ((2 << l) <= P) ++l;
  return l;
}

}  // namespace

// ---------------------------------------------------------------- ring ----

TEST_CASE("ring allreduce on one link class is 2(P-1)a + 2(P-1)/P n/B", "[collectives]") {
  const double B = 37.5e9;
  for (int P : kRanks) {
    for (double a : kAlphas) {
      for (double n : kBytes) {
        const Fabric f = one_class(P, a, B);
        const auto c = gcsim::ring_allreduce(f, n);
        const double Pd = P;
        INFO("P=" << P << " alpha=" << a << " n=" << n);
        CHECK(c.time_s == exact(2.0 * (Pd - 1.0) * a + 2.0 * (Pd - 1.0) / Pd * n / B));
        CHECK(c.bytes_sent == exact(2.0 * (Pd - 1.0) / Pd * n));
        CHECK(c.bytes_received == exact(2.0 * (Pd - 1.0) / Pd * n));
      }
    }
  }
}

TEST_CASE("ring allreduce: one rank or no bytes costs nothing", "[collectives]") {
  const auto c1 = gcsim::ring_allreduce(one_class(1, 1e-3, 1e9), 1e9);
  CHECK(c1.time_s == 0.0);
  CHECK(c1.bytes_sent == 0.0);
  CHECK(c1.bytes_received == 0.0);
  const auto c0 = gcsim::ring_allreduce(one_class(8, 1e-3, 1e9), 0.0);
  CHECK(c0.time_s == 0.0);
  CHECK(c0.bytes_sent == 0.0);
}

TEST_CASE("ring allreduce time grows with P and its bandwidth term approaches 2n/B", "[collectives]") {
  const double B = 1e9, n = 1e9;
  double prev = 0.0;
  for (int P = 2; P <= 1024; P *= 2) {
    const double t = gcsim::ring_allreduce(one_class(P, 0.0, B), n).time_s;
    CHECK(t > prev);
    CHECK(t < 2.0 * n / B);
    prev = t;
  }
  CHECK(prev == exact(2.0 * 1023.0 / 1024.0));
}

// ---------------------------------------------------- halving-doubling ----

TEST_CASE("halving-doubling with P a power of two: 2 log2(P) a + 2(P-1)/P n/B", "[collectives]") {
  const double B = 25e9;
  for (int P : {2, 4, 8, 16, 64, 256, 1024}) {
    const double lg = std::log2(static_cast<double>(P));
    REQUIRE(lg == std::floor(lg));
    for (double a : kAlphas) {
      for (double n : kBytes) {
        const auto c = gcsim::halving_doubling_allreduce(one_class(P, a, B), n);
        const double Pd = P;
        INFO("P=" << P << " alpha=" << a << " n=" << n);
        CHECK(c.time_s == exact(2.0 * lg * a + 2.0 * (Pd - 1.0) / Pd * n / B));
        CHECK(c.bytes_sent == exact(2.0 * (Pd - 1.0) / Pd * n));
        CHECK(c.bytes_received == exact(2.0 * (Pd - 1.0) / Pd * n));
      }
    }
  }
}

TEST_CASE("halving-doubling with P not a power of two: core on P' plus two full-vector steps", "[collectives]") {
  const double B = 10e9;
  // P -> P' = 2^floor(log2 P)
  const std::vector<std::pair<int, int>> cases = {{3, 2}, {5, 4}, {6, 4}, {7, 4}, {12, 8}, {100, 64}};
  for (auto [P, Pp] : cases) {
    REQUIRE((1 << log2_floor(P)) == Pp);
    for (double a : kAlphas) {
      for (double n : kBytes) {
        const auto c = gcsim::halving_doubling_allreduce(one_class(P, a, B), n);
        const double Ppd = Pp;
        const double lg = std::log2(Ppd);
        const double expect = 2.0 * lg * a + 2.0 * (Ppd - 1.0) / Ppd * n / B + 2.0 * (a + n / B);
        INFO("P=" << P << " alpha=" << a << " n=" << n);
        CHECK(c.time_s == exact(expect));
        // Bytes, averaged over the P ranks: 2(P'-1) n in the core, 2 n per extra rank.
        const double extra = P - Pp;
        CHECK(c.bytes_sent == exact((2.0 * (Ppd - 1.0) * n + 2.0 * extra * n) / P));
      }
    }
  }
  // Hand-evaluated: P = 3, a = 1 us, n = 1 MB at 1 GB/s:
  //   2*1*1e-6 + 2*(1/2)*1e-3 + 2*(1e-6 + 1e-3) = 2e-6 + 1e-3 + 2.002e-3 = 3.004e-3
  CHECK(gcsim::halving_doubling_allreduce(one_class(3, 1e-6, 1e9), 1e6).time_s == exact(3.004e-3));
  // P = 7: P' = 4: 4a + 1.5 n/B + 2(a + n/B) = 6e-6 + 3.5e-3
  CHECK(gcsim::halving_doubling_allreduce(one_class(7, 1e-6, 1e9), 1e6).time_s == exact(3.506e-3));
}

TEST_CASE("halving-doubling on one rank costs nothing", "[collectives]") {
  const auto c = gcsim::halving_doubling_allreduce(one_class(1, 1e-3, 1e9), 1e9);
  CHECK(c.time_s == 0.0);
  CHECK(c.bytes_sent == 0.0);
}

// ---------------------------------------------------------------- tree ----

TEST_CASE("ceil_log2", "[collectives]") {
  CHECK(gcsim::ceil_log2(1) == 0);
  CHECK(gcsim::ceil_log2(2) == 1);
  CHECK(gcsim::ceil_log2(3) == 2);
  CHECK(gcsim::ceil_log2(4) == 2);
  CHECK(gcsim::ceil_log2(5) == 3);
  CHECK(gcsim::ceil_log2(8) == 3);
  CHECK(gcsim::ceil_log2(9) == 4);
  CHECK(gcsim::ceil_log2(100) == 7);
  CHECK(gcsim::ceil_log2(1024) == 10);
  CHECK(gcsim::ceil_log2(1025) == 11);
}

TEST_CASE("double binary tree allreduce is 2 ceil(log2 P) a + 2 n/B", "[collectives]") {
  const double B = 12.5e9;
  // P and ceil(log2 P), typed in.
  const std::vector<std::pair<int, int>> cases = {{2, 1}, {3, 2}, {4, 2}, {5, 3}, {7, 3}, {8, 3},
                                                  {9, 4}, {16, 4}, {100, 7}, {256, 8}};
  for (auto [P, L] : cases) {
    for (double a : kAlphas) {
      for (double n : kBytes) {
        const auto c = gcsim::tree_allreduce(one_class(P, a, B), n);
        INFO("P=" << P << " alpha=" << a << " n=" << n);
        CHECK(c.time_s == exact(2.0 * L * a + 2.0 * n / B));
        CHECK(c.bytes_sent == exact(2.0 * (P - 1.0) / P * n));
      }
    }
  }
  CHECK(gcsim::tree_allreduce(one_class(1, 1.0, 1.0), 1e9).time_s == 0.0);
}

// -------------------------------------------------------- hierarchical ----

TEST_CASE("hierarchical allreduce matches its two-level closed form", "[collectives]") {
  const LinkParams intra{3e-6, 300e9};
  const LinkParams inter{8e-6, 25e9};
  for (int G : {2, 4, 8}) {
    for (int M : {2, 3, 4, 16}) {
      for (int nics : {1, 2, 4}) {
        for (double n : kBytes) {
          const int P = G * M;
          const Fabric f = two_level(P, G, nics, intra, inter);
          REQUIRE(f.M == M);
          const double Gd = G, Md = M;
          const double expect = 2.0 * (Gd - 1.0) * intra.alpha_s + 2.0 * (Gd - 1.0) / Gd * n / intra.bytes_per_s +
                                2.0 * (Md - 1.0) * inter.alpha_s +
                                2.0 * (Md - 1.0) / Md * n / (nics * inter.bytes_per_s);
          const auto c = gcsim::hierarchical_allreduce(f, n);
          INFO("G=" << G << " M=" << M << " nics=" << nics << " n=" << n);
          CHECK(c.time_s == exact(expect));
          CHECK(c.bytes_sent == exact(2.0 * (Gd - 1.0) / Gd * n + 2.0 * (Md - 1.0) / Md * n / Gd));
        }
      }
    }
  }
}

TEST_CASE("hierarchical allreduce: a second NIC halves the inter-node bandwidth term", "[collectives]") {
  const LinkParams intra{2e-6, 150e9};
  const LinkParams inter{5e-6, 12.5e9};
  const int G = 8, M = 4;
  const double n = 102.2e6;
  const double t1 = gcsim::hierarchical_allreduce(two_level(G * M, G, 1, intra, inter), n).time_s;
  const double t2 = gcsim::hierarchical_allreduce(two_level(G * M, G, 2, intra, inter), n).time_s;
  // Inter-node bandwidth term with one NIC: 2(M-1)/M n / B; with two it is half that.
  const double bw1 = 2.0 * (M - 1.0) / M * n / inter.bytes_per_s;
  CHECK(t1 - t2 == Approx(bw1 / 2.0).epsilon(1e-9));
  CHECK(t2 < t1);
}

TEST_CASE("hierarchical allreduce on one node is the intra-node ring", "[collectives]") {
  ClusterSpec c;
  c.workers = 4;
  c.gpus_per_node = 8;  // P <= G: one (partly filled) node
  c.intra_node = {2400.0, 1.0};
  c.inter_node = {100.0, 5.0};
  Profile p = zero_profile();
  p.collective_alpha_s = 4e-6;
  const Fabric f = gcsim::make_fabric(c, p);
  REQUIRE(f.G == 4);
  REQUIRE(f.M == 1);
  const double a = 4e-6 + 1e-6, B = 2400e9 / 8.0, n = 1e8;
  const double ring = 2.0 * 3.0 * a + 2.0 * 3.0 / 4.0 * n / B;
  CHECK(gcsim::hierarchical_allreduce(f, n).time_s == exact(ring));
  CHECK(gcsim::ring_allreduce(f, n).time_s == exact(ring));
}

TEST_CASE("hierarchical allreduce with one GPU per node is the ring over the NICs", "[collectives]") {
  ClusterSpec c;
  c.workers = 16;
  c.gpus_per_node = 1;
  c.inter_node = {100.0, 5.0};
  c.nics_per_node = 2;
  Profile p = zero_profile();
  p.collective_alpha_s = 3e-6;
  const Fabric f = gcsim::make_fabric(c, p);
  REQUIRE(f.G == 1);
  REQUIRE(f.M == 16);
  const double a = 3e-6 + 5e-6, B = 2.0 * 100e9 / 8.0, n = 4e8;
  const double ring = 2.0 * 15.0 * a + 2.0 * 15.0 / 16.0 * n / B;
  CHECK(gcsim::hierarchical_allreduce(f, n).time_s == exact(ring));
  CHECK(gcsim::ring_allreduce(f, n).time_s == exact(ring));
}

// ------------------------------------------------------------ allgather ----

TEST_CASE("ring allgather is (P-1) a + (P-1) m/B and moves (P-1) m bytes", "[collectives]") {
  const double B = 50e9;
  for (int P : kRanks) {
    for (double a : kAlphas) {
      for (double m : kBytes) {
        const auto c = gcsim::ring_allgather(one_class(P, a, B), m);
        INFO("P=" << P << " alpha=" << a << " m=" << m);
        CHECK(c.time_s == exact((P - 1.0) * a + (P - 1.0) * m / B));
        CHECK(c.bytes_sent == exact((P - 1.0) * m));
        CHECK(c.bytes_received == exact((P - 1.0) * m));
      }
    }
  }
  CHECK(gcsim::ring_allgather(one_class(1, 1.0, 1.0), 1e6).time_s == 0.0);
  CHECK(gcsim::ring_allgather(one_class(1, 1.0, 1.0), 1e6).bytes_received == 0.0);
}

TEST_CASE("sparse allgather beats the dense ring at small P and loses past P = 1/rho", "[collectives]") {
  // rho = 0.01, int32 indices: 8 bytes per selected entry; dense: 4 bytes per parameter.
  const double rho = 0.01;
  const double N = 1e6;         // parameters
  const double k = rho * N;     // 10'000 selected entries
  const double m = 8.0 * k;     // allgather payload per rank
  const double n = 4.0 * N;     // dense allreduce payload
  const double B = 1e9;

  // The crossover from the byte formulas: sparse loses once (P-1) 8k > 2(P-1)/P 4N.
  int crossover = 0;
  for (int P = 2; P <= 10000; ++P) {
    const double sparse = (P - 1.0) * m;
    const double dense = 2.0 * (P - 1.0) / P * n;
    if (sparse > dense) {
      crossover = P;
      break;
    }
  }
  // (P-1) 8 rho N > 8 (P-1) N / P  <=>  P > 1/rho = 100.
  REQUIRE(crossover == 101);

  // With alpha = 0 the times follow the bytes exactly.
  for (int P : {2, 8, 50, 99}) {
    const Fabric f = one_class(P, 0.0, B);
    CHECK(gcsim::ring_allgather(f, m).time_s < gcsim::ring_allreduce(f, n).time_s);
  }
  {
    const Fabric f = one_class(100, 0.0, B);
    CHECK(gcsim::ring_allgather(f, m).time_s == exact(gcsim::ring_allreduce(f, n).time_s));
    CHECK(gcsim::ring_allgather(f, m).bytes_sent == exact(gcsim::ring_allreduce(f, n).bytes_sent));
  }
  for (int P : {101, 128, 256, 1024}) {
    const Fabric f = one_class(P, 0.0, B);
    CHECK(gcsim::ring_allgather(f, m).time_s > gcsim::ring_allreduce(f, n).time_s);
    CHECK(gcsim::ring_allgather(f, m).bytes_sent > gcsim::ring_allreduce(f, n).bytes_sent);
  }
  // The allgather pays half the ring's alphas, so a nonzero alpha pushes the crossover later,
  // never earlier.
  for (int P : {2, 50, 100}) {
    const Fabric f = one_class(P, 5e-6, B);
    CHECK(gcsim::ring_allgather(f, m).time_s < gcsim::ring_allreduce(f, n).time_s);
  }
}

namespace {

// One 1M-parameter layer in one bucket, Top-K, on the zero-cost profile.
gcsim::Scenario one_layer_topk() {
  gcsim::Scenario s;
  s.model.name = "custom";
  s.model.layers = {{"fc", "linear", 1'000'000, 2e6}};
  s.compute.forward_backward_s = 1.0;
  s.profile = zero_profile();
  s.compression.method = std::string("topk");
  return s;
}

gcsim::Bucket the_bucket() {
  gcsim::Bucket b;
  b.layers = {0};
  b.params = 1'000'000;
  return b;
}

}  // namespace

TEST_CASE("bucket_cost: sparse exchange wire bytes are k(4+idx) - dense exchange is 4n", "[collectives]") {
  gcsim::Scenario s = one_layer_topk();
  s.compression.ratio = 0.01;
  s.compression.index_bytes = 4;
  const gcsim::Bucket b = the_bucket();
  for (int P : {2, 100, 101, 400}) {
    INFO("P=" << P);
    const Fabric f = one_class(P, 0.0, 1e9);
    s.compression.exchange = gcsim::Exchange::Allgather;
    const auto sp = gcsim::bucket_cost(s, f, b);
    CHECK(sp.phases[0].use.kind == gcsim::compress::CollectiveKind::Allgather);
    CHECK(sp.selected == 10'000);
    CHECK(sp.phases[0].wire_bytes == exact(10'000 * 8.0));
    CHECK(sp.phases[0].collective.bytes_sent == exact((P - 1.0) * 80'000.0));
    s.compression.exchange = gcsim::Exchange::Dense;
    const auto de = gcsim::bucket_cost(s, f, b);
    CHECK(de.phases[0].use.kind == gcsim::compress::CollectiveKind::Allreduce);
    CHECK(de.phases[0].wire_bytes == exact(4e6));
    CHECK(de.phases[0].collective.bytes_sent == exact(2.0 * (P - 1.0) / P * 4e6));
    if (P <= 100)
      CHECK(sp.phases[0].collective.bytes_sent <= de.phases[0].collective.bytes_sent * (1.0 + 1e-12));
    else
      CHECK(sp.phases[0].collective.bytes_sent > de.phases[0].collective.bytes_sent);
  }
  // int64 indices: 12 bytes per entry, crossover at P > 2 / (rho * 12 / 4) = 66.7.
  s.compression.exchange = gcsim::Exchange::Allgather;
  s.compression.index_bytes = 8;
  CHECK(gcsim::bucket_cost(s, one_class(66, 0.0, 1e9), b).bytes_sent() <
        gcsim::ring_allreduce(one_class(66, 0.0, 1e9), 4e6).bytes_sent);
  CHECK(gcsim::bucket_cost(s, one_class(67, 0.0, 1e9), b).bytes_sent() >
        gcsim::ring_allreduce(one_class(67, 0.0, 1e9), 4e6).bytes_sent);
}

TEST_CASE("bucket_cost: exchange auto takes the cheapest exchange per bucket and says what each costs", "[collectives]") {
  gcsim::Scenario s = one_layer_topk();
  s.profile.kernels[gcsim::op::scatter_add] = gcsim::KernelCost{1e-6, 1e-10, 1e-9};
  const gcsim::Bucket b = the_bucket();
  auto total = [](const gcsim::BucketCost& c) { return c.compress_s + c.exchange_s() + c.decompress_s; };
  for (double rho : {0.001, 0.01, 0.3})
    for (int P : {2, 7, 64, 1024}) {
      INFO("rho " << rho << " P = " << P);
      s.compression.ratio = rho;
      const Fabric f = one_class(P, 5e-6, 1.25e9);
      double best = 1e300;
      std::string best_exchange;
      for (auto e : {gcsim::Exchange::Allgather, gcsim::Exchange::Gtopk, gcsim::Exchange::SparseAllreduce,
                     gcsim::Exchange::Dense}) {
        s.compression.exchange = e;
        const double t = total(gcsim::bucket_cost(s, f, b));
        if (t < best) {
          best = t;
          best_exchange = gcsim::compress::method("topk").label(s.compression);
        }
      }
      s.compression.exchange = gcsim::Exchange::Auto;
      const gcsim::BucketCost a = gcsim::bucket_cost(s, f, b);
      CHECK(total(a) == best);
      CHECK(a.alternatives.size() == 4);
      CHECK(a.chosen == best_exchange);
      const std::string why = gcsim::describe_choice({a, a});
      CHECK(why.rfind(a.chosen + " [" + a.chosen + " ", 0) == 0);  // the choice, then it first among the costs
      CHECK(why.find("sparse-allreduce-exchange") != std::string::npos);
    }
  // The allgather grows with P, gtopk with log P: at P = 1024, rho = 0.1 %, it is not the allgather.
  s.compression.ratio = 0.001;
  CHECK(gcsim::bucket_cost(s, one_class(1024, 5e-6, 1.25e9), b).chosen.find("-exchange") != std::string::npos);
  // On two-level nodes the hierarchical exchange joins the candidates, priced on the node's shards.
  const Fabric nodes = two_level(64, 8, 1, {1e-6, 1e11}, {5e-6, 1.25e9});
  s.compression.ratio = 0.01;
  const gcsim::BucketCost h = gcsim::bucket_cost(s, nodes, b);
  CHECK(h.alternatives.size() == 5);
  CHECK(gcsim::describe_choice({h}).find("hierarchical-exchange") != std::string::npos);
  s.compression.exchange = gcsim::Exchange::Hierarchical;
  const gcsim::BucketCost only = gcsim::bucket_cost(s, nodes, b);
  REQUIRE(only.phases.size() == 3);
  CHECK(only.phases[1].collective.bytes_sent == Approx(7.0 * 8.0 * std::ceil(0.01 * b.params) / 8.0).epsilon(1e-3));
  s.compression.exchange = gcsim::Exchange::Auto;
  // Threshold sends varying k: no gtopk among its choices.
  s.compression.method = std::string("threshold");
  CHECK(gcsim::bucket_cost(s, one_class(8, 5e-6, 1.25e9), b).alternatives.size() == 3);
  CHECK(gcsim::describe_choice({}).empty());
}

// ----------------------------------------------------------------- auto ----

TEST_CASE("dense_allreduce(Auto) takes the fastest candidate and names it", "[collectives]") {
  std::vector<Fabric> fabrics;
  for (int P : {2, 3, 7, 8, 48, 64, 256})
    for (double a : {0.0, 1e-6, 1e-3}) fabrics.push_back(one_class(P, a, 10e9));
  for (int G : {4, 8})
    for (int M : {2, 5, 16})
      for (int nics : {1, 4})
        fabrics.push_back(two_level(G * M, G, nics, {2e-6, 300e9}, {10e-6, 12.5e9}));

  for (const Fabric& f : fabrics) {
    for (double n : {1e3, 1e6, 1e9}) {
      const double ring = gcsim::ring_allreduce(f, n).time_s;
      const double tree = gcsim::tree_allreduce(f, n).time_s;
      const double hd = gcsim::halving_doubling_allreduce(f, n).time_s;
      const double hier = gcsim::hierarchical_allreduce(f, n).time_s;
      double best = std::min({ring, tree, hd});
      if (f.G >= 2) best = std::min(best, hier);
      const auto c = gcsim::dense_allreduce(Algorithm::Auto, f, n);
      INFO("P=" << f.P << " G=" << f.G << " M=" << f.M << " n=" << n);
      CHECK(c.algorithm != Algorithm::Auto);
      CHECK(c.cost.time_s == best);
      double named = 0.0;
      switch (c.algorithm) {
        case Algorithm::Ring: named = ring; break;
        case Algorithm::Tree: named = tree; break;
        case Algorithm::HalvingDoubling: named = hd; break;
        case Algorithm::Hierarchical: named = hier; break;
        case Algorithm::Auto: break;
      }
      CHECK(named == c.cost.time_s);
    }
  }
}

TEST_CASE("dense_allreduce with a named algorithm uses that algorithm", "[collectives]") {
  const Fabric f = one_class(8, 1e-6, 1e9);
  for (Algorithm a : {Algorithm::Ring, Algorithm::Tree, Algorithm::HalvingDoubling, Algorithm::Hierarchical})
    CHECK(gcsim::dense_allreduce(a, f, 1e6).algorithm == a);
  CHECK(gcsim::dense_allreduce(Algorithm::Tree, f, 1e6).cost.time_s == exact(2.0 * 3.0 * 1e-6 + 2.0 * 1e6 / 1e9));
}

TEST_CASE("latency-bound: with large alpha and small n - tree or halving-doubling beats ring", "[collectives]") {
  const int P = 64;
  const double a = 1e-3, B = 1e9, n = 1e3;
  const Fabric f = one_class(P, a, B);
  const double ring = 2.0 * 63.0 * a + 2.0 * 63.0 / 64.0 * n / B;  // 126 alphas
  const double tree = 2.0 * 6.0 * a + 2.0 * n / B;                // 12 alphas
  const double hd = 2.0 * 6.0 * a + 2.0 * 63.0 / 64.0 * n / B;    // 12 alphas
  CHECK(gcsim::ring_allreduce(f, n).time_s == exact(ring));
  CHECK(gcsim::tree_allreduce(f, n).time_s == exact(tree));
  CHECK(gcsim::halving_doubling_allreduce(f, n).time_s == exact(hd));
  const auto c = gcsim::dense_allreduce(Algorithm::Auto, f, n);
  CHECK((c.algorithm == Algorithm::Tree || c.algorithm == Algorithm::HalvingDoubling));
  CHECK(c.cost.time_s < ring);
  CHECK(c.algorithm == Algorithm::HalvingDoubling);  // 2(P-1)/P < 2
  CHECK(c.cost.time_s == exact(hd));
  // Not a power of two (P = 48): halving-doubling pays two full-vector steps, tree wins.
  const Fabric g = one_class(48, a, B);
  const auto c48 = gcsim::dense_allreduce(Algorithm::Auto, g, n);
  CHECK(c48.algorithm == Algorithm::Tree);
  CHECK(c48.cost.time_s == exact(2.0 * 6.0 * a + 2.0 * n / B));
}

TEST_CASE("bandwidth-bound: with large n the ring beats the tree (2(P-1)/P < 2)", "[collectives]") {
  const int P = 48;  // not a power of two, so halving-doubling pays two extra full-vector steps
  const double a = 1e-6, B = 1e9, n = 1e9;
  const Fabric f = one_class(P, a, B);
  const double ring = 2.0 * 47.0 * a + 2.0 * 47.0 / 48.0 * n / B;
  const double tree = 2.0 * 6.0 * a + 2.0 * n / B;
  CHECK(gcsim::ring_allreduce(f, n).time_s == exact(ring));
  CHECK(gcsim::tree_allreduce(f, n).time_s == exact(tree));
  CHECK(ring < tree);
  const auto c = gcsim::dense_allreduce(Algorithm::Auto, f, n);
  CHECK(c.algorithm == Algorithm::Ring);
  CHECK(c.cost.time_s == exact(ring));
}

// --------------------------------------------------------------- fabric ----

TEST_CASE("make_fabric: alpha = profile alpha + latency - B = Gbps 1e9/8 x efficiency", "[collectives]") {
  ClusterSpec c;
  c.workers = 16;
  c.gpus_per_node = 8;
  c.intra_node = {2400.0, 2.0};
  c.inter_node = {200.0, 5.0};
  c.nics_per_node = 2;
  Profile p = zero_profile();
  p.collective_alpha_s = 10e-6;
  p.intra_node_efficiency = 0.8;
  p.inter_node_efficiency = 0.9;
  const Fabric f = gcsim::make_fabric(c, p);
  CHECK(f.P == 16);
  CHECK(f.G == 8);
  CHECK(f.M == 2);
  CHECK(f.nics == 2);
  CHECK(f.multi_node());
  CHECK(f.intra.alpha_s == exact(12e-6));
  CHECK(f.intra.bytes_per_s == exact(2400e9 / 8.0 * 0.8));
  CHECK(f.inter.alpha_s == exact(15e-6));
  CHECK(f.inter.bytes_per_s == exact(200e9 / 8.0 * 0.9));
  CHECK(f.intra.time(1e6) == exact(12e-6 + 1e6 / 2.4e11));

  // Flat algorithms on two nodes: the slower alpha, the slower of (intra, all NICs).
  const LinkParams flat = f.flat_link();
  CHECK(flat.alpha_s == exact(15e-6));
  CHECK(flat.bytes_per_s == exact(2.0 * 200e9 / 8.0 * 0.9));
  const double n = 1e8;
  CHECK(gcsim::ring_allreduce(f, n).time_s == exact(2.0 * 15.0 * 15e-6 + 2.0 * 15.0 / 16.0 * n / 4.5e10));

  // One node: the flat link is the intra link.
  c.workers = 8;
  const Fabric one = gcsim::make_fabric(c, p);
  CHECK(one.M == 1);
  CHECK_FALSE(one.multi_node());
  CHECK(one.flat_link().alpha_s == exact(12e-6));
  CHECK(one.flat_link().bytes_per_s == exact(2.4e11));

  // One GPU per host: every peer is over the network.
  c.workers = 4;
  c.gpus_per_node = 1;
  c.nics_per_node = 1;
  const Fabric hosts = gcsim::make_fabric(c, p);
  CHECK(hosts.G == 1);
  CHECK(hosts.M == 4);
  CHECK(hosts.intra.alpha_s == exact(15e-6));
  CHECK(hosts.intra.bytes_per_s == exact(200e9 / 8.0 * 0.9));
  CHECK(hosts.flat_link().bytes_per_s == exact(200e9 / 8.0 * 0.9));
}

TEST_CASE("crosses_nodes: G = 8 keeps distances 1 2 4 inside a node and 8 16 cross", "[collectives]") {
  const Fabric f = two_level(32, 8, 1, {1e-6, 1e11}, {5e-6, 1e10});
  CHECK_FALSE(f.crosses_nodes(1));
  CHECK_FALSE(f.crosses_nodes(2));
  CHECK_FALSE(f.crosses_nodes(4));
  CHECK(f.crosses_nodes(8));
  CHECK(f.crosses_nodes(16));
  CHECK(f.crossing_ranks_per_node(1) == 0);
  CHECK(f.crossing_ranks_per_node(8) == 8);
  CHECK(f.crossing_ranks_per_node(16) == 8);
  // Link for an exchange: intra when inside, all 8 ranks of a node share the NIC when crossing.
  CHECK(f.pairwise_link(4).alpha_s == exact(1e-6));
  CHECK(f.pairwise_link(4).bytes_per_s == exact(1e11));
  CHECK(f.pairwise_link(8).alpha_s == exact(5e-6));
  CHECK(f.pairwise_link(8).bytes_per_s == exact(1e10 / 8.0));

  // One node: nothing crosses.
  const Fabric single = one_class(8, 1e-6, 1e11);
  for (int d : {1, 2, 4, 8, 16}) CHECK_FALSE(single.crosses_nodes(d));
}

TEST_CASE("crosses_nodes: G = 6 - distances 2 and 4 cross for some ranks", "[collectives]") {
  const Fabric f = two_level(12, 6, 2, {1e-6, 1e11}, {5e-6, 1e10});
  // Enumerate r XOR d by hand over the 12 ranks (node = r / 6); partners past
  // the last rank do not exist (d = 8: only ranks 0-3 and 8-11 have one).
  for (int d : {1, 2, 4, 8}) {
    bool any = false;
    int worst = 0;
    for (int node = 0; node < 2; ++node) {
      int count = 0;
      for (int r = node * 6; r < node * 6 + 6; ++r) {
        const int partner = r ^ d;
        if (partner < 12 && partner / 6 != node) ++count;
      }
      any = any || count > 0;
      worst = std::max(worst, count);
    }
    INFO("d=" << d);
    CHECK(f.crosses_nodes(d) == any);
    CHECK(f.crossing_ranks_per_node(d) == worst);
  }
  CHECK_FALSE(f.crosses_nodes(1));
  CHECK(f.crosses_nodes(2));  // ranks 4,5 <-> 6,7
  CHECK(f.crosses_nodes(4));  // ranks 2,3 <-> 6,7
  CHECK(f.crossing_ranks_per_node(4) == 2);
  CHECK(f.pairwise_link(4).bytes_per_s == exact(1e10 * 2 / 2.0));
}

TEST_CASE("halving-doubling on a two-level fabric keeps the big steps inside the node", "[collectives]") {
  const LinkParams intra{2e-6, 300e9};
  const LinkParams inter{10e-6, 12.5e9};
  const int P = 16, G = 8;
  const double n = 1e8;
  const Fabric f = two_level(P, G, 1, intra, inter);
  // Steps d = 1, 2, 4 exchange n/2, n/4, n/8 over NVLink; d = 8 exchanges n/16 with
  // all 8 ranks of a node sharing one NIC (B / 8).
  double expect = 0.0;
  double chunk = n;
  for (int d = 1; d < G; d *= 2) {
    chunk /= 2.0;
    expect += 2.0 * (intra.alpha_s + chunk / intra.bytes_per_s);
  }
  expect += 2.0 * (inter.alpha_s + (n / 16.0) / (inter.bytes_per_s / 8.0));
  // Written out: 2*3*2e-6 + 2*(7/8) n / 300e9 + 2*10e-6 + 2*(n/16) / (12.5e9/8)
  CHECK(expect == exact(12e-6 + 2.0 * 7.0 / 8.0 * n / 300e9 + 20e-6 + 2.0 * n / 16.0 / 1.5625e9));
  CHECK(gcsim::halving_doubling_allreduce(f, n).time_s == exact(expect));

  // Charging every step the crossing link would cost far more.
  const double all_inter = 2.0 * 4.0 * inter.alpha_s + 2.0 * 15.0 / 16.0 * n / (inter.bytes_per_s / 8.0);
  CHECK(gcsim::halving_doubling_allreduce(f, n).time_s < all_inter);
  // The flat ring is charged the slower class on every step: alpha 10 us, B = 12.5 GB/s.
  const double ring = 2.0 * 15.0 * 10e-6 + 2.0 * 15.0 / 16.0 * n / 12.5e9;
  CHECK(gcsim::ring_allreduce(f, n).time_s == exact(ring));
  CHECK(gcsim::halving_doubling_allreduce(f, n).time_s < ring);
}
