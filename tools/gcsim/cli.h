// The gcsim command line: one function per subcommand, and shared helpers.
#pragma once

#include <boost/program_options.hpp>

#include <string>
#include <vector>

namespace gcsim::cli {

// Each returns the process exit code. args excludes the program and subcommand names.
int cmd_simulate(const std::vector<std::string>& args);
int cmd_sweep(const std::vector<std::string>& args);
int cmd_models(const std::vector<std::string>& args);
int cmd_report(const std::vector<std::string>& args);
int cmd_calibrate(const std::vector<std::string>& args);               // kernels; collectives below
int cmd_calibrate_collectives(const std::vector<std::string>& args);  // args after "collectives"
int cmd_train(const std::vector<std::string>& args);

inline constexpr int kExitOk = 0;
inline constexpr int kExitRuntime = 1;   // something failed while running
inline constexpr int kExitBadInput = 2;  // bad input: TOML, flags, data files

// Parses `args` against `opts` plus one positional argument stored under `positional`.
boost::program_options::variables_map parse_args(const std::vector<std::string>& args,
                                                 const boost::program_options::options_description& opts,
                                                 const char* positional);

// Throws InputError naming `path` when it exists and `force` is false, or when
// its directory does not exist: call it before long work whose result goes there.
void check_output_file(const std::string& path, bool force);

// Writes `content` to `path` atomically after check_output_file.
void write_output_file(const std::string& path, const std::string& content, bool force);

// The non-empty items of `s` between `sep`s ("a,,b" -> {a, b}).
std::vector<std::string> split_list(const std::string& s, char sep = ',');

// Today's date in UTC, YYYY-MM-DD (profiles record when they were measured).
std::string today_utc();

// The Python interpreter with matplotlib ($GCSIM_PYTHON, else Debian's /usr/bin/python3).
std::string python_interpreter();
// A file shipped in the source tree (tools/, scenarios/).
std::string source_path(const std::string& relative);

}  // namespace gcsim::cli
