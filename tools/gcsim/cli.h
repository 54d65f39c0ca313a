// The gcsim command line: one function per subcommand, and shared helpers.
#pragma once

#include <boost/program_options.hpp>

#include <string>
#include <utility>
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
int cmd_validate(const std::vector<std::string>& args);  // predictions against the emulated cluster

inline constexpr int kExitOk = 0;
inline constexpr int kExitRuntime = 1;   // something failed while running (a failed write to stdout too)
inline constexpr int kExitBadInput = 2;  // bad input: TOML, flags, data files

// Parses `args` against `opts` (shown by --help), `hidden` (accepted, not
// shown: options the launcher passes to worker processes) and one positional
// argument stored under `positional`. A negative value for an unsigned option
// (which Boost would wrap to a huge number) is an InputError naming the flag.
boost::program_options::variables_map parse_args(const std::vector<std::string>& args,
                                                 const boost::program_options::options_description& opts,
                                                 const char* positional);
boost::program_options::variables_map parse_args(const std::vector<std::string>& args,
                                                 const boost::program_options::options_description& opts,
                                                 const boost::program_options::options_description& hidden,
                                                 const char* positional);

// Output files. `-` is not a file name here: commands that print text map
// `--out -` to stdout before calling these (is_stdout), the others refuse it.
inline bool is_stdout(const std::string& path) { return path == "-"; }

// Call before long work whose result goes to `path` (named in messages as
// "FLAG PATH" when `flag` is given). Throws InputError when `path` is `-`,
// when something other than a regular file is there (a directory, symlink,
// FIFO, socket or device is never replaced, even with --force), when a file
// is there and `force` is false, or when its directory does not exist or
// cannot be written.
void check_output_file(const std::string& path, bool force, const std::string& flag = "");

// Throws InputError when two of the (flag, path) outputs are the same file
// (empty paths and `-` are skipped): "PATH: --trace and --out name the same file".
void check_distinct_outputs(const std::vector<std::pair<std::string, std::string>>& outputs);

// Writes `content` to `path` atomically after check_output_file (see
// sweep/atomic_file.h for the errors; for several outputs of one run use
// AtomicFileSet there, so that none is written unless all are).
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
