#include "sweep/sweep_runner.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

#include "config/input_error.h"
#include "config/run_limits.h"
#include "sim/output/result_format.h"
#include "sweep/atomic_file.h"
#include "sweep/config_hash.h"
#include "sweep/csv.h"
#include "sweep/out_dir.h"
#include "sweep/progress_bar.h"
#include "sweep/shard.h"
#include "sweep/thread_pool.h"

namespace gcsim {

namespace fs = std::filesystem;

namespace {

}  // namespace

std::string axis_value_text(const toml::node& v) {
  if (const auto* s = v.as_string()) return s->get();
  if (const auto* i = v.as_integer()) return std::to_string(i->get());
  if (const auto* d = v.as_floating_point()) return format_number(d->get());
  if (const auto* b = v.as_boolean()) return b->get() ? "true" : "false";
  std::ostringstream os;
  if (const auto* a = v.as_array()) {
    os << *a;
  } else if (const auto* t = v.as_table()) {
    os << *t;
  } else {
    os << v.type();
  }
  std::string text = os.str();
  for (char& c : text)
    if (c == '\n' || c == '\r') c = ' ';
  return text;
}

namespace {

// "sweep.toml: point 3 (a = 1 at sweep.toml:4:8, b = 2 at ...)".
std::string point_where(const SweepSpec& spec, std::size_t point) {
  std::string m = spec.path + ": point " + std::to_string(point) + " (";
  const auto values = spec.point_values(point);
  for (std::size_t i = 0; i < values.size(); ++i)
    m += (i ? ", " : "") + values[i].key + " = " + axis_value_text(*values[i].value) + " at " + values[i].origin;
  return m + ")";
}

// What identifies a point's row: everything but the point index and the metrics.
struct PointId {
  std::string config_csv;  // the configuration columns, as CSV
  std::string axes_csv;    // the swept keys' values, as CSV
  std::string hash;        // config_hash, 16 hex digits
  std::size_t group = 0;   // the first point with the same hash
};

struct Layout {
  std::string header;
  std::size_t fields = 0;  // per row
  std::size_t config = 0;  // configuration columns, after `point`
  std::size_t metrics = 0;
  std::size_t axes = 0;    // then the axis columns, then config_hash
};

// Rows of an earlier run of the same sweep, keyed by point. Rejects a file
// from another sweep or another configuration; drops a torn last row (cut off
// mid-write, or with the wrong number of fields), which is run again.
std::map<std::size_t, std::string> read_previous(const std::string& path, const Layout& lay,
                                                 const std::vector<PointId>& ids, const Shard& shard,
                                                 std::size_t& torn) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  std::string text = buf.str();
  std::map<std::size_t, std::string> rows;
  if (text.empty()) return rows;
  if (text.back() != '\n') {
    const auto nl = text.rfind('\n');
    text.erase(nl == std::string::npos ? 0 : nl + 1);
    ++torn;
  }
  std::vector<std::string> lines;
  {
    std::istringstream ls(text);
    for (std::string l; std::getline(ls, l);) lines.push_back(l);
  }
  if (lines.empty()) return rows;
  if (lines[0] != lay.header)
    throw InputError(path, "",
                     "its columns differ from this sweep's (another sweep, or another gcsim); use another --out or "
                     "pass --force to overwrite");
  if (lines.size() > 1 && !lines.back().empty() && split_csv_line(lines.back()).size() != lay.fields) {
    lines.pop_back();
    ++torn;
  }
  for (std::size_t li = 1; li < lines.size(); ++li) {
    const std::string& line = lines[li];
    const std::string where = path + ":" + std::to_string(li + 1);
    if (line.empty()) continue;
    const auto fields = split_csv_line(line);
    if (fields.size() != lay.fields)
      throw InputError(where, "", "malformed row (" + std::to_string(fields.size()) + " fields, the header has " +
                                      std::to_string(lay.fields) + ")");
    std::size_t point = 0;
    try {
      std::size_t used = 0;
      point = std::stoul(fields[0], &used);
      if (used != fields[0].size()) throw std::invalid_argument("point");
    } catch (...) {
      throw InputError(where, "point", "malformed row (no point index)");
    }
    if (point >= ids.size())
      throw InputError(where, "", "point " + std::to_string(point) + " is not in this sweep; it comes from another sweep");
    if (!shard.owns(point))
      throw InputError(where, "", "point " + std::to_string(point) + " is not in shard " + std::to_string(shard.index) +
                                      "/" + std::to_string(shard.count) + ": this results.csv is another shard's");
    const PointId& want = ids[point];
    // Configuration and axis columns first (the friendlier message), then the hash.
    std::vector<std::pair<std::size_t, std::string>> expect;
    const auto cfg = split_csv_line(want.config_csv);
    for (std::size_t i = 0; i < cfg.size(); ++i) expect.emplace_back(1 + i, cfg[i]);
    const auto ax = split_csv_line(want.axes_csv);
    for (std::size_t i = 0; i < lay.axes; ++i) expect.emplace_back(1 + lay.config + lay.metrics + i, ax[i]);
    const auto header = split_csv_line(lay.header);
    for (const auto& [col, value] : expect)
      if (fields[col] != value)
        throw InputError(where, header[col],
                         "row for point " + std::to_string(point) + " has '" + fields[col] + "', this sweep has '" +
                             value + "': the file comes from another sweep; use another --out or --force");
    if (fields.back() != want.hash)
      throw InputError(where, "config_hash",
                       "row for point " + std::to_string(point) + " was simulated with another configuration (" +
                           fields.back() + ", this sweep's point is " + want.hash +
                           "): the base scenario, its profile or a value changed since; use another --out or --force");
    rows[point] = line;
  }
  return rows;
}

}  // namespace

