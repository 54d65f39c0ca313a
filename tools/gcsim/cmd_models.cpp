// gcsim models [NAME] [--csv]
#include <boost/program_options.hpp>

#include <cstdio>
#include <iostream>

#include "config/did_you_mean.h"
#include "config/input_error.h"
#include "models/zoo.h"
#include "tools/gcsim/cli.h"

namespace po = boost::program_options;

namespace gcsim::cli {

int cmd_models(const std::vector<std::string>& args) {
  po::options_description opts("gcsim models [NAME]");
  opts.add_options()("help,h", "show this help")(
      "csv", "with NAME: its layers as CSV, layer,kind,params,forward_flops (exact integers; tools/profile_model.py)");
  const po::variables_map vm = parse_args(args, opts, "name");
  if (vm.count("help")) {
    std::cout << opts << "\nWithout NAME: the zoo with parameter counts and forward FLOPs per sample.\n"
                         "With NAME: that model's layers. FLOPs count 2 per multiply-accumulate.\n";
    return kExitOk;
  }
  const bool csv = vm.count("csv") > 0;
  if (csv && !vm.count("name")) throw InputError("--csv", "", "needs a model NAME");
  if (!vm.count("name")) {
    std::printf("%-12s %15s %18s %7s  %s\n", "model", "parameters", "fwd GFLOPs/sample", "layers", "sample");
    for (const auto& name : zoo_names()) {
      const ModelSpec m = *find_model(name);
      std::printf("%-12s %15lld %18.3f %7zu  %s\n", name.c_str(), static_cast<long long>(m.total_params()),
                  m.forward_flops() / 1e9, m.layers.size(), m.sample_unit.c_str());
    }
    return kExitOk;
  }
  const std::string name = vm["name"].as<std::string>();
  const auto m = find_model(name);
  if (!m) throw InputError(name, "", "unknown model" + suggestion_suffix(name, zoo_names()));
  if (csv) {  // names are [A-Za-z0-9_.] (models/), so no field needs quoting
    std::printf("layer,kind,params,forward_flops\n");
    for (const auto& l : m->layers)
      std::printf("%s,%s,%lld,%.0f\n", l.name.c_str(), l.kind.c_str(), static_cast<long long>(l.params),
                  l.forward_flops);
    return kExitOk;
  }
  std::printf("%s: %lld parameters, %.3f GFLOPs forward per %s\n\n", m->name.c_str(),
              static_cast<long long>(m->total_params()), m->forward_flops() / 1e9, m->sample_unit.c_str());
  std::printf("%-28s %-10s %13s %16s\n", "layer", "kind", "parameters", "fwd MFLOPs");
  for (const auto& l : m->layers)
    std::printf("%-28s %-10s %13lld %16.3f\n", l.name.c_str(), l.kind.c_str(), static_cast<long long>(l.params),
                l.forward_flops / 1e6);
  return kExitOk;
}

}  // namespace gcsim::cli
