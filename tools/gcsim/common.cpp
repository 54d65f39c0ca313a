#include <unistd.h>

#include <cstdlib>
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

po::variables_map parse_args(const std::vector<std::string>& args, const po::options_description& opts,
                             const char* positional) {
  po::options_description hidden;
  hidden.add_options()(positional, po::value<std::string>());
  po::options_description all;
  all.add(opts).add(hidden);
  po::positional_options_description pos;
  pos.add(positional, 1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
  po::notify(vm);
  return vm;
}

void check_output_file(const std::string& path, bool force) {
  if (std::filesystem::exists(path) && !force)
    throw InputError(path, "", "already exists; pass --force to overwrite it");
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty() && !std::filesystem::is_directory(parent))
    throw InputError(path, "", "directory " + parent.string() + " does not exist");
}

void write_output_file(const std::string& path, const std::string& content, bool force) {
  check_output_file(path, force);
  write_file_atomically(path, content);
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
