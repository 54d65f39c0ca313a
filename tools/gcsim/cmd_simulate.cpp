// gcsim simulate SCENARIO.toml [--set key=value ...] [--format table|csv|json] [--out FILE]
#include <boost/program_options.hpp>

#include <filesystem>
#include <iostream>

#include "config/input_error.h"
#include "config/scenario_loader.h"
#include "sim/analytic/iteration.h"
#include "sim/des/training_sim.h"
#include "sim/output/result_format.h"
#include "sweep/atomic_file.h"
#include "tools/gcsim/cli.h"

namespace po = boost::program_options;

namespace gcsim::cli {

int cmd_simulate(const std::vector<std::string>& args) {
  po::options_description opts("gcsim simulate SCENARIO.toml [options]");
  std::string format = "table";
  std::string backend = "des";
  std::string out;
  std::string trace;
  int trace_ranks = 16;
  opts.add_options()("help,h", "show this help")(
      "set", po::value<std::vector<std::string>>()->composing(),
      "override a scenario key, e.g. --set cluster.workers=64 (repeatable; value in TOML syntax)")(
      "format", po::value(&format)->default_value("table"), "table | csv | json")(
      "backend", po::value(&backend)->default_value("des"),
      "des (discrete-event simulator: topology, shared links, stragglers) | analytic (closed-form alpha-beta)")(
      "trace", po::value(&trace), "des: write a Chrome/Perfetto trace (JSON) of the run to FILE")(
      "trace-ranks", po::value(&trace_ranks)->default_value(16), "des: workers with their own tracks in the trace")(
      "out", po::value(&out), "write the output to FILE (atomically) instead of stdout; - is stdout")(
      "force", "overwrite --out / --trace FILE if it is a regular file");
  const po::variables_map vm = parse_args(args, opts, "scenario");
  if (vm.count("help")) {
    std::cout << opts << "\nPrints the predicted iteration time, its breakdown (compute, exposed compression,\n"
                         "exposed communication), bytes per worker, weak- and strong-scaling efficiency and speedup.\n";
    return kExitOk;
  }
  if (!vm.count("scenario")) throw InputError("missing SCENARIO.toml (try --help)");
  if (format != "table" && format != "csv" && format != "json")
    throw InputError("--format " + format, "", "expected table, csv or json");
  if (backend != "analytic" && backend != "des") throw InputError("--backend " + backend, "", "expected des or analytic");
  if (!trace.empty() && backend != "des") throw InputError("--trace", "", "needs --backend des");
  if (trace_ranks < 1) throw InputError("--trace-ranks " + std::to_string(trace_ranks), "", "must be >= 1");

  // Every output is checked, and must be distinct, before the run and before any is written.
  const bool force = vm.count("force") > 0;
  if (!trace.empty()) check_output_file(trace, force, "--trace");
  if (!out.empty() && !is_stdout(out)) check_output_file(out, force, "--out");
  check_distinct_outputs({{"--trace", trace}, {"--out", out}});

  std::vector<std::string> sets;
  if (vm.count("set")) sets = vm["set"].as<std::vector<std::string>>();
  const Scenario s = load_scenario(vm["scenario"].as<std::string>(), sets, backend);
  ChromeTrace chrome;
  IterationResult r;
  if (backend == "des") {
    DesOptions o;
    if (!trace.empty()) o.trace = &chrome;
    o.trace_ranks = trace_ranks;
    r = simulate_des(s, o).result;
  } else {
    r = simulate_analytic(s);
  }

  std::string text;
  if (format == "json") {
    text = format_json(s, r);
  } else if (format == "csv") {
    Columns cols = config_columns(s, r);
    for (auto& c : metric_columns(r)) cols.push_back(c);
    text = csv_header(cols) + "\n" + csv_row(cols) + "\n";
  } else {
    text = format_table(s, r);
  }
  AtomicFileSet files;  // all or none: a failed second write removes the first
  if (!trace.empty()) files.stage(trace, chrome.json(), force);
  if (!out.empty() && !is_stdout(out)) files.stage(out, text, force);
  files.commit();
  if (out.empty() || is_stdout(out)) std::cout << text;
  return kExitOk;
}

}  // namespace gcsim::cli
