#include "sim/output/result_format.h"

#include "compress/method.h"

#include <cstdio>
#include <sstream>

namespace gcsim {

std::string format_number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

std::string json_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '"': o += "\\\""; break;
      case '\\': o += "\\\\"; break;
      case '\n': o += "\\n"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          o += buf;
        } else {
          o += c;
        }
    }
  }
  return o;
}

namespace {

std::string b(bool v) { return v ? "true" : "false"; }

std::string ms(double s) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f ms", s * 1e3);
  return buf;
}

std::string mb(double bytes) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f MB", bytes / 1e6);
  return buf;
}

}  // namespace

Columns config_columns(const Scenario& s, const IterationResult& r) {
  const auto& c = s.cluster;
  const auto& z = s.compression;
  return {
      {"model", s.model.name},
      {"workers", std::to_string(c.workers)},
      {"gpus_per_node", std::to_string(c.gpus_per_node)},
      {"topology", to_string(c.topology)},
      {"bandwidth_gbps", format_number(c.inter_node.bandwidth_gbps)},
      {"intra_bandwidth_gbps", format_number(c.gpus_per_node > 1 ? c.intra_node.bandwidth_gbps : 0.0)},
      {"algorithm", to_string(s.algorithm)},
      {"method", z.method},
      {"variant", compress::method(z.method).label(z)},
      {"ratio", format_number(z.ratio)},
      {"index_bytes", std::to_string(z.index_bytes)},
      {"error_feedback", b(z.error_feedback)},
      {"granularity", to_string(z.granularity)},
      {"exchange", to_string(z.exchange)},
      {"bucket_mb", format_number(s.training.bucket_mb)},
      {"overlap", b(s.training.overlap)},
      {"backend", r.backend},
  };
}

Columns metric_columns(const IterationResult& r) {
  return {
      {"iteration_time_s", format_number(r.iteration_time_s)},
      {"compute_s", format_number(r.compute_s)},
      {"compression_s", format_number(r.compression_s)},
      {"exposed_compression_s", format_number(r.exposed_compression_s)},
      {"comm_s", format_number(r.comm_s)},
      {"exposed_comm_s", format_number(r.exposed_comm_s)},
      {"bytes_sent_per_worker", format_number(r.bytes_sent_per_worker)},
      {"bytes_received_per_worker", format_number(r.bytes_received_per_worker)},
      {"efficiency_weak", format_number(r.efficiency_weak)},
      {"efficiency_strong", format_number(r.efficiency_strong)},
      {"speedup", format_number(r.speedup)},
      {"iteration_time_p1_s", format_number(r.iteration_time_p1_s)},
      {"algorithm_used", r.algorithm},
      {"params", std::to_string(r.params)},
      {"selected", std::to_string(r.selected)},
      {"buckets", std::to_string(r.buckets)},
      {"iterations", std::to_string(r.iterations)},
      {"iteration_p50_s", format_number(r.iteration_p50_s)},
      {"iteration_p99_s", format_number(r.iteration_p99_s)},
      {"straggler_s", format_number(r.straggler_s)},
      {"busiest_link", r.busiest_links.empty() ? "" : r.busiest_links.front().name},
      {"busiest_link_utilization",
       format_number(r.busiest_links.empty() ? 0.0 : r.busiest_links.front().utilization)},
  };
}

std::string csv_header(const Columns& cols) {
  std::string o;
  for (std::size_t i = 0; i < cols.size(); ++i) o += (i ? "," : "") + cols[i].first;
  return o;
}

std::string csv_row(const Columns& cols) {
  std::string o;
  for (std::size_t i = 0; i < cols.size(); ++i) {
    const std::string& v = cols[i].second;
    if (i) o += ',';
    if (v.find_first_of(",\"\n") != std::string::npos) {
      o += '"';
      for (char c : v) o += (c == '"') ? std::string("\"\"") : std::string(1, c);
      o += '"';
    } else {
      o += v;
    }
  }
  return o;
}

