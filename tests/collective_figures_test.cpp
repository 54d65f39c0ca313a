// Per-family collective figures (sim/collective_figures.h): the profile's
// [collective.ring] / [collective.tree] sections, read with the defaults for
// what they leave out, and charged by both backends to the collectives of
// their family only, per link class.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>

#include "config/input_error.h"
#include "config/profile_loader.h"
#include "config/scenario_loader.h"
#include "scenario_fixture.h"
#include "sim/analytic/iteration.h"
#include "sim/collectives/fabric.h"
#include "sim/des/training_sim.h"

using namespace gcsim;

namespace {

// The default profile with `section` appended (its [collective] table is
// the one the section's dotted headers extend).
Profile profile_with(const std::string& section, const std::string& file = "p.toml") {
  return load_profile(test::write_temp(file, test::default_profile_text() + "\n" + section));
}

Scenario load(const std::string& rel, const std::vector<std::string>& sets) {
  return load_scenario(std::string(GCSIM_SOURCE_DIR) + "/" + rel, sets);
}

double rel_diff(double a, double b) { return std::abs(a - b) / std::abs(b); }

constexpr const char* kTree = R"([collective.tree]
launch_us = 20.0
fitted_from = "all_reduce_perf with NCCL_ALGO=Tree"
[collective.tree.inter_node]
alpha_us = 7.5
efficiency = 0.6
)";

}  // namespace

TEST_CASE("a collective.tree section is read with the defaults for what it leaves out", "[figures]") {
  const Profile p = profile_with(kTree);
  REQUIRE(p.collective_families.count("tree") == 1);
  CHECK(p.collective_families.count("ring") == 0);
  const CollectiveFigures t = p.collective(family::tree);
  CHECK(t.launch_s == Approx(20e-6));
  CHECK(t.inter.alpha_s == Approx(7.5e-6));
  CHECK(t.inter.efficiency == Approx(0.6));
  // intra_node left out: the [collective] defaults
  CHECK(t.intra.alpha_s == Approx(p.collective_alpha_s));
  CHECK(t.intra.efficiency == Approx(p.intra_node_efficiency));
  // the ring family has no section: the defaults, everywhere
  const CollectiveFigures r = p.collective(family::ring);
  CHECK(r.launch_s == p.collective_launch_s);
  CHECK(r.inter.alpha_s == p.collective_alpha_s);
  CHECK(r.inter.efficiency == p.inter_node_efficiency);
}

