// gcsim calibrate kernels [--device cpu|cuda] --out PROFILE.toml [options]
// (gcsim calibrate collectives: cmd_calibrate_collectives.cpp)
#include <boost/program_options.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <map>
#include <sstream>

#include "calib/cost_fit.h"
#include "calib/kernel_sweep.h"
#include "calib/profile_writer.h"
#include "config/input_error.h"
#include "config/profile_loader.h"
#include "kernels/backend.h"
#include "sweep/atomic_file.h"
#include "sweep/progress_bar.h"
#include "tools/gcsim/cli.h"

namespace po = boost::program_options;

namespace gcsim::cli {

namespace {

std::vector<double> parse_ratios(const std::string& s) {
  std::vector<double> out;
  for (const auto& item : split_list(s)) {
    std::size_t used = 0;
    double v = 0.0;
    try {
      v = std::stod(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != item.size() || !(v > 0.0 && v <= 1.0))
      throw InputError("--ratios " + s, "", "'" + item + "' is not a ratio in (0, 1]");
    out.push_back(v);
  }
  if (out.empty()) throw InputError("--ratios " + s, "", "needs at least one ratio");
  return out;
}

std::string measurements_csv(const std::vector<calib::KernelMeasurement>& ms, const kernels::DeviceInfo& d) {
  std::ostringstream o;
  o << "backend,device,op,n,rho,k,median_s,min_s,max_s,spread,repeats\n";
  o.precision(9);
  for (const auto& m : ms)
    o << d.backend << ",\"" << d.device << "\"," << m.op << ',' << m.n << ',' << m.rho << ',' << m.k << ','
      << m.seconds.median << ',' << m.seconds.min << ',' << m.seconds.max << ',' << m.seconds.spread << ','
      << m.seconds.count << '\n';
  return o.str();
}

// "topk, ef_topk, ..." from calibrate's op table.
std::string op_list() {
  std::string list;
  for (const auto& op : calib::kernel_ops()) list += (list.empty() ? "" : ", ") + op;
  return list;
}

}  // namespace

int cmd_calibrate(const std::vector<std::string>& args) {
  if (!args.empty() && args[0] == "collectives") return cmd_calibrate_collectives({args.begin() + 1, args.end()});
  po::options_description opts("gcsim calibrate kernels --out PROFILE.toml [options]");
  std::string device, out, base, ratios, ops, csv;
  double min_n = 0, max_n = 0;
  int per_decade = 0, repeats = 0, warmup = 0, parts = 0;
  double cold_mib = 0;
  unsigned threads = 0;
  opts.add_options()("help,h", "show this help")(
      "device", po::value(&device)->default_value("cpu"), "cpu (fast CPU path) | cuda | cpu-reference")(
      "out", po::value(&out), "profile to write (refuses to replace an existing file without --force)")(
      "force", "overwrite --out / --csv if they are regular files")(
      "base", po::value(&base)->default_value(source_path("scenarios/profiles/default.toml")),
      "profile to copy the collective figures, GPU table and unmeasured ops from")(
      "min-n", po::value(&min_n)->default_value(1e4), "smallest tensor size")(
      "max-n", po::value(&max_n)->default_value(1e8), "largest tensor size")(
      "per-decade", po::value(&per_decade)->default_value(2), "sizes per decade: 1 (1x), 2 (1x, 3x) or 3 (1x, 2x, 5x)")(
      "ratios", po::value(&ratios)->default_value("0.1,0.01,0.001"), "density ratios rho, comma-separated")(
      "ops", po::value(&ops)->default_value(""), "ops to measure, comma-separated (default: all)")(
      "repeats", po::value(&repeats)->default_value(7), "timed repeats per point (the median is fitted)")(
      "warmup", po::value(&warmup)->default_value(2), "untimed runs before the repeats")(
      "parts", po::value(&parts)->default_value(4), "contributions per scatter_add / sign_decode / qsgd_dequantize measurement")(
      "threads", po::value(&threads)->default_value(0), "CPU worker threads (0 = all cores; ignored by cuda)")(
      "cold-mib", po::value(&cold_mib)->default_value(0),
      "MiB of host memory swept before each timed repeat, so it starts with cold caches (as a trainer meets a "
      "bucket written long before); 0: warm, each repeat after the last")(
      "csv", po::value(&csv), "also write every measurement (median, min, max, spread) to this CSV");
  const po::variables_map vm = parse_args(args, opts, "what");
  const std::string what = vm.count("what") ? vm["what"].as<std::string>() : "";
  if (vm.count("help")) {
    std::cout << opts
              << "\nTimes each compression op (" << op_list() << ")\n"
                 "over sizes n and ratios rho (the ops that take one), fits cost = alpha + beta n + gamma k to the\n"
                 "medians (relative least squares, non-negative), and writes a profile the simulator reads\n"
                 "(scenario key `profile`). What n and k mean per op: calib/kernel_sweep.h.\n";
    if (what == "kernels") return kExitOk;
    std::cout << "\n";
    return cmd_calibrate_collectives({"--help"});  // plain `calibrate --help`: both targets
  }
  if (what != "kernels")
    throw InputError(what.empty() ? "missing what to calibrate (kernels or collectives)"
                                  : "unknown target '" + what + "' (expected kernels or collectives)");
  if (out.empty()) throw InputError("--out", "", "is required");
  if (device != "cpu" && device != "cuda" && device != "cpu-reference")
    throw InputError("--device " + device, "", "expected cpu or cuda");
  if (!(min_n >= 1 && max_n >= min_n && max_n <= 4e9))
    throw InputError("--min-n/--max-n", "", "need 1 <= min-n <= max-n <= 4e9");
  if (per_decade < 1 || per_decade > 3) throw InputError("--per-decade", "", "must be 1, 2 or 3");
  if (repeats < 1 || repeats > 10000 || warmup < 0 || warmup > 1000 || parts < 1 || parts > 1024)
    throw InputError("--repeats/--warmup/--parts", "",
                     "need 1 <= repeats <= 10000, 0 <= warmup <= 1000, 1 <= parts <= 1024");
  if (threads > 4096) throw InputError("--threads", "", "must be between 0 (all cores) and 4096");
  if (!(cold_mib >= 0 && cold_mib <= 8192)) throw InputError("--cold-mib", "", "must be between 0 and 8192");
  const bool force = vm.count("force") > 0;
  check_output_file(out, force, "--out");
  if (!csv.empty()) check_output_file(csv, force, "--csv");
  check_distinct_outputs({{"--out", out}, {"--csv", csv}});
  load_profile(base);  // the base must be a valid profile before we spend minutes measuring

  calib::KernelSweepOptions o;
  o.sizes = calib::size_grid(min_n, max_n, per_decade);
  if (o.sizes.empty())
    throw InputError("--min-n/--max-n", "", "no size of the 1-2-5 / 1-3 grid lies between them; widen the range");
  o.ratios = parse_ratios(ratios);
  o.ops = split_list(ops);
  for (const auto& op : o.ops)
    if (std::find(calib::kernel_ops().begin(), calib::kernel_ops().end(), op) == calib::kernel_ops().end())
      throw InputError("--ops " + ops, "", "unknown op '" + op + "' (" + op_list() + ")");
  o.repeats = repeats;
  o.evict_bytes = static_cast<std::size_t>(cold_mib * 1024.0 * 1024.0);
  o.warmup = warmup;
  o.parts = parts;

  std::unique_ptr<kernels::Backend> backend;
  try {
    backend = kernels::make_backend(device, threads);
  } catch (const std::runtime_error& e) {  // e.g. cuda without a device
    throw InputError("--device " + device, "", e.what());
  }
  const kernels::DeviceInfo info = backend->info();
  std::fprintf(stderr, "calibrating %s on %s (%u thread(s)): %zu sizes %g..%g, %zu ratios\n", info.backend.c_str(),
               info.device.c_str(), info.threads, o.sizes.size(), o.sizes.front(), o.sizes.back(), o.ratios.size());
  std::vector<calib::KernelMeasurement> ms;
  {
    ProgressBar bar(calib::sweep_points(o), "calibrate", ProgressBar::stderr_is_terminal());
    ms = calib::run_kernel_sweep(*backend, o, [&bar] { bar.advance(); });
  }

  std::map<std::string, std::vector<calib::CostPoint>> points;
  for (const auto& m : ms) points[m.op].push_back({m.n, m.k, m.seconds.median});
  std::map<std::string, calib::CostFit> fits;
  std::printf("%-16s %12s %14s %15s %8s %10s\n", "op", "alpha_us", "ns_per_element", "ns_per_selected", "r2",
              "worst_err");
  for (const auto& [op, pts] : points) {
    const calib::CostFit f = calib::fit_cost(pts);
    fits[op] = f;
    std::printf("%-16s %12.3f %14.6f %15.6f %8.4f %9.1f%%\n", op.c_str(), f.alpha_s * 1e6, f.per_element_s * 1e9,
                f.per_selected_s * 1e9, f.r2, 100.0 * f.max_rel_error);
  }

  calib::CalibrationRecord rec;
  rec.device = info;
  rec.date = today_utc();
  rec.command = "gcsim calibrate";
  for (const auto& a : args) rec.command += " " + a;
  rec.repeats = repeats;
  const std::string text = calib::calibrated_profile_toml(base, fits, rec, points);
  AtomicFileSet files;  // both or neither
  if (!csv.empty()) files.stage(csv, measurements_csv(ms, info), force);
  files.stage(out, text, force);
  files.commit();
  load_profile(out);  // what we wrote must read back
  std::printf("wrote %s\n", out.c_str());
  return kExitOk;
}

}  // namespace gcsim::cli
