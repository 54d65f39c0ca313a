// Writes a calibrated profile: a base profile (collective figures, GPU table,
// and any op that was not measured) with the measured kernel cost fits put in
// place of its [kernels.*] entries and [profile] metadata naming the device,
// driver, runtime and date. The result is what sim/profile.h reads.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "sim/efficiency_curve.h"

#include "calib/cost_fit.h"
#include "kernels/backend.h"

namespace gcsim::calib {

struct CalibrationRecord {
  kernels::DeviceInfo device;
  std::string date;      // YYYY-MM-DD
  std::string command;   // the command line that measured it
  int repeats = 0;
};

// Each fitted op's table, with the medians it was fitted to where `points`
// has them ([kernels.OP] measured: sim/kernel_cost.h). Throws (InputError via
// the TOML reader) when the base profile does not parse.
std::string calibrated_profile_toml(const std::string& base_profile_path, const std::map<std::string, CostFit>& fits,
                                    const CalibrationRecord& record,
                                    const std::map<std::string, std::vector<CostPoint>>& points = {});

// What `gcsim calibrate collectives` measured (calib/collective_sweep.h).
struct CollectiveRecord {
  std::string network;   // e.g. "4 processes, Gloo TCP on loopback"
  std::string date;      // YYYY-MM-DD
  std::string command;
  int workers = 0;
  int repeats = 0;
  double launch_us = 0.0, alpha_us = 0.0;
  // Fraction of the link rate the large allreduces achieved; < 0 when no
  // rate was given (the base's efficiencies are kept).
  double inter_node_efficiency = -1.0;
  double achieved_mbit = 0.0;
  double allreduce_r2 = 0.0, allgather_r2 = 0.0;
  // Which link class the measurement describes: "inter_node" (Gloo across
  // hosts, the default), "intra_node" (the GPUs of one node) or "fabric"
  // (links between switches that bound every flow: only efficiencies are
  // written, [collective] fabric_efficiency and each family's fabric); the
  // efficiency above goes to that class's [collective] entry.
  std::string link_class = "inter_node";
  // false: only families were measured (gcsim's own p2p ring), and the
  // base's [collective] defaults (launch, alpha, efficiency, source) stay.
  bool ring_measured = true;

  // Per-family figures ([collective.<family>] launch_us and
  // [collective.<family>.<link_class>]), fitted per algorithm.
  struct Family {
    std::string family;       // "ring", "tree" or "allgather" (sim/collective_figures.h)
    std::string fitted_from;  // e.g. "allreduce + allgather, NCCL_ALGO=Ring"
    double launch_us = 0.0, alpha_us = 0.0;
    double efficiency = -1.0;  // < 0: not measured against a rate
    double bandwidth_gbs = 0.0;
    double r2 = 0.0;
    std::vector<EfficiencyPoint> curve;  // measured size by size against the rate (empty: none written)
  };
  std::vector<Family> families;
};

// The base profile with [collective] launch_us / alpha_us (and
// inter_node_efficiency when measured against a rate) replaced, and
// [profile] naming the network it was measured on; kernels and GPUs are the
// base's.
std::string collective_profile_toml(const std::string& base_profile_path, const CollectiveRecord& record);

}  // namespace gcsim::calib
