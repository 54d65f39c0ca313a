// The PowerSGD matrix kernels of the kernel contract
// (kernel_contract_lowrank_test.cpp) against the CUDA backend:
// GCSIM_CONTRACT_BACKENDS="cuda" and GCSIM_CONTRACT_TAG="[gpu]" come from CMake.
#define GCSIM_LOWRANK_GPU_BINARY 1  // leaves out the fast CPU path's own case
#include "kernel_contract_lowrank_test.cpp"  // NOLINT(bugprone-suspicious-include)
