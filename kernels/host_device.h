// GCSIM_HD marks small helpers that both the C++ and the CUDA backends use, so
// the two compute bit-identical keys, hashes and sample positions.
#pragma once

#ifdef __CUDACC__
#define GCSIM_HD __host__ __device__ __forceinline__
#else
#define GCSIM_HD inline
#endif
