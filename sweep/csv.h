// Minimal CSV reading (RFC 4180 quoting, one record per line) for --resume.
#pragma once

#include <string>
#include <vector>

namespace gcsim {

std::vector<std::string> split_csv_line(const std::string& line);

}  // namespace gcsim