TEST_CASE("collective family figures out of range or unknown are refused naming the key", "[figures]") {
  auto message = [](const std::string& section) {
    try {
      profile_with(section, "bad.toml");
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK(test::contains(message("[collective.tree.inter_node]\nefficiency = 0.0\n"), "collective.tree.inter_node.efficiency"));
  CHECK(test::contains(message("[collective.ring]\nlaunch_us = -1.0\n"), "collective.ring.launch_us"));
  CHECK(test::contains(message("[collective.tree.intra_node]\nbeta = 1.0\n"), "beta"));
  CHECK(test::contains(message("[collective.bcube]\nlaunch_us = 1.0\n"), "bcube"));
}

TEST_CASE("the tree allreduce is charged the tree figures in both backends and the ring is not", "[figures]") {
  const std::vector<std::string> base = {"compression.method=\"none\"", "training.iterations=2"};
  for (int P : {2, 5, 16}) {
    auto sets = base;
    sets.push_back("cluster.workers=" + std::to_string(P));
    Scenario tree = load("scenarios/h100-cluster.toml", [&] {
      auto v = sets;
      v.push_back("collective.algorithm=\"tree\"");
      return v;
    }());
    Scenario ring = load("scenarios/h100-cluster.toml", sets);
    const Profile with_tree = profile_with(kTree);
    // What the tree's figures amount to: a profile whose defaults are them
    // (the section's intra_node is the defaults' already; on a switch only
    // inter_node counts).
    Profile as_defaults = tree.profile;
    as_defaults.collective_launch_s = 20e-6;
    as_defaults.collective_alpha_s = 7.5e-6;
    as_defaults.inter_node_efficiency = 0.6;

    Scenario tree_sectioned = tree, tree_as_defaults = tree, ring_sectioned = ring;
    tree_sectioned.profile = with_tree;
    tree_as_defaults.profile = as_defaults;
    ring_sectioned.profile = with_tree;
    INFO("P = " << P);
    const double a_sec = simulate_analytic(tree_sectioned).iteration_time_s;
    CHECK(rel_diff(a_sec, simulate_analytic(tree_as_defaults).iteration_time_s) < 1e-12);
    CHECK(rel_diff(simulate_des(tree_sectioned).result.iteration_time_s, simulate_des(tree_as_defaults).result.iteration_time_s) < 1e-9);
    // and the tree figures make a difference (slower: 0.6 of the line rate)
    CHECK(a_sec > simulate_analytic(tree).iteration_time_s * 1.01);
    // the ring does not see them
    CHECK(simulate_analytic(ring_sectioned).iteration_time_s == simulate_analytic(ring).iteration_time_s);
    CHECK(simulate_des(ring_sectioned).result.iteration_time_s == simulate_des(ring).result.iteration_time_s);
  }
}

TEST_CASE("per link class overheads: one node pays only the intra-node alpha and a switch only the inter-node", "[figures]") {
  const std::vector<std::string> sets = {"compression.method=\"none\"", "training.iterations=2", "cluster.workers=8"};
  const Scenario one_node = load("scenarios/dgx-h100.toml", sets);  // 8 GPUs per node: P = 8 is one node
  const Scenario on_switch = load("scenarios/h100-cluster.toml", sets);
  REQUIRE(one_node.cluster.nodes() == 1);
  auto with = [](Scenario s, double intra_us, double inter_us) {
    CollectiveFigures f = s.profile.collective(family::ring);
    f.intra.alpha_s = intra_us * 1e-6;
    f.inter.alpha_s = inter_us * 1e-6;
    s.profile.collective_families[family::ring] = f;
    return s;
  };
  auto des = [](const Scenario& s) { return simulate_des(s).result.iteration_time_s; };
  auto analytic = [](const Scenario& s) { return simulate_analytic(s).iteration_time_s; };
  // one node: the inter-node alpha changes nothing, the intra-node one does
  CHECK(des(with(one_node, 3.0, 50.0)) == des(with(one_node, 3.0, 0.0)));
  CHECK(analytic(with(one_node, 3.0, 50.0)) == analytic(with(one_node, 3.0, 0.0)));
  CHECK(des(with(one_node, 50.0, 3.0)) > des(with(one_node, 3.0, 3.0)));
  CHECK(rel_diff(des(with(one_node, 50.0, 3.0)), analytic(with(one_node, 50.0, 3.0))) < 1e-9);
  // a switch, one GPU per host: the other way round
  CHECK(des(with(on_switch, 50.0, 3.0)) == des(with(on_switch, 0.0, 3.0)));
  CHECK(analytic(with(on_switch, 50.0, 3.0)) == analytic(with(on_switch, 0.0, 3.0)));
  CHECK(des(with(on_switch, 3.0, 50.0)) > des(with(on_switch, 3.0, 3.0)));
  CHECK(rel_diff(des(with(on_switch, 3.0, 50.0)), analytic(with(on_switch, 3.0, 50.0))) < 1e-9);
}

TEST_CASE("a message pays the overhead of the link class between its ranks", "[figures]") {
  const MessageOverhead o(1.0, 2.0, 4);
  CHECK(o.of(0, 3) == 1.0);
  CHECK(o.of(3, 4) == 2.0);
  CHECK(o.of(5, 6) == 1.0);
  CHECK(o.of(7, 0) == 2.0);
  const MessageOverhead both(3.0);
  CHECK(both.of(0, 1) == 3.0);
  CHECK(both.of(0, 100) == 3.0);
}
