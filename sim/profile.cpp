#include "sim/profile.h"

#include <stdexcept>

namespace gcsim {

const KernelCost& Profile::kernel(const std::string& op_name) const {
  auto it = kernels.find(op_name);
  if (it == kernels.end()) throw std::logic_error("profile '" + this->name + "' has no kernel cost for op '" + op_name + "'");
  return it->second;
}

CollectiveFigures Profile::collective(std::string_view family) const {
  if (auto it = collective_families.find(std::string(family)); it != collective_families.end()) return it->second;
  if (family != family::ring) return collective(family::ring);  // a family without its own is charged as the ring
  CollectiveFigures f;
  f.launch_s = collective_launch_s;
  f.intra.alpha_s = f.inter.alpha_s = collective_alpha_s;
  f.intra.efficiency = intra_node_efficiency;
  f.inter.efficiency = inter_node_efficiency;
  if (fabric_efficiency) f.fabric = LinkClassFigures{0.0, *fabric_efficiency, {}};
  return f;
}

}  // namespace gcsim
