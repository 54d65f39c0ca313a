// The DES's computed ring passes (sim/collectives/fast_ring.h) against the
// message-by-message DES it replaces: the same iteration times, breakdown,
// bytes and busiest links within 1e-9 relative, on every shipped scenario and
// on seeded random ones (topologies, P odd and even, chunks, methods,
// algorithms, stragglers); and the fast path must really have run where its
// condition holds, or the comparison would test nothing.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "config/scenario_loader.h"
#include "sim/collectives/fast_ring.h"
#include "sim/collectives/pattern_rates.h"
#include "sim/des/training_sim.h"

using namespace gcsim;

namespace {

Scenario load(const std::string& rel, const std::vector<std::string>& sets = {}) {
  return load_scenario(std::string(GCSIM_SOURCE_DIR) + "/" + rel, sets);
}

bool close(double a, double b) { return std::abs(a - b) <= 1e-9 * std::max(std::abs(a), std::abs(b)) + 1e-15; }

// Every figure the two paths report; returns how many collectives ran fast.
std::uint64_t check_same(const Scenario& s) {
  DesOptions fast, slow;
  fast.busiest_links = slow.busiest_links = 8;
  slow.fast_rings = false;
  const DesRun a = simulate_des(s, fast), b = simulate_des(s, slow);
  const IterationResult &x = a.result, &y = b.result;
  CHECK(y.fast_collectives == 0);
  CHECK(x.collectives == y.collectives);
  CHECK(close(x.iteration_time_s, y.iteration_time_s));
  CHECK(close(x.iteration_p50_s, y.iteration_p50_s));
  CHECK(close(x.iteration_p99_s, y.iteration_p99_s));
  CHECK(close(x.comm_s, y.comm_s));
  CHECK(close(x.exposed_comm_s, y.exposed_comm_s));
  CHECK(close(x.exposed_compression_s, y.exposed_compression_s));
  CHECK(close(x.compute_s, y.compute_s));
  CHECK(close(x.bytes_sent_per_worker, y.bytes_sent_per_worker));
  CHECK(close(x.bytes_received_per_worker, y.bytes_received_per_worker));
  CHECK(x.messages == y.messages);
  REQUIRE(a.iteration_s.size() == b.iteration_s.size());
  for (std::size_t i = 0; i < a.iteration_s.size(); ++i) CHECK(close(a.iteration_s[i], b.iteration_s[i]));
  REQUIRE(a.buckets.size() == b.buckets.size());
  for (std::size_t i = 0; i < a.buckets.size(); ++i) {
    CHECK(close(a.buckets[i].collective_start_s, b.buckets[i].collective_start_s));
    CHECK(close(a.buckets[i].end_s, b.buckets[i].end_s));
  }
  REQUIRE(x.busiest_links.size() == y.busiest_links.size());
  for (std::size_t i = 0; i < x.busiest_links.size(); ++i) {
    // equal loads may come in either order: compare the load, and the name where loads differ
    CHECK(close(x.busiest_links[i].bytes, y.busiest_links[i].bytes));
    CHECK(close(x.busiest_links[i].utilization, y.busiest_links[i].utilization));
  }
  return x.fast_collectives;
}

}  // namespace

TEST_CASE("des fast rings equal the message-level des on every shipped scenario", "[des-fast]") {
  std::uint64_t fast = 0;
  for (const char* f : {"scenarios/h100-cluster.toml", "scenarios/dgx-h100.toml", "scenarios/seed/gradient-table.toml",
                        "scenarios/seed/resnet50-1gbps.toml", "scenarios/seed/reduction.toml",
                        "scenarios/seed/section-5-2.toml", "scenarios/validation/base.toml"}) {
    for (const std::vector<std::string>& sets :
         {std::vector<std::string>{}, {"compression.method=\"none\""}, {"collective.chunks=3"}}) {
      INFO(f << " " << (sets.empty() ? "" : sets[0]));
      Scenario s = load(f, sets);
      s.training.iterations = std::min(s.training.iterations, 3);
      if (s.cluster.workers > 256) s.cluster.workers = 256;  // the message-level side must stay quick
      fast += check_same(s);
    }
  }
  CHECK(fast > 0);
}

