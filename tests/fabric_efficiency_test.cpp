// The links between switches as their own link class ([collective]
// fabric_efficiency, [collective.FAMILY.fabric]): TCP's goodput where an
// oversubscribed uplink is a flow's bottleneck is not what the flow reaches at
// its own NIC. The profile reads and checks them, the DES builds and charges a
// fat-tree's uplinks by them (the NICs' where a profile has none, as before),
// and `calibrate collectives --link-class fabric` writes only them.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "calib/profile_writer.h"
#include "config/input_error.h"
#include "config/profile_loader.h"
#include "config/scenario_loader.h"
#include "scenario_fixture.h"
#include "sim/des/training_sim.h"

using namespace gcsim;

namespace {

// 8 one-GPU nodes, leaves of 2, one spine, 4:1: every uplink carries 2 x 10 / 4 = 5 Gbit/s.
const std::string kFatTree = R"(name = "fabric"
profile = "fabric-profile.toml"
[model]
name = "resnet18"
batch_per_worker = 32
[compute]
forward_backward_ms = 50.0
[cluster]
workers = 8
topology = "fat-tree"
nodes_per_leaf = 2
spines = 1
oversubscription = 4
placement = "spread"
[cluster.inter_node]
bandwidth_gbps = 10.0
latency_us = 5.0
[compression]
method = "topk"
ratio = 0.01
exchange = "allgather"
[training]
iterations = 2
)";

// The DES's run of kFatTree (with `sets`) on the default profile plus `extra`.
IterationResult run(const std::string& extra, const std::vector<std::string>& sets = {}) {
  test::write_temp("fabric-profile.toml", test::default_profile_text() + "\n" + extra);
  const Scenario s = load_scenario(test::write_temp("fabric.toml", kFatTree), sets);
  return simulate_des(s).result;
}

std::string profile_error(const std::string& extra) {
  try {
    load_profile(test::write_temp("fabric-bad.toml", test::default_profile_text() + "\n" + extra));
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

// `text` with [collective]'s first key line followed by `line`.
std::string with_collective_key(const std::string& line) {
  return test::replace(test::default_profile_text(), "[collective]\n", "[collective]\n" + line + "\n");
}

}  // namespace

TEST_CASE("a profile reads the links between switches per family and refuses what they cannot have", "[fabric]") {
  const Profile none = load_profile(test::write_temp("fabric-none.toml", test::default_profile_text()));
  CHECK_FALSE(none.collective(family::ring).fabric.has_value());
  CHECK(none.collective(family::ring).fabric_efficiency_at(1e6) == none.collective(family::ring).inter.efficiency);
  const Profile p = load_profile(test::write_temp(
      "fabric-ok.toml", with_collective_key("fabric_efficiency = 0.7") +
                            "\n[collective.allgather.fabric]\nefficiency = 0.5\ncurve = [{bytes = 1.0e4, efficiency = "
                            "0.9}, {bytes = 1.0e6, efficiency = 0.4}]\n"));
  CHECK(p.collective(family::ring).fabric_efficiency_at(-1) == Approx(0.7));
  CHECK(p.collective(family::tree).fabric_efficiency_at(-1) == Approx(0.7));  // a family without its own: the ring's
  CHECK(p.collective(family::allgather).fabric_efficiency_at(-1) == Approx(0.5));
  CHECK(p.collective(family::allgather).fabric_efficiency_at(1e6) == Approx(0.4));
  CHECK(profile_error("[collective.allgather.fabric]\nalpha_us = 3.0\n").find("alpha_us") != std::string::npos);
  CHECK(profile_error("[collective.ring.fabric]\nefficiency = 1.5\n").find("efficiency") != std::string::npos);
  const std::string bad = with_collective_key("fabric_efficiency = 0.0");
  try {
    load_profile(test::write_temp("fabric-bad0.toml", bad));
    FAIL("fabric_efficiency = 0 was accepted");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find("fabric_efficiency") != std::string::npos);
  }
}