SweepOutcome run_sweep(const SweepSpec& spec, const SweepOptions& opt, const Simulator& simulate) {
  IterationResult blank;
  blank.backend = opt.backend;
  return run_points(spec, opt, {metric_columns(blank), [&](const Scenario& s, std::size_t) {
                                  return metric_columns(simulate(s));
                                }});
}

SweepOutcome run_points(const SweepSpec& spec, const SweepOptions& opt, const PointRunner& runner) {
  SweepOutcome out;
  out.points = spec.point_count();

  // 1. Validate every point before touching the output directory: the
  //    loaders' checks, then the backend's (opt.check). Keep only what
  //    identifies each point; its Scenario is built again when it runs.
  const ScenarioSource base = read_scenario_source(spec.base_path);
  IterationResult blank;  // config columns need only the scenario and the backend
  blank.backend = opt.backend;
  std::vector<PointId> ids(out.points);
  std::unordered_map<std::string, std::size_t> first_with;
  Layout lay;
  for (std::size_t i = 0; i < out.points; ++i) {
    const ScenarioSource src = spec.point_source(base, i);
    const Scenario s = build_scenario(src);
    validate_run(s, src, opt.backend);  // the backend's memory and event limits, located at the point
    if (opt.check) {
      try {
        opt.check(s);
      } catch (const InputError&) {
        throw;
      } catch (const std::exception& e) {
        throw InputError(point_where(spec, i), "", e.what());
      }
    }
    PointId& id = ids[i];
    const Columns cfg = config_columns(s, blank);
    id.config_csv = csv_row(cfg);
    Columns axes;
    for (const auto& kv : spec.point_values(i)) axes.emplace_back(kv.key, axis_value_text(*kv.value));
    id.axes_csv = csv_row(axes);
    id.hash = config_hash_hex(s);
    id.group = first_with.emplace(id.hash, i).first->second;
    if (i == 0) {
      Columns all{{"point", "0"}};
      all.insert(all.end(), cfg.begin(), cfg.end());
      const Columns& metrics = runner.blank;
      all.insert(all.end(), metrics.begin(), metrics.end());
      for (auto [key, value] : axes) {
        for (const auto& c : all)
          if (c.first == key) key = "axis:" + key;  // a key named like a standard column
        all.emplace_back(key, value);
      }
      all.emplace_back("config_hash", id.hash);
      lay.header = csv_header(all);
      lay.fields = all.size();
      lay.config = cfg.size();
      lay.metrics = metrics.size();
      lay.axes = axes.size();
    }
  }

  // 2. Output directory (locked for the run) and what is already there.
  prepare_out_dir(opt.out_dir);
  const OutDirLock lock(opt.out_dir);
  out.results_csv = (fs::path(opt.out_dir) / "results.csv").string();
  remove_stale_temporaries(opt.out_dir);
  std::map<std::size_t, std::string> done;
  std::error_code ec;
  const std::string shard_txt = (fs::path(opt.out_dir) / "shard.txt").string();
  if (opt.resume && fs::exists(shard_txt, ec)) {
    const Shard was = read_shard_record(shard_txt).shard;
    if (was.index != opt.shard.index || was.count != opt.shard.count)
      throw InputError(shard_txt, "", "records shard " + std::to_string(was.index) + "/" + std::to_string(was.count) +
                                          ", not this run's; resume that one, or use another --out");
  }
  if (fs::exists(out.results_csv, ec)) {
    if (!fs::is_regular_file(out.results_csv, ec)) throw InputError(out.results_csv, "", "exists and is not a file");
    if (opt.resume) {
      done = read_previous(out.results_csv, lay, ids, opt.shard, out.torn);
    } else if (!opt.force) {
      throw InputError(out.results_csv, "", "already exists; pass --resume to continue that sweep or --force to overwrite it");
    }
  }
  out.resumed = done.size();

  auto ordered_content = [&] {
    std::string s = lay.header + "\n";
    for (const auto& [p, row] : done) s += row + "\n";
    return s;
  };
  if (opt.shard.active()) {  // what `gcsim sweep merge` checks the shards against
    ShardRecord rec;
    rec.sweep = spec.name;
    rec.points = out.points;
    rec.shard = opt.shard;
    rec.config_columns = lay.config;
    rec.metric_columns = lay.metrics;
    rec.axis_columns = lay.axes;
    rec.header = lay.header;
    for (const PointId& id : ids)
      rec.identities.push_back(point_identity(split_csv_line(id.config_csv), split_csv_line(id.axes_csv), id.hash));
    write_file_atomically(shard_txt, shard_record_text(rec));
  }
  write_file_atomically(out.results_csv, ordered_content());  // header + kept rows, nothing half-written

  // Points still to do, grouped by identical configuration: one simulation each.
  std::map<std::size_t, std::vector<std::size_t>> groups;
  std::size_t todo = 0;
  for (std::size_t i = 0; i < out.points; ++i) {
    if (!opt.shard.owns(i)) continue;
    ++out.shard_points;
    if (!done.count(i)) {
      groups[ids[i].group].push_back(i);
      ++todo;
    }
  }
  std::vector<std::vector<std::size_t>> work;
  for (auto& [g, pts] : groups) work.push_back(std::move(pts));

  // 3. Run; append each row as it finishes.
  RowAppender appender(out.results_csv);
  std::mutex mu;
  ProgressBar bar(todo, "sweep " + spec.name, opt.progress);
  run_on_pool(work.size(), opt.jobs, [&](std::size_t j) {
    const std::vector<std::size_t>& pts = work[j];
    Scenario s;
    {
      std::lock_guard<std::mutex> guard(mu);  // the loaders are not known to be thread-safe
      s = build_scenario(spec.point_source(base, pts.front()));
    }
    if (config_hash_hex(s) != ids[pts.front()].hash)
      throw std::logic_error("sweep: point " + std::to_string(pts.front()) + " resolved differently the second time");
    const Columns values = runner.run(s, pts.front());
    if (values.size() != runner.blank.size())
      throw std::logic_error("sweep: point " + std::to_string(pts.front()) + " has " + std::to_string(values.size()) +
                             " metric columns, the header " + std::to_string(runner.blank.size()));
    const std::string metrics = csv_row(values);
    {
      std::lock_guard<std::mutex> guard(mu);
      for (const std::size_t p : pts) {
        // Each point's own configuration columns (a dense point's ratio is its own), the group's result.
        const std::string row =
            std::to_string(p) + "," + ids[p].config_csv + "," + metrics + "," + ids[p].axes_csv + "," + ids[p].hash;
        appender.append(row + "\n");
        done[p] = row;
      }
    }
    bar.advance(pts.size());
  });
  bar.finish();
  out.ran = work.size();
  out.reused = todo - work.size();

  // 4. Final file in point order.
  write_file_atomically(out.results_csv, ordered_content());
  return out;
}

}  // namespace gcsim
