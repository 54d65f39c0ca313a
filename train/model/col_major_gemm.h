// A row-major GEMM call (the contract of train/model/gemm.h) as the column-major
// call that computes the same thing, for cuBLAS: row-major C = op(A) op(B) is
// column-major C^T = op(B)^T op(A)^T, and a row-major matrix read as
// column-major is its transpose, so swap the operands (and m with n) and keep
// each operand's own transpose flag and leading dimension. Tested against
// column-major CBLAS on the host (tests/train_graph_test.cpp).
#pragma once

namespace gcsim::train {

struct ColMajorGemm {
  bool trans_a, trans_b;  // of the column-major operands below
  int m, n, k;
  const float* a;
  int lda;
  const float* b;
  int ldb;
  float* c;
  int ldc;
};

inline ColMajorGemm to_col_major(bool trans_a, bool trans_b, int m, int n, int k, const float* a, int lda,
                                 const float* b, int ldb, float* c, int ldc) {
  return ColMajorGemm{trans_b, trans_a, n, m, k, b, ldb, a, lda, c, ldc};
}

}  // namespace gcsim::train
