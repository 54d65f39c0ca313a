// make_cuda_model_engine() in a build without nvcc (see train/model_engine.h).
#include <stdexcept>

#include "train/model_engine.h"

namespace gcsim::train {

std::unique_ptr<ModelEngine> make_cuda_model_engine(int /*max_batch*/, int /*rank*/) {
  throw std::runtime_error("--device cuda: this gcsim was built without CUDA (no nvcc at configure time)");
}

}  // namespace gcsim::train
