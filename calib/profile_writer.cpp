#include "calib/profile_writer.h"

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <stdexcept>

#include "config/toml_reader.h"

namespace gcsim::calib {

namespace {

// TOML text for a string: basic string with the escapes TOML requires.
std::string quoted(const std::string& v) {
  std::string o = "\"";
  for (const char c : v) {
    switch (c) {
      case '"': o += "\\\""; break;
      case '\\': o += "\\\\"; break;
      case '\n': o += "\\n"; break;
      case '\t': o += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          o += buf;
        } else {
          o += c;
        }
    }
  }
  return o + "\"";
}

std::string scalar(const toml::node& v) {
  if (const auto* s = v.as_string()) return quoted(s->get());
  if (const auto* i = v.as_integer()) return std::to_string(i->get());
  if (const auto* b = v.as_boolean()) return b->get() ? "true" : "false";
  if (const auto* f = v.as_floating_point()) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.9g", f->get());
    std::string t = buf;
    if (t.find_first_of(".eEn") == std::string::npos) t += ".0";  // keep it a TOML float
    return t;
  }
  // Arrays of those: [layer_times.MODEL]'s per-layer lists (config/layer_times_loader.cpp).
  if (const auto* a = v.as_array()) {
    std::string o = "[";
    for (std::size_t i = 0; i < a->size(); ++i) o += (i ? ", " : "") + scalar(*a->get(i));
    return o + "]";
  }
  // Inline tables inside those: an efficiency curve's points ({bytes = .., efficiency = ..}).
  if (const auto* t = v.as_table()) {
    std::string o = "{";
    bool first = true;
    for (const auto& [key, value] : *t) {
      o += (first ? "" : ", ") + std::string(key.str()) + " = " + scalar(value);
      first = false;
    }
    return o + "}";
  }
  // Profiles hold nothing else (config/profile_loader.cpp).
  throw std::runtime_error("profile writer: unsupported TOML value at " + source_location(v));
}

// Writes the scalars of `t` under [path], then its sub-tables, depth first.
void emit(std::ostringstream& out, const std::string& path, const toml::table& t) {
  bool header = false;
  for (const auto& [key, node] : t) {
    if (node.is_table()) continue;
    if (!header && !path.empty()) out << "\n[" << path << "]\n";
    header = true;
    out << key.str() << " = " << scalar(node) << "\n";
  }
  for (const auto& [key, node] : t)
    if (const auto* sub = node.as_table()) emit(out, path.empty() ? std::string(key.str()) : path + "." + std::string(key.str()), *sub);
}

// The profile's tables in a fixed order (then anything else the base carried), after `header`.
std::string render(toml::table& root, const std::string& header) {
  std::ostringstream out;
  out << header;
  for (const char* section : {"profile", "collective", "kernels", "gpus"})
    if (const auto* t = root[section].as_table()) emit(out, section, *t);
  for (const auto& [key, node] : root)
    if (const auto* t = node.as_table(); t && key.str() != "profile" && key.str() != "collective" &&
                                        key.str() != "kernels" && key.str() != "gpus")
      emit(out, std::string(key.str()), *t);
  return out.str();
}

std::string short_number(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", x);
  return buf;
}

std::string percent(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %%", 100.0 * x);
  return buf;
}

}  // namespace

std::string calibrated_profile_toml(const std::string& base_profile_path, const std::map<std::string, CostFit>& fits,
                                    const CalibrationRecord& rec,
                                    const std::map<std::string, std::vector<CostPoint>>& points) {
  toml::table root = parse_toml_file(base_profile_path);
  const auto& d = rec.device;

  toml::table meta;
  meta.insert("name", "calibrated-" + d.backend);
  meta.insert("device", d.device + " (backend " + d.backend + ", " + std::to_string(d.threads) + " thread(s))");
  std::string measured = rec.date;
  if (!d.driver.empty()) measured += ", driver " + d.driver;
  if (!d.runtime.empty()) measured += ", " + d.runtime;
  meta.insert("measured_on", measured);
  meta.insert("source", rec.command);
  meta.insert("notes", "kernel costs measured by gcsim calibrate; [collective], [gpus] and unmeasured kernels copied from " +
                           base_profile_path);
  root.insert_or_assign("profile", std::move(meta));

  toml::table* kernels = root["kernels"].as_table();
  if (!kernels) {
    root.insert("kernels", toml::table{});
    kernels = root["kernels"].as_table();
  }
  for (const auto& [op, fit] : fits) {
    toml::table t;
    t.insert("alpha_us", fit.alpha_s * 1e6);
    t.insert("ns_per_element", fit.per_element_s * 1e9);
    t.insert("ns_per_selected", fit.per_selected_s * 1e9);
    t.insert("r2", fit.r2);
    t.insert("samples", static_cast<std::int64_t>(fit.points));
    const auto m = points.find(op);
    const bool keep_points = m != points.end() && !m->second.empty();
    t.insert("source", "measured: " + std::to_string(fit.points) + " points, median of " + std::to_string(rec.repeats) +
                           " repeats, relative least-squares fit, worst point off by " + percent(fit.max_rel_error) +
                           (keep_points ? "; corrected by its measured points" : ""));
    if (keep_points) {
      toml::array array;
      for (const CostPoint& p : m->second) {
        toml::table point;
        point.insert("n", p.n);
        point.insert("k", p.k);
        point.insert("seconds", p.t);
        array.push_back(std::move(point));
      }
      t.insert("measured", std::move(array));
    }
    kernels->insert_or_assign(op, std::move(t));
  }

  return render(root, "# gcsim profile written by `gcsim calibrate kernels` on " + rec.date +
                         ".\n# Kernel entries: fit = alpha + ns_per_element n + ns_per_selected k, fitted to "
                         "measured medians;\n# cost = fit x (measured / fit), interpolated between the "
                         "measured points (sim/kernel_cost.h).\n");
}

