// The host executor of train/model/simplecnn_graph.h: arrays are std::vector, element
// operations are plain loops and GEMM is CBLAS (train/model/gemm.h). It lets the
// tests run the very graph the GPU runs, on the CPU, against the
// layer-by-layer model.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

#include "train/model/gemm.h"

namespace gcsim::train {

class HostExecutor {
 public:
  template <class T>
  using Array = std::vector<T>;

  template <class T>
  Array<T> make_array(std::size_t n) {
    return Array<T>(n);
  }
  template <class F>
  void for_each(std::size_t n, const F& f) {
    for (std::size_t i = 0; i < n; ++i) f(i);
  }
  void gemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda, const float* b,
            int ldb, float beta, float* c, int ldc) {
    train::gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }
  template <class T>
  void copy_in(T* dst, const T* host, std::size_t n) {
    std::copy(host, host + n, dst);
  }
  template <class T>
  void copy_out(T* host, const T* src, std::size_t n) {
    std::copy(src, src + n, host);
  }
};

}  // namespace gcsim::train
