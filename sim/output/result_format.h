// Formats a scenario's result as a table, CSV or JSON. Sweeps reuse the CSV
// columns, one row per point.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "sim/result.h"
#include "sim/scenario.h"

namespace gcsim {

using Columns = std::vector<std::pair<std::string, std::string>>;

// The configuration columns (what was simulated) and the metric columns.
Columns config_columns(const Scenario& s, const IterationResult& r);
Columns metric_columns(const IterationResult& r);

std::string csv_header(const Columns& cols);
std::string csv_row(const Columns& cols);  // quotes fields when needed

std::string format_json(const Scenario& s, const IterationResult& r);
std::string format_table(const Scenario& s, const IterationResult& r);

std::string format_number(double v);  // shortest round-trip-ish (%.10g)
std::string json_escape(const std::string& s);  // the body of a JSON string

}  // namespace gcsim