std::string format_json(const Scenario& s, const IterationResult& r) {
  std::ostringstream o;
  o << "{\n  \"scenario\": \"" << json_escape(s.name) << "\",\n";
  o << "  \"backend\": \"" << r.backend << "\",\n";
  const Columns cfg = config_columns(s, r);
  o << "  \"config\": {";
  for (std::size_t i = 0; i < cfg.size(); ++i)
    o << (i ? ", " : "") << '"' << cfg[i].first << "\": \"" << json_escape(cfg[i].second) << '"';
  o << "},\n";
  auto num = [&](const char* k, double v, bool last = false) {
    o << "  \"" << k << "\": " << format_number(v) << (last ? "\n" : ",\n");
  };
  num("iteration_time_s", r.iteration_time_s);
  o << "  \"iterations\": " << r.iterations << ",\n";
  num("iteration_p50_s", r.iteration_p50_s);
  num("iteration_p99_s", r.iteration_p99_s);
  num("straggler_s", r.straggler_s);
  num("compute_s", r.compute_s);
  num("forward_s", r.forward_s);
  num("backward_s", r.backward_s);
  num("optimizer_s", r.optimizer_s);
  num("compression_s", r.compression_s);
  num("exposed_compression_s", r.exposed_compression_s);
  num("comm_s", r.comm_s);
  num("exposed_comm_s", r.exposed_comm_s);
  num("bytes_sent_per_worker", r.bytes_sent_per_worker);
  num("bytes_received_per_worker", r.bytes_received_per_worker);
  num("iteration_time_p1_s", r.iteration_time_p1_s);
  num("efficiency_weak", r.efficiency_weak);
  num("efficiency_strong", r.efficiency_strong);
  num("speedup", r.speedup);
  o << "  \"efficiency_definitions\": {\"efficiency_weak\": \"T_iter(1)/T_iter(P), fixed per-worker batch\", "
       "\"efficiency_strong\": \"(T_c/P)/(T_c/P + T_comm), seed section 2.2, no overlap\", "
       "\"speedup\": \"P * efficiency_weak\"},\n";
  o << "  \"params\": " << r.params << ",\n  \"selected_per_worker\": " << r.selected << ",\n";
  o << "  \"buckets\": " << r.buckets << ",\n  \"algorithm_used\": \"" << json_escape(r.algorithm) << "\",\n";
  o << "  \"auto_choice\": \"" << json_escape(r.choice) << "\",\n";
  o << "  \"events\": " << r.events << ",\n  \"messages\": " << r.messages << ",\n";
  o << "  \"collectives\": " << r.collectives << ",\n  \"fast_collectives\": " << r.fast_collectives << ",\n";
  o << "  \"busiest_links\": [";
  for (std::size_t i = 0; i < r.busiest_links.size(); ++i) {
    const LinkLoad& l = r.busiest_links[i];
    o << (i ? ", " : "") << "{\"link\": \"" << json_escape(l.name) << "\", \"bytes\": " << format_number(l.bytes)
      << ", \"utilization\": " << format_number(l.utilization) << "}";
  }
  o << "]\n}\n";
  return o.str();
}

std::string format_table(const Scenario& s, const IterationResult& r) {
  std::ostringstream o;
  const auto& c = s.cluster;
  char line[256];
  o << "scenario   " << s.name << " (" << s.source_path << ")\n";
  o << "model      " << s.model.name << ": " << r.params << " parameters (" << mb(4.0 * static_cast<double>(r.params))
    << " of fp32 gradient), " << r.buckets << " bucket(s)\n";
  std::snprintf(line, sizeof line, "cluster    P = %d workers, %d per node, %s, %.6g Gb/s between nodes\n", c.workers,
                c.gpus_per_node, to_string(c.topology), c.inter_node.bandwidth_gbps);
  o << line;
  o << "profile    " << s.profile.name << " (" << s.profile.source_path << ")\n";
  const compress::Method& method = compress::method(s.compression.method);
  o << "exchange   " << (method.sparsifies() ? std::string(method.name()) : method.label(s.compression));
  if (method.sparsifies()) {
    std::snprintf(line, sizeof line, " rho = %.6g (k = %lld per worker), %d-byte indices, EF %s, %s", s.compression.ratio,
                  static_cast<long long>(r.selected), s.compression.index_bytes,
                  s.compression.error_feedback ? "on" : "off", to_string(s.compression.exchange));
    o << line;
  }
  o << "; collective " << r.algorithm << "; backend " << r.backend << "\n";
  if (!r.choice.empty()) o << "auto       " << r.choice << "\n";
  o << "\n";

  auto row = [&](const char* k, const std::string& v) {
    std::snprintf(line, sizeof line, "  %-42s %s\n", k, v.c_str());
    o << line;
  };
  row("iteration time", ms(r.iteration_time_s));
  if (r.iterations > 1)
    row("  over iterations: p50 / p99", ms(r.iteration_p50_s) + " / " + ms(r.iteration_p99_s) + " (" +
                                            std::to_string(r.iterations) + " iterations)");
  row("  compute (fwd + bwd + optimizer)", ms(r.compute_s));
  row("  exposed compression", ms(r.exposed_compression_s));
  row("  exposed communication", ms(r.exposed_comm_s));
  row("communication (total, overlapped or not)", ms(r.comm_s));
  row("compression (total)", ms(r.compression_s));
  row("bytes sent per worker", mb(r.bytes_sent_per_worker));
  row("bytes received per worker", mb(r.bytes_received_per_worker));
  row("T_iter(1), one worker", ms(r.iteration_time_p1_s));
  row("efficiency, weak scaling T(1)/T(P)", format_number(r.efficiency_weak));
  row("efficiency, strong (seed 2.2 form)", format_number(r.efficiency_strong));
  row("speedup P * E_weak", format_number(r.speedup));
  if (r.straggler_s > 1e-9 * r.compute_s) row("straggler delay (slowest - mean compute)", ms(r.straggler_s));
  if (!r.busiest_links.empty()) {
    o << "\nbusiest links (bytes / (capacity x simulated time))\n";
    for (const LinkLoad& l : r.busiest_links) {
      std::snprintf(line, sizeof line, "  %-42s %5.1f %%  %s\n", l.name.c_str(), 100.0 * l.utilization,
                    mb(l.bytes).c_str());
      o << line;
    }
    std::snprintf(line, sizeof line, "\n%llu events, %llu messages\n", static_cast<unsigned long long>(r.events),
                  static_cast<unsigned long long>(r.messages));
    o << line;
    if (r.collectives > 0) {
      // which path ran (sim/collectives/fast_ring.h)
      std::snprintf(line, sizeof line, "%llu of %llu collectives computed without flows (ring passes, sim/collectives/fast_ring.h), "
                    "the rest message by message\n", static_cast<unsigned long long>(r.fast_collectives),
                    static_cast<unsigned long long>(r.collectives));
      o << line;
    }
  }
  return o.str();
}

}  // namespace gcsim
