// Where SimpleCnn (train/model/simplecnn.h) computes: an engine takes the host
// parameter array and a batch and returns the loss, hits and gradient. The
// host arrays stay the model's state (optimizer, compression hook and
// checkpoints work on them for every engine); a device engine copies the
// parameters in once per call of load_params and the gradient back per batch.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace gcsim::train {

enum class ModelDevice { cpu, cuda };

// "cpu" or "cuda"; anything else throws std::invalid_argument.
ModelDevice parse_model_device(const std::string& name);
std::string to_string(ModelDevice device);

class ModelEngine {
 public:
  virtual ~ModelEngine() = default;
  // kParams floats of host memory, read by the following run() calls (a
  // device engine copies them now; the CPU engine reads them in place, so
  // they must stay valid and unchanged until the next load_params).
  virtual void load_params(const float* params) = 0;
  // Mean cross-entropy over the batch (labels < 10, checked by the caller);
  // `correct` (optional) gets the argmax hits. With grads set (kParams host
  // floats), also d(mean loss)/d(params).
  virtual double run(const float* images, const std::uint8_t* labels, int batch, int* correct, float* grads) = 0;
  // What computes, for logs: "cpu (OpenBLAS)" or the GPU's name.
  virtual std::string description() const = 0;

  // Called by run() during backward, each time the gradient from flat offset
  // `from` to the end is final (layer by layer, the last layer first), so an
  // overlapped exchange can start on it. An engine that learns the gradient
  // only at the end (a device engine copying it back) calls nothing.
  std::function<void(std::size_t from)> on_gradient_ready;
};

// The number of GPUs, after checking that the CUDA runtime and cuBLAS work;
// throws std::runtime_error saying why no GPU is usable (a build without
// CUDA, no driver or device, no libcublas).
int usable_cuda_devices();

// SimpleCNN on the GPU: cuBLAS GEMMs and CUDA element kernels running
// train/model/simplecnn_graph.h, on device (rank % number of devices). Throws
// std::runtime_error "--device cuda: why" where no GPU is usable. Both are
// defined in train/model/cuda/cuda_model_engine.cu, or in train/model/no_cuda_model.cpp
// for a build without nvcc.
std::unique_ptr<ModelEngine> make_cuda_model_engine(int max_batch, int rank);

}  // namespace gcsim::train
