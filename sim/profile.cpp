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
  CollectiveFigures f;
  f.launch_s = collective_launch_s;
  f.intra = {collective_alpha_s, intra_node_efficiency};
  f.inter = {collective_alpha_s, inter_node_efficiency};
  return f;
}

}  // namespace gcsim