TEST_CASE("des fast rings equal the message-level des on seeded random scenarios", "[des-fast]") {
  std::mt19937 rng(2026);
  auto pick = [&](std::initializer_list<const char*> v) { return *(v.begin() + rng() % v.size()); };
  std::uint64_t fast = 0, slow = 0;
  for (int trial = 0; trial < 40; ++trial) {
    const char* topology = pick({"switch", "two-level", "fat-tree"});
    const int G = std::string(topology) == "switch" ? 1 : static_cast<int>(1 + rng() % 4);
    int P = static_cast<int>(2 + rng() % 40);
    if (G > 1) P = G * static_cast<int>(1 + rng() % 12);
    if (P < 2) P = 2 * G;
    std::vector<std::string> sets = {"cluster.workers=" + std::to_string(P), "cluster.gpus_per_node=" + std::to_string(G),
                                     std::string("cluster.topology=\"") + topology + "\"",
                                     "collective.chunks=" + std::to_string(1 + rng() % 4), "training.iterations=2",
                                     std::string("compression.method=\"") + pick({"none", "topk", "fp16", "qsgd"}) + "\"",
                                     std::string("training.overlap=") + (rng() % 2 ? "true" : "false"),
                                     "stragglers.cv=" + std::to_string((rng() % 3) * 0.1)};
    if (G > 1) {
      sets.push_back("cluster.intra_node={bandwidth_gbps=900, latency_us=1.0}");
      if (rng() % 3 == 0) sets.push_back("collective.algorithm=\"hierarchical\"");
    }
    if (std::string(topology) == "fat-tree") {
      sets.push_back(std::string("cluster.oversubscription=") + pick({"1.0", "2.0", "4.0"}));
      sets.push_back(std::string("cluster.placement=\"") + pick({"packed", "spread"}) + "\"");
    }
    std::string joined;
    for (const auto& x : sets) joined += x + " ";
    INFO("trial " << trial << ": " << joined);
    Scenario s;
    try {
      s = load("scenarios/h100-cluster.toml", sets);
    } catch (const std::exception& e) {  // a combination the loader refuses (e.g. hierarchical with one node)
      continue;
    }
    const std::uint64_t f = check_same(s);
    fast += f;
    slow += simulate_des(s).result.collectives - f;
  }
  CHECK(fast > 0);
  CHECK(slow > 0);  // and some fell back: shared links (fat-tree uplinks, hierarchical stages)
}

TEST_CASE("fast ring times follow the recurrence on a hand-worked ring", "[des-fast]") {
  // 3 ranks, one stage of 2 steps, 1 chunk: rank 2's connection is slow (d = 3), the others d = 1;
  // alpha 0.5, latency 0.25.
  FastRingStage st;
  st.next = {1, 2, 0};
  st.steps = 2;
  st.alpha_s = {0.5, 0.5, 0.5};
  st.duration_s = {1.0, 1.0, 3.0};
  st.latency_s = {0.25, 0.25, 0.25};
  const FastRingTimes t = fast_ring_times({st}, 3, 1, 10.0, 1);
  // step 0: every rank starts at 10.5; arrivals: r0->1 at 11.75, r1->2 at 11.75, r2->0 at 13.75
  // step 1: r0 ready 13.75 (from r2): start 14.25, arrives at r1 15.5; r1 ready 11.75 (from r0),
  //         free at 11.5: start 12.25, arrives at r2 13.5; r2 ready 11.75, free 13.5: start 14, arrives at r0 17.25
  CHECK(t.done[0] == Approx(17.25));
  CHECK(t.done[1] == Approx(15.5));
  CHECK(t.done[2] == Approx(13.5));
  CHECK(t.phase_end[0] == Approx(17.25));
}

TEST_CASE("pattern rates are max-min fair over the flows active together", "[des-fast]") {
  // links 0 (capacity 10) and 1 (capacity 4); flow a on 0, flow b on 0 and 1, flow c on 1
  const std::vector<int> a{0}, b{0, 1}, c{1};
  const std::vector<double> r = pattern_rates({&a, &b, &c}, {10.0, 4.0});
  CHECK(r[1] == Approx(2.0));  // b and c split link 1
  CHECK(r[2] == Approx(2.0));
  CHECK(r[0] == Approx(8.0));  // a takes what b leaves of link 0
  // one flow per link: the route's smallest capacity, exactly
  const std::vector<int> d{0, 1};
  CHECK(pattern_rates({&d}, {10.0, 4.0})[0] == 4.0);
}
