#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <sstream>

#include "config/input_error.h"
#include "sweep/atomic_file.h"
#include "tools/gcsim/cli.h"

#ifndef GCSIM_SOURCE_DIR
#define GCSIM_SOURCE_DIR "."
#endif

namespace gcsim::cli {

namespace po = boost::program_options;

namespace {

template <typename T>
bool is_unsigned_option(const po::value_semantic* v) {
  return dynamic_cast<const po::typed_value<T>*>(v) != nullptr;
}

// Boost converts "-1" to an unsigned option as 2^N - 1: refuse it here, once for every command.
void reject_negative_unsigned(const po::parsed_options& parsed, const po::options_description& all) {
  for (const auto& o : parsed.options) {
    if (o.string_key.empty() || o.value.empty()) continue;
    const po::option_description* d = all.find_nothrow(o.string_key, false);
    if (!d) continue;
    const po::value_semantic* v = d->semantic().get();
    if (!(is_unsigned_option<unsigned>(v) || is_unsigned_option<unsigned long>(v) ||
          is_unsigned_option<unsigned long long>(v) || is_unsigned_option<unsigned short>(v)))
      continue;
    for (const auto& text : o.value) {
      const auto first = text.find_first_not_of(" \t");
      if (first != std::string::npos && text[first] == '-')
        throw InputError("--" + o.string_key + " " + text, "", "must be >= 0 (not negative)");
    }
  }
}

}  // namespace

po::variables_map parse_args(const std::vector<std::string>& args, const po::options_description& opts,
                             const char* positional) {
  return parse_args(args, opts, po::options_description(), positional);
}

po::variables_map parse_args(const std::vector<std::string>& args, const po::options_description& opts,
                             const po::options_description& hidden, const char* positional) {
  po::options_description pos_opt;
  pos_opt.add_options()(positional, po::value<std::string>());
  po::options_description all;
  all.add(opts).add(hidden).add(pos_opt);
  po::positional_options_description pos;
  pos.add(positional, 1);
  const po::parsed_options parsed = po::command_line_parser(args).options(all).positional(pos).run();
  reject_negative_unsigned(parsed, all);
  po::variables_map vm;
  po::store(parsed, vm);
  po::notify(vm);
  return vm;
}

void check_output_file(const std::string& path, bool force, const std::string& flag) {
  const std::string where = flag.empty() ? path : flag + " " + path;
  if (is_stdout(path))
    throw InputError(where, "", "this output cannot go to stdout; give a file name (./- for a file named '-')");
  if (path.empty()) throw InputError(flag, "", "needs a file name");
  const std::string kind = non_regular_kind(path);
  if (!kind.empty()) throw InputError(where, "", "is " + kind + "; only a regular file is replaced");
  std::error_code ec;
  if (std::filesystem::exists(std::filesystem::symlink_status(path, ec)) && !force)
    throw InputError(where, "", "already exists; pass --force to overwrite it");
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty() && !std::filesystem::is_directory(parent, ec))
    throw InputError(where, "", "directory " + parent.string() + " does not exist");
  const std::string dir = parent.empty() ? "." : parent.string();
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    throw InputError(where, "", "cannot write in directory " + dir + ": " + std::strerror(errno));
}

void check_distinct_outputs(const std::vector<std::pair<std::string, std::string>>& outputs) {
  namespace fs = std::filesystem;
  std::vector<std::pair<std::string, fs::path>> seen;
  for (const auto& [flag, path] : outputs) {
    if (path.empty() || is_stdout(path)) continue;
    std::error_code ec;
    fs::path canon = fs::weakly_canonical(fs::absolute(path), ec);
    if (ec) canon = fs::absolute(path).lexically_normal();
    for (const auto& [other_flag, other] : seen)
      if (other == canon) throw InputError(path, "", other_flag + " and " + flag + " name the same file");
    seen.emplace_back(flag, canon);
  }
}

void write_output_file(const std::string& path, const std::string& content, bool force) {
  check_output_file(path, force);
  write_file_atomically(path, content, force);
}

std::string python_interpreter() {
  if (const char* p = std::getenv("GCSIM_PYTHON"); p && *p) return p;
  if (::access("/usr/bin/python3", X_OK) == 0) return "/usr/bin/python3";
  return "python3";
}

std::string source_path(const std::string& relative) {
  return (std::filesystem::path(GCSIM_SOURCE_DIR) / relative).string();
}

std::vector<std::string> split_list(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, sep);)
    if (!item.empty()) out.push_back(item);
  return out;
}

std::string today_utc() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

}  // namespace gcsim::cli
