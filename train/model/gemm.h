// Row-major single-precision GEMM for the trainer: a thin wrapper over CBLAS
// sgemm (Debian's OpenBLAS) and a naive reference used by the tests.
//
//   C[m x n] = alpha * op(A)[m x k] * op(B)[k x n] + beta * C
//
// op(X) is X or X^T. Storage is row-major with leading dimensions lda, ldb,
// ldc (the row stride of the matrix as stored, i.e. of A itself, not op(A)).
// As in BLAS, beta == 0 ignores the old contents of C (NaN-safe).
#pragma once

namespace gcsim::train {

// CBLAS sgemm (row-major). Threading is whatever OpenBLAS was told by the
// caller (OPENBLAS_NUM_THREADS); nothing is set here.
void gemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda, const float* b,
          int ldb, float beta, float* c, int ldc);

// Triple loop with double accumulation; same contract as gemm().
void gemm_reference(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda,
                    const float* b, int ldb, float beta, float* c, int ldc);

}  // namespace gcsim::train
