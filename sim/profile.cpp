#include "sim/profile.h"

#include <stdexcept>

namespace gcsim {

const KernelCost& Profile::kernel(const std::string& op_name) const {
  auto it = kernels.find(op_name);
  if (it == kernels.end()) throw std::logic_error("profile '" + this->name + "' has no kernel cost for op '" + op_name + "'");
  return it->second;
}

}  // namespace gcsim
