#include "config/profile_loader.h"

#include <memory>

#include "config/toml_reader.h"

namespace gcsim {

namespace {

double non_negative(const TableReader& r, const char* key, double fallback) {
  const double v = r.number(key, fallback);
  if (!(v >= 0.0)) r.fail(key, "must be >= 0 (got " + std::to_string(v) + ")");
  return v;
}

double fraction(const TableReader& r, const char* key, double fallback) {
  const double v = r.number(key, fallback);
  if (!(v > 0.0 && v <= 1.0)) r.fail(key, "must be in (0, 1] (got " + std::to_string(v) + ")");
  return v;
}

}  // namespace

Profile load_profile(const std::string& path) {
  const toml::table root = parse_toml_file(path);
  auto ctx = std::make_shared<TomlContext>();
  ctx->file = path;
  const TableReader r(root, "", ctx);
  r.reject_unknown({"profile", "collective", "kernels", "gpus"});

  Profile p;
  p.source_path = path;
  const auto meta = r.sub("profile", true);
  meta->reject_unknown({"name", "device", "measured_on", "notes", "source"});
  p.name = meta->string("name");
  p.device = meta->string("device", "");
  p.measured_on = meta->string("measured_on", "");

  const auto coll = r.sub("collective", true);
  coll->reject_unknown({"alpha_us", "launch_us", "intra_node_efficiency", "inter_node_efficiency", "source"});
  p.collective_alpha_s = non_negative(*coll, "alpha_us", 0.0) * 1e-6;
  p.collective_launch_s = non_negative(*coll, "launch_us", 0.0) * 1e-6;
  p.intra_node_efficiency = fraction(*coll, "intra_node_efficiency", 1.0);
  p.inter_node_efficiency = fraction(*coll, "inter_node_efficiency", 1.0);

  const std::vector<std::string> ops = {op::topk,    op::ef_topk,     op::randomk,  op::threshold,
                                        op::pack,    op::scatter_add, op::optimizer};
  const auto kernels = r.sub("kernels", true);
  kernels->reject_unknown(ops);
  for (const auto& name : ops) {
    const auto k = kernels->sub(name, true);
    k->reject_unknown({"alpha_us", "ns_per_element", "ns_per_selected", "source", "r2", "samples"});
    KernelCost c;
    c.alpha_s = non_negative(*k, "alpha_us", 0.0) * 1e-6;
    c.per_element_s = non_negative(*k, "ns_per_element", 0.0) * 1e-9;
    c.per_selected_s = non_negative(*k, "ns_per_selected", 0.0) * 1e-9;
    p.kernels[name] = c;
  }

  if (const auto gpus = r.sub("gpus", false)) {
    for (const auto& [key, node] : gpus->table()) {
      const std::string name(key.str());
      const auto g = gpus->sub(name, true);
      g->reject_unknown({"peak_tflops", "memory_bandwidth_gbs", "default_efficiency", "source"});
      GpuEntry e;
      e.name = name;
      e.peak_flops = g->number("peak_tflops") * 1e12;
      if (!(e.peak_flops > 0)) g->fail("peak_tflops", "must be > 0");
      e.memory_bandwidth = non_negative(*g, "memory_bandwidth_gbs", 0.0) * 1e9;
      e.default_efficiency = fraction(*g, "default_efficiency", 0.4);
      p.gpus[name] = e;
    }
  }
  return p;
}

}  // namespace gcsim
