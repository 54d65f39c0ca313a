// Row-major SGEMM: CBLAS wrapper and naive reference (see gemm.h).
#include "train/model/gemm.h"

#include <cblas.h>

#include <cstddef>

namespace gcsim::train {

void gemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda, const float* b,
          int ldb, float beta, float* c, int ldc) {
  if (m <= 0 || n <= 0) return;
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha,
              a, lda, b, ldb, beta, c, ldc);
}

void gemm_reference(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda,
                    const float* b, int ldb, float beta, float* c, int ldc) {
  const auto at = [&](int i, int p) {
    return trans_a ? a[static_cast<std::size_t>(p) * lda + i] : a[static_cast<std::size_t>(i) * lda + p];
  };
  const auto bt = [&](int p, int j) {
    return trans_b ? b[static_cast<std::size_t>(j) * ldb + p] : b[static_cast<std::size_t>(p) * ldb + j];
  };
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < n; ++j) {
      double sum = 0.0;
      for (int p = 0; p < k; ++p) sum += static_cast<double>(at(i, p)) * static_cast<double>(bt(p, j));
      float& out = c[static_cast<std::size_t>(i) * ldc + j];
      const double old = beta == 0.0f ? 0.0 : static_cast<double>(beta) * static_cast<double>(out);
      out = static_cast<float>(static_cast<double>(alpha) * sum + old);
    }
  }
}

}  // namespace gcsim::train
