// nccl-tests logs (see nccl_tests_log.h).
#include "calib/nccl_tests_log.h"

#include <cmath>
#include <cstdio>
#include <sstream>
#include <stdexcept>

namespace gcsim::calib {

namespace {

[[noreturn]] void bad(const std::string& where, const std::string& what) {
  throw std::invalid_argument(where + ": " + what);
}

bool is_number(const std::string& s, double& v) {
  char* end = nullptr;
  v = std::strtod(s.c_str(), &end);
  return end != s.c_str() && *end == '\0' && std::isfinite(v);
}

}  // namespace

NcclTestsLog parse_nccl_tests_log(const std::string& text, const std::string& name) {
  NcclTestsLog log;
  std::istringstream in(text);
  std::string line;
  int lineno = 0;
  struct Row {
    double size, us;
    int line;
  };
  std::vector<Row> rows;
  while (std::getline(in, line)) {
    ++lineno;
    std::istringstream ls(line);
    std::vector<std::string> f;
    for (std::string w; ls >> w;) f.push_back(w);
    if (f.empty()) continue;
    if (f[0][0] == '#') {
      for (const std::string& op : all_collectives())
        if (line.find(nccl_tests_binary(op)) != std::string::npos) log.op = op;
      // "#  Rank  0 Group  0 Pid 123 on host device  0 [0x07] NVIDIA ..."
      if (f.size() >= 3 && (f[0] == "#" ? f[1] == "Rank" : f[0] == "#Rank")) ++log.ranks;
      continue;
    }
    // size count type redop root time algbw busbw #wrong [time algbw busbw #wrong]
    if (f.size() < 9) bad(name + ":" + std::to_string(lineno), "not an nccl-tests data row (" + std::to_string(f.size()) + " fields, want 9 or 13)");
    double size = 0, count = 0, us = 0, wrong = 0, algbw = 0, busbw = 0;
    if (!is_number(f[0], size) || !is_number(f[1], count) || !is_number(f[5], us) || !is_number(f[6], algbw) ||
        !is_number(f[7], busbw))
      bad(name + ":" + std::to_string(lineno), "not an nccl-tests data row (size, count, time, algbw, busbw must be numbers)");
    for (const std::size_t col : {std::size_t{8}, std::size_t{12}})  // out-of-place, in-place
      if (col < f.size() && is_number(f[col], wrong) && wrong > 0)
        bad(name + ":" + std::to_string(lineno), "#wrong = " + f[col] + ": nccl-tests' data check failed for this size");
    if (!(us > 0) || !(size > 0)) continue;  // nccl-tests prints size 0 rows for some ops
    if (log.op.empty() && f[3] == "none") log.op = "allgather";  // all_gather_perf has no reduction
    rows.push_back({size, us, lineno});
  }
  if (log.op.empty()) {
    if (name.find("all_reduce") != std::string::npos || name.find("allreduce") != std::string::npos) log.op = "allreduce";
    if (name.find("all_gather") != std::string::npos || name.find("allgather") != std::string::npos) log.op = "allgather";
  }
  if (log.op.empty())
    bad(name, "cannot tell the collective (no all_reduce_perf / all_gather_perf / reduce_scatter_perf / broadcast_perf "
              "in the log or its name)");
  if (log.ranks < 2) bad(name, "names " + std::to_string(log.ranks) + " rank(s) ('# Rank' lines); a fit needs 2 or more");
  if (rows.empty()) bad(name, "no data rows (not nccl-tests output?)");
  const int P = log.ranks;
  const bool parted = log.op == coll::allgather || log.op == coll::reduce_scatter;
  for (const Row& r : rows) {
    CollectiveMeasurement m;
    m.op = log.op;
    const double bytes = parted ? r.size / P : r.size;
    if (bytes != std::floor(bytes))
      bad(name + ":" + std::to_string(r.line), "a " + log.op + " size that is not " + std::to_string(P) + " equal parts");
    m.bytes = static_cast<std::size_t>(bytes);
    m.wire_bytes = wire_bytes(log.op, m.bytes, P);
    m.seconds = summarize({r.us * 1e-6});
    log.rows.push_back(m);
  }
  return log;
}

const char* nccl_tests_binary(const std::string& op) {
  check_collective(op);
  if (op == coll::allreduce) return "all_reduce_perf";
  if (op == coll::allgather) return "all_gather_perf";
  if (op == coll::reduce_scatter) return "reduce_scatter_perf";
  if (op == coll::broadcast) return "broadcast_perf";
  throw std::invalid_argument(op + " is gcsim's own, not an nccl-tests collective");
}

std::string format_nccl_tests_table(const std::string& op, int ranks, const std::vector<CollectiveMeasurement>& rows,
                                    const std::vector<std::string>& devices, const std::string& note) {
  const bool reduces = op == coll::allreduce || op == coll::reduce_scatter;
  const bool parted = op == coll::allgather || op == coll::reduce_scatter;
  std::string out = std::string("# Collective test starting: ") + nccl_tests_binary(op) + "\n";
  if (!note.empty()) out += "# " + note + "\n";
  out += "# nThread 1 nGpus " + std::to_string(ranks) + "\n#\n# Using devices\n";
  char b[320];
  for (int r = 0; r < ranks; ++r) {
    const std::string dev = r < static_cast<int>(devices.size()) ? devices[static_cast<std::size_t>(r)] : "unknown";
    std::snprintf(b, sizeof b, "#  Rank %2d Group  0 Pid  %5d on      node0 device %2d [0x%02x] %s\n", r, 1000 + r, r,
                  0x10 + r, dev.c_str());
    out += b;
  }
  out += "#\n#                                                              out-of-place                       in-place\n"
         "#       size         count      type   redop    root     time   algbw   busbw #wrong     time   algbw   busbw #wrong\n"
         "#        (B)    (elements)                               (us)  (GB/s)  (GB/s)            (us)  (GB/s)  (GB/s)\n";
  double bus_sum = 0.0;
  for (const CollectiveMeasurement& m : rows) {
    if (m.op != op) continue;
    const std::size_t size = nccl_tests_size(op, m.bytes, ranks);
    const double us = m.seconds.median * 1e6;
    const double algbw = static_cast<double>(size) / m.seconds.median / 1e9;
    const double busbw = algbw * bus_factor(op, ranks);
    bus_sum += busbw;
    // in-place: not measured (gcsim times out-of-place only), as nccl-tests prints what it did not check
    std::snprintf(b, sizeof b, "%12zu  %12zu     float  %6s  %6d  %7.2f  %6.2f  %6.2f  %5llu  %7s  %6s  %6s  %5s\n", size,
                  size / 4 / (parted ? static_cast<std::size_t>(ranks) : 1), reduces ? "sum" : "none",
                  op == coll::broadcast ? 0 : -1, us, algbw, busbw, static_cast<unsigned long long>(m.wrong), "N/A",
                  "N/A", "N/A", "N/A");
    out += b;
  }
  std::snprintf(b, sizeof b, "# Out of bounds values : 0 OK\n# Avg bus bandwidth    : %g \n#\n",
                rows.empty() ? 0.0 : bus_sum / static_cast<double>(rows.size()));
  out += b;
  return out;
}

std::string format_nccl_tests_log(const std::string& op, int ranks, const std::vector<std::pair<std::size_t, double>>& size_us) {
  const bool ar = op == "allreduce";
  std::string out = std::string("# Collective test starting: ") + (ar ? "all_reduce_perf" : "all_gather_perf") +
                    "\n# nThread 1 nGpus " + std::to_string(ranks) +
                    " minBytes 8 maxBytes 1073741824 step: 2(factor) warmup iters: 5 iters: 20 agg iters: 1 "
                    "validation: 1 graph: 0\n#\n# Using devices\n";
  char b[256];
  for (int r = 0; r < ranks; ++r) {
    std::snprintf(b, sizeof b, "#  Rank %2d Group  0 Pid  %5d on      node0 device %2d [0x%02x] NVIDIA H100 80GB HBM3\n", r,
                  1000 + r, r, 0x10 + r);
    out += b;
  }
  out += "#\n#                                                              out-of-place                       in-place\n"
         "#       size         count      type   redop    root     time   algbw   busbw #wrong     time   algbw   busbw #wrong\n"
         "#        (B)    (elements)                               (us)  (GB/s)  (GB/s)            (us)  (GB/s)  (GB/s)\n";
  for (const auto& [size, us] : size_us) {
    const double algbw = static_cast<double>(size) / (us * 1e-6) / 1e9;
    const double busbw = algbw * (ar ? 2.0 * (ranks - 1) / ranks : (ranks - 1.0) / ranks);
    std::snprintf(b, sizeof b, "%12zu  %12zu     float  %6s  %6d  %7.2f  %6.2f  %6.2f  %5d  %7.2f  %6.2f  %6.2f  %5d\n", size,
                  size / 4 / (ar ? 1 : static_cast<std::size_t>(ranks)), ar ? "sum" : "none", -1, us, algbw, busbw, 0, us,
                  algbw, busbw, 0);
    out += b;
  }
  out += "# Out of bounds values : 0 OK\n# Avg bus bandwidth    : 0\n#\n";
  return out;
}

}  // namespace gcsim::calib