std::string collective_profile_toml(const std::string& base_profile_path, const CollectiveRecord& rec) {
  toml::table root = parse_toml_file(base_profile_path);
  toml::table meta;
  if (const auto* old = root["profile"].as_table()) meta = *old;
  meta.insert_or_assign("name", "calibrated-collectives");
  if (const auto* dev = meta["device"].as_string())  // the kernels and GPUs still describe the base's device
    meta.insert_or_assign("device", "collectives: " + rec.network + "; kernels: " + dev->get());
  else
    meta.insert_or_assign("device", "collectives: " + rec.network);
  meta.insert_or_assign("measured_on", rec.date + ": collectives on " + rec.network);
  meta.insert_or_assign("source", rec.command);
  std::string measured = "[collective]";
  if (!rec.ring_measured) {
    measured.clear();
    for (const CollectiveRecord::Family& f : rec.families) measured += (measured.empty() ? "" : ", ") + ("[collective." + f.family + "]");
  }
  meta.insert_or_assign("notes", measured + " measured by gcsim calibrate collectives; everything else copied from " +
                                     base_profile_path);
  root.insert_or_assign("profile", std::move(meta));

  toml::table coll;
  if (const auto* old = root["collective"].as_table()) coll = *old;
  // The links between switches: only their efficiencies; the overheads measured there are the endpoints'.
  const bool fabric = rec.link_class == "fabric";
  if (rec.ring_measured && fabric) {
    if (rec.inter_node_efficiency >= 0.0)
      coll.insert_or_assign("fabric_efficiency", std::min(1.0, std::max(1e-3, rec.inter_node_efficiency)));
  } else if (rec.ring_measured) {
    coll.insert_or_assign("launch_us", rec.launch_us);
    coll.insert_or_assign("alpha_us", rec.alpha_us);
    std::string source = "measured: ring allreduce and ring allgather medians of " + std::to_string(rec.repeats) +
                         " repeats on " + std::to_string(rec.workers) + " workers, fitted t = c + x / B (r2 " +
                         short_number(rec.allreduce_r2) + " / " + short_number(rec.allgather_r2) + "); achieved " +
                         std::to_string(static_cast<long long>(rec.achieved_mbit + 0.5)) + " Mbit/s";
    if (rec.inter_node_efficiency >= 0.0)
      coll.insert_or_assign(rec.link_class + "_efficiency", std::min(1.0, std::max(1e-3, rec.inter_node_efficiency)));
    else source += "; efficiencies from the base";
    coll.insert_or_assign("source", source);
  }
  for (const CollectiveRecord::Family& f : rec.families) {
    toml::table fam;
    if (const auto* old = coll[f.family].as_table()) fam = *old;
    if (!fabric) fam.insert_or_assign("launch_us", f.launch_us);
    // Where each link class's figures came from (calibrations of one class leave the others' alone).
    fam.erase("fitted_from");
    toml::table cls;
    cls.insert_or_assign("fitted_from", f.fitted_from + " on " + rec.network + ", " + rec.date);
    if (!fabric) cls.insert_or_assign("alpha_us", f.alpha_us);
    if (f.efficiency >= 0.0) cls.insert_or_assign("efficiency", std::min(1.0, std::max(1e-3, f.efficiency)));
    cls.insert_or_assign("bandwidth_gbs", f.bandwidth_gbs);
    cls.insert_or_assign("r2", std::max(0.0, std::min(1.0, f.r2)));
    if (!f.curve.empty()) {
      toml::array curve;
      for (const EfficiencyPoint& pt : f.curve) {
        toml::table point;
        point.insert("bytes", pt.bytes);
        point.insert("efficiency", pt.efficiency);
        curve.push_back(std::move(point));
      }
      cls.insert_or_assign("curve", std::move(curve));
    }
    fam.insert_or_assign(rec.link_class, std::move(cls));
    coll.insert_or_assign(f.family, std::move(fam));
  }
  root.insert_or_assign("collective", std::move(coll));
  return render(root, "# gcsim profile written by `gcsim calibrate collectives` on " + rec.date +
                          ".\n# [collective]: launch_us once per collective, alpha_us per ring step, measured.\n");
}

}  // namespace gcsim::calib
