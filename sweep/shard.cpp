#include "sweep/shard.h"

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "config/input_error.h"
#include "sweep/atomic_file.h"
#include "sweep/csv.h"
#include "sweep/out_dir.h"

namespace gcsim {

namespace fs = std::filesystem;

namespace {

std::string hex64(std::uint64_t h) {
  char b[17];
  std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(h));
  return b;
}

void fnv(std::uint64_t& h, const std::string& s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
}

std::string whole(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream b;
  b << f.rdbuf();
  return b.str();
}

std::size_t parse_count(const std::string& text, bool& ok) {
  ok = !text.empty() && text.size() <= 9 && text.find_first_not_of("0123456789") == std::string::npos;
  return ok ? std::stoul(text) : 0;
}

}  // namespace

Shard parse_shard(const std::string& text) {
  const auto slash = text.find('/');
  bool ok_i = false, ok_n = false;
  Shard s;
  if (slash != std::string::npos) {
    s.index = parse_count(text.substr(0, slash), ok_i);
    s.count = parse_count(text.substr(slash + 1), ok_n);
  }
  if (!ok_i || !ok_n || s.count < 1 || s.index >= s.count)
    throw InputError("--shard " + text, "", "expected I/N with 0 <= I < N (e.g. 0/8 ... 7/8)");
  return s;
}

std::string point_identity(const std::vector<std::string>& config, const std::vector<std::string>& axes,
                           const std::string& hash) {
  std::uint64_t h = 1469598103934665603ULL;
  for (const auto& f : config) fnv(h, f + "\x1f");
  fnv(h, "\x1e");
  for (const auto& f : axes) fnv(h, f + "\x1f");
  fnv(h, "\x1e" + hash);
  return hex64(h);
}

std::string shard_record_text(const ShardRecord& r) {
  std::string t = "gcsim sweep shard 1\n";
  t += "sweep " + r.sweep + "\n";
  t += "points " + std::to_string(r.points) + "\n";
  t += "shard " + std::to_string(r.shard.index) + "/" + std::to_string(r.shard.count) + "\n";
  t += "columns " + std::to_string(r.config_columns) + " " + std::to_string(r.metric_columns) + " " +
       std::to_string(r.axis_columns) + "\n";
  t += "header " + r.header + "\n";
  for (const auto& id : r.identities) t += id + "\n";
  return t;
}

ShardRecord read_shard_record(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    throw InputError(path, "", "missing: not the output directory of a `gcsim sweep --shard I/N` run");
  std::istringstream in(whole(path));
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  const auto bad = [&](const std::string& what) { return InputError(path, "", "malformed shard record: " + what); };
  const auto value = [&](std::size_t i, const std::string& key) {
    if (i >= lines.size() || lines[i].rfind(key + " ", 0) != 0) throw bad("no '" + key + "' on line " + std::to_string(i + 1));
    return lines[i].substr(key.size() + 1);
  };
  if (lines.empty() || lines[0] != "gcsim sweep shard 1") throw bad("not a shard record");
  ShardRecord r;
  r.sweep = value(1, "sweep");
  bool ok = false;
  r.points = parse_count(value(2, "points"), ok);
  if (!ok) throw bad("points");
  try {
    r.shard = parse_shard(value(3, "shard"));
  } catch (const InputError&) {
    throw bad("shard");
  }
  std::istringstream cols(value(4, "columns"));
  if (!(cols >> r.config_columns >> r.metric_columns >> r.axis_columns)) throw bad("columns");
  r.header = value(5, "header");
  r.identities.assign(lines.begin() + 6, lines.end());
  if (r.identities.size() != r.points) throw bad(std::to_string(r.identities.size()) + " identities for " +
                                                 std::to_string(r.points) + " points");
  return r;
}

