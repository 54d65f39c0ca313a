#include "kernels/backend.h"

#include "kernels/factories.h"

namespace gcsim::kernels {

std::unique_ptr<Backend> make_backend(const std::string& name, unsigned threads) {
  if (name == "cpu-reference") return make_reference_backend();
  if (name == "cpu") return make_fast_cpu_backend(threads);
  if (name == "cuda") return make_cuda_backend();
  throw std::invalid_argument("unknown kernel backend '" + name + "' (expected cpu-reference, cpu or cuda)");
}

}  // namespace gcsim::kernels
