// The GPU model's entry points in a build without nvcc (see train/model/model_engine.h).
#include <stdexcept>
#include <string>

#include "train/model/model_engine.h"

namespace gcsim::train {

int usable_cuda_devices() {
  throw std::runtime_error("this gcsim was built without CUDA (no nvcc at configure time)");
}

std::unique_ptr<ModelEngine> make_cuda_model_engine(int /*max_batch*/, int /*rank*/) {
  try {
    usable_cuda_devices();
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("--device cuda: ") + e.what());
  }
  return nullptr;
}

}  // namespace gcsim::train