TEST_CASE("the DES charges an oversubscribed fat-tree's uplinks the fabric efficiency - the NICs' without one",
          "[fabric]") {
  const IterationResult base = run("");
  const double nic = load_profile(test::write_temp("fabric-none.toml", test::default_profile_text())).inter_node_efficiency;
  // The NICs' efficiency given explicitly is what the links had before the class existed.
  test::write_temp("fabric-profile.toml", with_collective_key("fabric_efficiency = " + std::to_string(nic)));
  const Scenario explicit_nic = load_scenario(test::write_temp("fabric.toml", kFatTree), {});
  CHECK(simulate_des(explicit_nic).result.iteration_time_s == Approx(base.iteration_time_s).epsilon(1e-9));
  // Half the NIC's efficiency on the uplinks, which bind every cross-leaf flow here: the allgather's
  // transfer takes twice as long (its per-message overheads do not scale).
  test::write_temp("fabric-profile.toml", with_collective_key("fabric_efficiency = " + std::to_string(nic / 2)));
  const IterationResult half = simulate_des(load_scenario(test::write_temp("fabric.toml", kFatTree), {})).result;
  CHECK(half.comm_s / base.comm_s > 1.8);
  CHECK(half.comm_s / base.comm_s < 2.0);
  CHECK(half.bytes_sent_per_worker == base.bytes_sent_per_worker);
  // The allgather family's own fabric figure is what its allgathers pay.
  const IterationResult own = run("[collective.allgather.fabric]\nefficiency = " + std::to_string(nic / 2) + "\n");
  CHECK(own.comm_s == Approx(half.comm_s).epsilon(1e-6));
  // A switch has no links between switches: nothing changes there.
  const std::string sw_text = test::replace(
      kFatTree, "topology = \"fat-tree\"\nnodes_per_leaf = 2\nspines = 1\noversubscription = 4\nplacement = \"spread\"\n",
      "topology = \"switch\"\n");
  test::write_temp("fabric-profile.toml", test::default_profile_text());
  const double sw = simulate_des(load_scenario(test::write_temp("fabric-sw.toml", sw_text), {})).result.iteration_time_s;
  test::write_temp("fabric-profile.toml", with_collective_key("fabric_efficiency = 0.2"));
  const Scenario sw_low = load_scenario(test::write_temp("fabric-sw.toml", sw_text), {});
  CHECK(simulate_des(sw_low).result.iteration_time_s == Approx(sw).epsilon(1e-12));
}

TEST_CASE("a fabric calibration writes only efficiencies and keeps the base's overheads", "[fabric]") {
  const std::string base = std::string(GCSIM_SOURCE_DIR) + "/scenarios/profiles/default.toml";
  calib::CollectiveRecord rec;
  rec.network = "8 processes, Gloo TCP, fat-tree 4:1";
  rec.date = "2026-12-02";
  rec.command = "gcsim calibrate collectives --link-class fabric";
  rec.workers = 8;
  rec.repeats = 10;
  rec.launch_us = 999.0;
  rec.alpha_us = 777.0;
  rec.inter_node_efficiency = 0.9;
  rec.link_class = "fabric";
  calib::CollectiveRecord::Family ag;
  ag.family = "allgather";
  ag.fitted_from = "ring allgather";
  ag.launch_us = 555.0;
  ag.alpha_us = 444.0;
  ag.efficiency = 0.8;
  ag.curve = {{65536.0, 0.6}, {1048576.0, 0.8}};
  rec.families.push_back(ag);
  const auto path = test::write_temp("fabric-written.toml", calib::collective_profile_toml(base, rec));
  const Profile p = load_profile(path);
  const Profile b = load_profile(base);
  CHECK(p.collective_launch_s == Approx(b.collective_launch_s));
  CHECK(p.collective_alpha_s == Approx(b.collective_alpha_s));
  CHECK(p.inter_node_efficiency == Approx(b.inter_node_efficiency));
  REQUIRE(p.fabric_efficiency.has_value());
  CHECK(*p.fabric_efficiency == Approx(0.9));
  const CollectiveFigures f = p.collective(family::allgather);
  CHECK(f.fabric_efficiency_at(-1) == Approx(0.8));
  CHECK(f.fabric_efficiency_at(65536.0) == Approx(0.6));
  CHECK(f.inter.alpha_s == Approx(b.collective(family::allgather).inter.alpha_s));  // not the 444 measured there
  CHECK(f.launch_s == Approx(b.collective(family::allgather).launch_s));
}
