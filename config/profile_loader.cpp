#include "config/profile_loader.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>

#include "config/layer_times_loader.h"
#include "config/toml_reader.h"
#include "sim/output/result_format.h"

namespace gcsim {

namespace {

// Physical bounds of every profile quantity (docs/limits.md has the table).
constexpr double kOverheadUs[] = {0, 1e6};       // per-step, launch and kernel fixed costs
constexpr double kNsPerItem[] = {0, 1e6};        // kernel cost per element or selected entry (1 ms: far above any real kernel,
                                                 // but a sanitizer or reference build calibrates at microseconds)
constexpr double kLinkEfficiency[] = {1e-3, 1};  // achieved / line rate
constexpr double kCurveBytes[] = {0, 1e15};     // a collective's size on an efficiency curve
constexpr double kMeasuredCount[] = {0, 1e15};  // a measured kernel point's n and k (entries)
constexpr double kMeasuredSeconds[] = {0, 1e6}; // and its median (> 0: sim/kernel_cost.h)
constexpr double kGpuEfficiency[] = {1e-4, 1};   // MFU, as compute.efficiency
constexpr double kPeakTflops[] = {1e-3, 1e6};
constexpr double kMemoryGbs[] = {0, 1e6};
// r2 of a calibrated fit (calib/cost_fit.h): weighted R^2 of a non-negative
// least-squares fit, which is never worse than the constant fit, so in [0, 1];
// the slack admits the rounding of 1 - sse / ss_tot.
constexpr double kR2[] = {-1e-9, 1};

double in_range(const TableReader& r, const char* key, const double (&range)[2], const char* unit,
                std::optional<double> fallback) {
  const double v = r.number(key, fallback);
  if (!(v >= range[0] && v <= range[1]))
    r.fail(key, "must be in [" + format_number(std::max(range[0], 0.0)) + ", " + format_number(range[1]) + "]" +
                    (*unit ? std::string(" ") + unit : "") + " (got " + format_number(v) + ")");
  return v;
}

// curve = [{bytes = B, efficiency = E}, ...]: sim/efficiency_curve.h, bytes ascending.
EfficiencyCurve read_curve(const TableReader& lc) {
  std::vector<EfficiencyPoint> points;
  double last = 0.0;
  for (const TableReader& pt : lc.table_array("curve")) {
    pt.reject_unknown({"bytes", "efficiency"});
    const double bytes = in_range(pt, "bytes", kCurveBytes, "bytes", std::nullopt);
    if (!(bytes > last)) pt.fail("bytes", "must be > 0 and ascend along the curve (got " + format_number(bytes) + ")");
    last = bytes;
    points.push_back({bytes, in_range(pt, "efficiency", kLinkEfficiency, "", std::nullopt)});
  }
  if (points.empty()) lc.fail("curve", "must hold at least one point");
  return EfficiencyCurve(std::move(points));
}

// measured = [{n = N, k = K, seconds = S}, ...]: the medians the fit was made
// from, which correct it (sim/kernel_cost.h).
void read_measured(const TableReader& op, KernelCost& c) {
  std::vector<KernelPoint> points;
  for (const TableReader& pt : op.table_array("measured")) {
    pt.reject_unknown({"n", "k", "seconds"});
    points.push_back({in_range(pt, "n", kMeasuredCount, "", std::nullopt), in_range(pt, "k", kMeasuredCount, "", std::nullopt),
                      in_range(pt, "seconds", kMeasuredSeconds, "s", std::nullopt)});
  }
  if (points.empty()) op.fail("measured", "must hold at least one point");
  try {
    c.set_measured(points);
  } catch (const std::invalid_argument& e) {
    op.fail("measured", e.what());
  }
}

}  // namespace

Profile load_profile(const std::string& path) {
  const toml::table root = parse_toml_file(path);
  auto ctx = std::make_shared<TomlContext>();
  ctx->file = path;
  const TableReader r(root, "", ctx);
  r.reject_unknown({"profile", "collective", "kernels", "gpus", "layer_times"});

  Profile p;
  p.source_path = path;
  const auto meta = r.sub("profile", true);
  meta->reject_unknown({"name", "device", "measured_on", "notes", "source"});
  p.name = meta->string("name");
  p.device = meta->string("device", "");
  p.measured_on = meta->string("measured_on", "");

  const auto coll = r.sub("collective", true);
  coll->reject_unknown({"alpha_us", "launch_us", "intra_node_efficiency", "inter_node_efficiency", "fabric_efficiency",
                        "source", family::ring, family::tree, family::allgather, family::p2p, family::half});
  p.collective_alpha_s = in_range(*coll, "alpha_us", kOverheadUs, "us", 0.0) * 1e-6;
  p.collective_launch_s = in_range(*coll, "launch_us", kOverheadUs, "us", 0.0) * 1e-6;
  p.intra_node_efficiency = in_range(*coll, "intra_node_efficiency", kLinkEfficiency, "", 1.0);
  p.inter_node_efficiency = in_range(*coll, "inter_node_efficiency", kLinkEfficiency, "", 1.0);
  if (coll->has("fabric_efficiency")) p.fabric_efficiency = in_range(*coll, "fabric_efficiency", kLinkEfficiency, "", std::nullopt);
  // [collective.ring] / [collective.tree] / [collective.allgather] /
  // [collective.p2p]: a family's fitted figures; what a section leaves out is
  // the ring's (the ring's: the defaults above).
  for (const char* name : family::all) {
    const auto fam = coll->sub(name, false);
    if (!fam) continue;
    fam->reject_unknown({"launch_us", "intra_node", "inter_node", "fabric", "source", "fitted_from"});
    if (fam->has("fitted_from")) fam->string("fitted_from");
    CollectiveFigures f = p.collective(name);
    f.launch_s = in_range(*fam, "launch_us", kOverheadUs, "us", f.launch_s * 1e6) * 1e-6;
    for (auto [key, cls] : {std::pair{"intra_node", &f.intra}, std::pair{"inter_node", &f.inter}}) {
      const auto lc = fam->sub(key, false);
      if (!lc) continue;
      lc->reject_unknown({"alpha_us", "efficiency", "bandwidth_gbs", "r2", "curve", "fitted_from"});
      if (lc->has("fitted_from")) lc->string("fitted_from");
      cls->alpha_s = in_range(*lc, "alpha_us", kOverheadUs, "us", cls->alpha_s * 1e6) * 1e-6;
      cls->efficiency = in_range(*lc, "efficiency", kLinkEfficiency, "", cls->efficiency);
      if (lc->has("curve")) cls->curve = read_curve(*lc);
      // What the fit measured, for the reader: checked, not used.
      if (lc->has("bandwidth_gbs")) in_range(*lc, "bandwidth_gbs", kMemoryGbs, "GB/s", std::nullopt);
      if (lc->has("r2")) in_range(*lc, "r2", kR2, "", std::nullopt);
    }
    // The links between switches: an efficiency (and its curve) only; alpha is the endpoints'.
    if (const auto fc = fam->sub("fabric", false)) {
      fc->reject_unknown({"efficiency", "bandwidth_gbs", "r2", "curve", "fitted_from"});
      if (fc->has("fitted_from")) fc->string("fitted_from");
      LinkClassFigures lc = f.fabric.value_or(LinkClassFigures{0.0, f.inter.efficiency, {}});
      lc.efficiency = in_range(*fc, "efficiency", kLinkEfficiency, "", lc.efficiency);
      if (fc->has("curve")) lc.curve = read_curve(*fc);
      if (fc->has("bandwidth_gbs")) in_range(*fc, "bandwidth_gbs", kMemoryGbs, "GB/s", std::nullopt);
      if (fc->has("r2")) in_range(*fc, "r2", kR2, "", std::nullopt);
      f.fabric = lc;
    }
    p.collective_families[name] = f;
  }

  // Optional ops (k-quant, PowerSGD, dense_sum) let profiles written before
  // they existed still load; Profile::kernel() throws for a missing one when a method needs it.
  const std::vector<std::string>& ops = op::required();
  const std::vector<std::string>& optional_ops = op::optional();
  std::vector<std::string> known = ops;
  known.insert(known.end(), optional_ops.begin(), optional_ops.end());
  const auto kernels = r.sub("kernels", true);
  kernels->reject_unknown(known);
  for (const auto& name : known) {
    const bool required = std::find(ops.begin(), ops.end(), name) != ops.end();
    const auto k = kernels->sub(name, required);
    if (!k) continue;
    k->reject_unknown({"alpha_us", "ns_per_element", "ns_per_selected", "source", "r2", "samples", "measured"});
    KernelCost c;
    c.alpha_s = in_range(*k, "alpha_us", kOverheadUs, "us", 0.0) * 1e-6;
    c.per_element_s = in_range(*k, "ns_per_element", kNsPerItem, "ns", 0.0) * 1e-9;
    c.per_selected_s = in_range(*k, "ns_per_selected", kNsPerItem, "ns", 0.0) * 1e-9;
    // The fit's quality, when calibrate wrote one: not used by the simulator, but checked.
    if (k->has("r2")) in_range(*k, "r2", kR2, "", std::nullopt);
    if (k->has("samples")) {
      const std::int64_t n = k->integer("samples");
      if (n < 1) k->fail("samples", "must be >= 1 (got " + std::to_string(n) + ")");
    }
    if (k->has("measured")) read_measured(*k, c);
    p.kernels[name] = c;
  }

  if (const auto gpus = r.sub("gpus", false)) {
    for (const auto& [key, node] : gpus->table()) {
      const std::string name(key.str());
      const auto g = gpus->sub(name, true);
      g->reject_unknown({"peak_tflops", "memory_bandwidth_gbs", "default_efficiency", "source"});
      GpuEntry e;
      e.name = name;
      e.peak_flops = in_range(*g, "peak_tflops", kPeakTflops, "TFLOP/s", std::nullopt) * 1e12;
      e.memory_bandwidth = in_range(*g, "memory_bandwidth_gbs", kMemoryGbs, "GB/s", 0.0) * 1e9;
      e.default_efficiency = in_range(*g, "default_efficiency", kGpuEfficiency, "", 0.4);
      p.gpus[name] = e;
    }
  }
  p.layer_times = read_layer_times(r, path);  // [layer_times.MODEL]: tools/profile_model.py
  return p;
}

}  // namespace gcsim