MergeOutcome merge_shards(const std::vector<std::string>& dirs, const std::string& out_dir, bool force) {
  if (dirs.empty()) throw InputError("gcsim sweep merge", "", "no shard directories given");
  std::vector<ShardRecord> recs;
  for (const auto& d : dirs) recs.push_back(read_shard_record((fs::path(d) / "shard.txt").string()));
  const ShardRecord& first = recs[0];
  std::vector<int> seen(first.shard.count, -1);
  for (std::size_t i = 0; i < recs.size(); ++i) {
    const ShardRecord& r = recs[i];
    if (r.sweep != first.sweep || r.points != first.points || r.shard.count != first.shard.count ||
        r.header != first.header || r.identities != first.identities)
      throw InputError(dirs[i], "", "comes from another sweep than " + dirs[0] + " (sweep '" + r.sweep + "', " +
                                        std::to_string(r.points) + " points in " + std::to_string(r.shard.count) +
                                        " shards; there: '" + first.sweep + "', " + std::to_string(first.points) +
                                        " in " + std::to_string(first.shard.count) + ")");
    if (seen[r.shard.index] >= 0)
      throw InputError(dirs[i], "", "shard " + std::to_string(r.shard.index) + "/" + std::to_string(r.shard.count) +
                                        " is also " + dirs[static_cast<std::size_t>(seen[r.shard.index])]);
    seen[r.shard.index] = static_cast<int>(i);
  }
  for (std::size_t s = 0; s < seen.size(); ++s)
    if (seen[s] < 0)
      throw InputError("gcsim sweep merge", "", "shard " + std::to_string(s) + "/" + std::to_string(first.shard.count) +
                                                    " is missing");
  const std::size_t fields = 2 + first.config_columns + first.metric_columns + first.axis_columns;
  std::map<std::size_t, std::string> rows;
  for (std::size_t i = 0; i < recs.size(); ++i) {
    const std::string csv = (fs::path(dirs[i]) / "results.csv").string();
    std::istringstream in(whole(csv));
    std::string line;
    if (!std::getline(in, line) || line != first.header)
      throw InputError(csv, "", "its header is not the shard record's (a results.csv of another run)");
    for (std::size_t ln = 2; std::getline(in, line); ++ln) {
      const std::string where = csv + ":" + std::to_string(ln);
      if (line.empty()) continue;
      const auto f = split_csv_line(line);
      bool ok = false;
      const std::size_t p = f.empty() ? 0 : parse_count(f[0], ok);
      if (f.size() != fields || !ok || p >= first.points)
        throw InputError(where, "", "malformed row (a torn write? run that shard again with --resume)");
      if (!recs[i].shard.owns(p))
        throw InputError(where, "", "point " + std::to_string(p) + " does not belong to shard " +
                                        std::to_string(recs[i].shard.index) + "/" + std::to_string(first.shard.count));
      const std::vector<std::string> config(f.begin() + 1, f.begin() + 1 + static_cast<long>(first.config_columns));
      const auto ax = f.begin() + 1 + static_cast<long>(first.config_columns + first.metric_columns);
      const std::vector<std::string> axes(ax, ax + static_cast<long>(first.axis_columns));
      if (point_identity(config, axes, f.back()) != first.identities[p])
        throw InputError(where, "", "row for point " + std::to_string(p) + " is not that point of sweep '" +
                                        first.sweep + "' (another configuration)");
      if (!rows.emplace(p, line).second) throw InputError(where, "", "point " + std::to_string(p) + " appears twice");
    }
  }
  for (std::size_t p = 0; p < first.points; ++p)
    if (!rows.count(p))
      throw InputError(dirs[static_cast<std::size_t>(seen[p % first.shard.count])], "",
                       "point " + std::to_string(p) + " is missing (an unfinished shard: run it again with --resume)");
  MergeOutcome out;
  out.points = first.points;
  out.shards = recs.size();
  prepare_out_dir(out_dir);
  const OutDirLock lock(out_dir);
  out.results_csv = (fs::path(out_dir) / "results.csv").string();
  std::error_code ec;
  if (fs::exists(fs::symlink_status(out.results_csv, ec)) && !force)
    throw InputError(out.results_csv, "", "already exists; pass --force to overwrite it");
  std::string text = first.header + "\n";
  for (const auto& [p, row] : rows) text += row + "\n";
  write_file_atomically(out.results_csv, text, force);
  return out;
}

}  // namespace gcsim
