// make_cuda_model_engine (train/model/model_engine.h): SimpleCNN's graph
// (train/model/simplecnn_graph.h) on a GPU through the CUDA executor.
#include <cuda_runtime.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "train/model/cuda/cuda_executor.cuh"
#include "train/model/model_engine.h"
#include "train/model/simplecnn_graph.h"

namespace gcsim::train {
namespace {

class CudaModelEngine final : public ModelEngine {
 public:
  CudaModelEngine(int device, int max_batch) : exec_(device), graph_(exec_, max_batch) {
    cudaDeviceProp prop{};
    CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
    description_ = "cuda:" + std::to_string(device) + " " + prop.name + " (cuBLAS " + kernels::cuda::cublas_api().library +
                   ")";
  }
  void load_params(const float* params) override { graph_.load_params(params); }
  double run(const float* images, const std::uint8_t* labels, int batch, int* correct, float* grads) override {
    return graph_.run(images, labels, batch, correct, grads);
  }
  std::string description() const override { return description_; }

 private:
  cuda::CudaExecutor exec_;
  SimpleCnnGraph<cuda::CudaExecutor> graph_;
  std::string description_;
};

}  // namespace

int usable_cuda_devices() {
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) throw std::runtime_error(std::string("no usable GPU: ") + cudaGetErrorString(err));
  if (count == 0) throw std::runtime_error("no GPU found");
  kernels::cuda::cublas_api();
  return count;
}

std::unique_ptr<ModelEngine> make_cuda_model_engine(int max_batch, int rank) {
  try {
    return std::make_unique<CudaModelEngine>(rank % usable_cuda_devices(), max_batch);
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("--device cuda: ") + e.what());
  }
}

}  // namespace gcsim::train
