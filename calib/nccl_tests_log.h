// Reading nccl-tests output (github.com/NVIDIA/nccl-tests: all_reduce_perf,
// all_gather_perf, ...) into the collective measurements that
// calib/collective_sweep.h fits, so a profile can come from logs users
// already have (`gcsim calibrate collectives --from-nccl-tests LOG...`).
//
// A log is nccl-tests' stdout: '#' header lines, among them one
// "#  Rank  R Group ... device ..." line per rank (their count is P), and
// one data row per size:
//
//   size count type redop root | time algbw busbw #wrong | time algbw busbw #wrong
//
// (out-of-place, then in-place; time in microseconds, bandwidths in GB/s).
// The out-of-place time is taken. nccl-tests' definitions: all_reduce_perf's
// size is the buffer (n bytes), algbw = n / t and busbw = algbw * 2 (P-1) / P;
// all_gather_perf's size is the whole gathered buffer (P parts), busbw =
// algbw * (P-1) / P. Here: allreduce bytes = n, wire bytes 2 (P-1) / P n;
// allgather bytes = one part = size / P, wire bytes (P-1) parts. Which
// collective a log holds comes from its header ("all_reduce_perf" or
// "all_gather_perf" in the command line nccl-tests echoes, or the column
// layout) or, failing that, from the file name.
#pragma once

#include <string>
#include <vector>

#include "calib/collective_bench.h"
#include "calib/collective_sweep.h"

namespace gcsim::calib {

struct NcclTestsLog {
  std::string op;   // "allreduce" or "allgather"
  int ranks = 0;    // P: the "# Rank" lines
  std::vector<CollectiveMeasurement> rows;
};

// Parses one log's text; `name` is its path (errors name "name:line").
// Throws std::invalid_argument (one line, located) for what is not
// nccl-tests output: no data rows, no rank lines, a row whose numbers do not
// parse, a size that is not P parts of an allgather, or a row with #wrong > 0
// (nccl-tests' data check failed: its times are not to be trusted).
NcclTestsLog parse_nccl_tests_log(const std::string& text, const std::string& name);

// nccl-tests' program for `op`: "all_reduce_perf", "all_gather_perf",
// "reduce_scatter_perf", "broadcast_perf".
const char* nccl_tests_binary(const std::string& op);

// The rows of `op` among `rows` as that program prints them: its header,
// one "# Rank" line per rank naming `devices[r]`, a `note` line (what was
// forced, e.g. "NCCL_ALGO=Tree NCCL_PROTO=Simple"), then size, count, type,
// redop, root, and the out-of-place time (us, %.2f), algbw, busbw (GB/s,
// nccl-tests' definitions) and #wrong; the in-place columns say N/A (gcsim
// times out-of-place only). parse_nccl_tests_log reads it back.
std::string format_nccl_tests_table(const std::string& op, int ranks, const std::vector<CollectiveMeasurement>& rows,
                                    const std::vector<std::string>& devices, const std::string& note);

// A log in nccl-tests' layout for `op` ("allreduce" or "allgather") over P
// ranks from (nccl-tests size, microseconds) pairs, the in-place columns a
// copy of the out-of-place ones, for tests and examples: any size is
// printed as given, so a test can make a malformed one.
std::string format_nccl_tests_log(const std::string& op, int ranks, const std::vector<std::pair<std::size_t, double>>& size_us);

}  // namespace gcsim::calib
