// gcsim report seed [--out FILE]: the problem statement's tables, three ways:
// what the seed printed, what its own formulas give, and what gcsim's model
// gives on the scenarios in scenarios/seed/. reports/seed-errata.md explains
// every disagreement.
#include <boost/program_options.hpp>

#include <cstdio>
#include <iostream>
#include <sstream>

#include "config/input_error.h"
#include "config/scenario_loader.h"
#include "sim/analytic/iteration.h"
#include "sim/analytic/seed_formulas.h"
#include "tools/gcsim/cli.h"

namespace po = boost::program_options;

namespace gcsim::cli {

namespace {

std::string f(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

IterationResult run(const std::string& scenario, const std::vector<std::string>& sets) {
  return simulate_analytic(load_scenario(source_path("scenarios/seed/" + scenario), sets));
}

std::string seed_report() {
  std::ostringstream o;
  o << "# The problem statement, reproduced\n\n"
       "Source: shared/seeds/000 (problem formulation). \"seed\" = the number it prints; \"formula\" = its own\n"
       "formula evaluated exactly; \"gcsim\" = `gcsim simulate` on scenarios/seed/ (profile seed.toml: alpha = 0,\n"
       "full line rate, free kernels, so only the formulas differ). reports/seed-errata.md explains each mismatch.\n\n";

  o << "## Section 2.1: gradient size and communication time\n\n"
       "The table's times are S/B, one transfer of the gradient: a ring allreduce at P = 2. At larger P a ring\n"
       "allreduce moves 2(P-1)/P S, approaching 2S/B.\n\n"
       "| model | N | S = 4N (seed) | B | time (seed) | S/B (formula) | gcsim ring P=2 | gcsim ring P=8 |\n"
       "|---|---|---|---|---|---|---|---|\n";
  struct Row {
    const char* model;
    double params;
    const char* size;
    double gbps;
    const char* seed_time;
  };
  const Row rows[] = {{"SimpleCNN", 200e3, "0.8 MB", 1, "6.4 ms"},     {"SimpleCNN", 200e3, "0.8 MB", 10, "0.64 ms"},
                      {"ResNet-18", 11e6, "44 MB", 1, "352 ms"},       {"ResNet-18", 11e6, "44 MB", 10, "35.2 ms"},
                      {"ResNet-50", 23e6, "92 MB", 1, "736 ms"},       {"ResNet-50", 23e6, "92 MB", 10, "73.6 ms"},
                      {"GPT-2", 117e6, "468 MB", 1, "3744 ms"},        {"GPT-2", 117e6, "468 MB", 10, "374 ms"}};
  for (const auto& r : rows) {
    const std::vector<std::string> sets = {"model.params=" + f("%.0f", r.params),
                                           "cluster.inter_node.bandwidth_gbps=" + f("%g", r.gbps)};
    auto sets8 = sets;
    sets8.push_back("cluster.workers=8");
    const IterationResult p2 = run("gradient-table.toml", sets);
    const IterationResult p8 = run("gradient-table.toml", sets8);
    o << "| " << r.model << " | " << f("%.0f", r.params) << " | " << r.size << " (" << f("%.4g", seed::gradient_bytes(r.params) / 1e6)
      << " MB) | " << r.gbps << " Gb/s | " << r.seed_time << " | " << f("%.4g ms", seed::table_comm_time_s(r.params, r.gbps) * 1e3)
      << " | " << f("%.4g ms", p2.comm_s * 1e3) << " | " << f("%.4g ms", p8.comm_s * 1e3) << " |\n";
  }

  o << "\n## Section 2.2: efficiency, ResNet-50 at 1 Gbps (T_compute = 50 ms, T_comm = 736 ms)\n\n"
       "| P | seed | formula 1/(1 + P T_comm/T_c) (strong) | weak T(1)/T(P) with T_comm = 736 ms | gcsim weak | gcsim strong |\n"
       "|---|---|---|---|---|---|\n";
  const char* seed_e[] = {"0.06", "0.02"};
  int i = 0;
  for (int P : {2, 8}) {
    const IterationResult r = run("resnet50-1gbps.toml", {"cluster.workers=" + std::to_string(P)});
    o << "| " << P << " | " << seed_e[i++] << " | " << f("%.4f", seed::efficiency(0.050, 0.736, P)) << " | "
      << f("%.4f", 0.050 / (0.050 + 0.736)) << " | " << f("%.4f", r.efficiency_weak) << " (T_comm " << f("%.4g ms", r.comm_s * 1e3)
      << ") | " << f("%.4f", r.efficiency_strong) << " |\n";
  }

  o << "\n## Section 5.1: volume reduction 4 / (rho (4 + index bytes))\n\n"
       "| rho | seed | formula 1/(3 rho), int64 | gcsim int64 (bytes dense / sparse, P=2) | gcsim int32 |\n"
       "|---|---|---|---|---|\n";
  const char* seed_red[] = {"3.3x", "33x", "333x"};
  i = 0;
  const IterationResult dense = run("reduction.toml", {"compression.method=\"none\""});
  for (double rho : {0.1, 0.01, 0.001}) {
    const std::string rs = "compression.ratio=" + f("%g", rho);
    const IterationResult r8 = run("reduction.toml", {rs, "compression.index_bytes=8"});
    const IterationResult r4 = run("reduction.toml", {rs, "compression.index_bytes=4"});
    o << "| " << rho << " | " << seed_red[i++] << " | " << f("%.4g", seed::reduction(rho, 8)) << " | "
      << f("%.4g", dense.bytes_sent_per_worker / r8.bytes_sent_per_worker) << " | "
      << f("%.4g", dense.bytes_sent_per_worker / r4.bytes_sent_per_worker) << " |\n";
  }

  o << "\n## Section 5.2: ResNet-18, 10 Gbps, P = 8, T_compute = 500 ms\n\n";
  const double tcomm_written = seed::section_5_2_comm_time_s(44, 10);
  const IterationResult base = run("section-5-2.toml", {});
  const IterationResult comp = run("section-5-2.toml", {"compression.method=\"topk\""});
  o << "| quantity | seed | formula, seed's inputs | formula evaluated | gcsim (ring allreduce / top-k allgather) |\n"
       "|---|---|---|---|---|\n";
  o << "| T_comm baseline | 352 ms | 352 ms | " << f("%.4g ms", tcomm_written * 1e3) << " | " << f("%.4g ms", base.comm_s * 1e3) << " |\n";
  o << "| T_comm compressed | 10.7 ms | 352/33 = " << f("%.4g ms", 352.0 / 33.0) << " | " << f("%.4g ms", tcomm_written * 1e3 / 33.0)
    << " | " << f("%.4g ms", comp.comm_s * 1e3) << " (allgather grows with P) |\n";
  o << "| E_baseline(8) | 0.15 | " << f("%.4f", seed::efficiency(0.5, 0.352, 8)) << " | "
    << f("%.4f", seed::efficiency(0.5, tcomm_written, 8)) << " | " << f("%.4f", base.efficiency_strong) << " (strong) |\n";
  o << "| E_compressed(8) | 0.85 | " << f("%.4f", seed::efficiency(0.5, 0.352 / 33.0, 8)) << " | "
    << f("%.4f", seed::efficiency(0.5, tcomm_written / 33.0, 8)) << " | " << f("%.4f", comp.efficiency_strong)
    << " (strong) |\n";
  return o.str();
}

}  // namespace

int cmd_report(const std::vector<std::string>& args) {
  po::options_description opts("gcsim report seed [options]");
  std::string out;
  opts.add_options()("help,h", "show this help")("out", po::value(&out), "write Markdown to FILE (atomically); - is stdout")(
      "force", "overwrite --out FILE if it is a regular file");
  const po::variables_map vm = parse_args(args, opts, "topic");
  if (vm.count("help")) {
    std::cout << opts << "\ntopics: seed   the problem statement's tables: seed / its formulas / gcsim\n";
    return kExitOk;
  }
  const std::string topic = vm.count("topic") ? vm["topic"].as<std::string>() : "";
  if (topic != "seed") throw InputError(topic, "", "unknown report (expected: seed)");
  const bool force = vm.count("force") > 0;
  if (!out.empty() && !is_stdout(out)) check_output_file(out, force, "--out");
  const std::string text = seed_report();
  if (out.empty() || is_stdout(out)) {
    std::cout << text;
  } else {
    write_output_file(out, text, force);
  }
  return kExitOk;
}

}  // namespace gcsim::cli
