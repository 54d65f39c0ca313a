#include "calib/collective_csv.h"

#include <cmath>
#include <fstream>
#include <sstream>

#include "config/input_error.h"

namespace gcsim::calib {

namespace {
const char* const kHeader = "op,bytes,wire_bytes,median_s,min_s,max_s,spread,repeats,wrong,variant";
const char* const kHeaderV1 = "op,bytes,wire_bytes,median_s,min_s,max_s,spread,repeats";
}  // namespace

std::string measurements_csv(const std::vector<CollectiveMeasurement>& ms) {
  std::ostringstream o;
  o.precision(9);
  o << kHeader << "\n";
  for (const auto& m : ms)
    o << m.op << ',' << m.bytes << ',' << m.wire_bytes << ',' << m.seconds.median << ',' << m.seconds.min << ','
      << m.seconds.max << ',' << m.seconds.spread << ',' << m.seconds.count << ',' << m.wrong << ',' << m.variant << '\n';
  return o.str();
}

std::vector<CollectiveMeasurement> read_measurements_csv(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw InputError(path, "", "cannot open file");
  std::string line;
  if (!std::getline(f, line) || (line != kHeader && line != kHeaderV1))
    throw InputError(path, "", std::string("not a collectives CSV (its first line must be '") + kHeader + "')");
  const std::size_t columns = line == kHeader ? 10 : 8;
  std::vector<CollectiveMeasurement> ms;
  while (std::getline(f, line)) {
    std::vector<std::string> v;
    std::istringstream in(line);
    for (std::string field; std::getline(in, field, ',');) v.push_back(field);
    if (columns == 10 && v.size() == 9 && !line.empty() && line.back() == ',') v.emplace_back();  // empty variant
    const std::string where = path + ":" + std::to_string(ms.size() + 2);
    bool known = false;
    if (!v.empty())
      for (const auto& op : all_ops()) known = known || v[0] == op;
    if (v.size() != columns || !known)
      throw InputError(where, "", "want a collective (allreduce, allgather, reduce_scatter, broadcast) and " +
                                      std::to_string(columns - 1) + " fields, got '" + line + "'");
    CollectiveMeasurement m;
    try {
      m.op = v[0];
      m.bytes = std::stoull(v[1]);
      m.wire_bytes = std::stod(v[2]);
      m.seconds.median = std::stod(v[3]);
      m.seconds.min = std::stod(v[4]);
      m.seconds.max = std::stod(v[5]);
      m.seconds.spread = std::stod(v[6]);
      m.seconds.count = std::stoi(v[7]);
      if (columns == 10) {
        m.wrong = std::stoull(v[8]);
        m.variant = v[9];
      }
    } catch (const std::exception&) {
      throw InputError(where, "", "a field is not a number: '" + line + "'");
    }
    if (!(m.seconds.median > 0.0 && std::isfinite(m.seconds.median) && m.wire_bytes >= 0.0))
      throw InputError(where, "", "median_s must be a positive number and wire_bytes >= 0");
    ms.push_back(m);
  }
  return ms;
}

}  // namespace gcsim::calib
