// The quantization kernel contract (kernel_contract_quant_test.cpp) against the
// CUDA backend: GCSIM_CONTRACT_BACKENDS="cuda" and GCSIM_CONTRACT_TAG="[gpu]"
// come from CMake. Its own translation unit, beside kernel_contract_gpu_test.cpp.
#define GCSIM_CONTRACT_DEVICE_ONLY 1  // the host-only half.h cases run in gcsim_tests
#include "kernel_contract_quant_test.cpp"  // NOLINT(bugprone-suspicious-include)
