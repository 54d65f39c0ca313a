#include <algorithm>
#include <cmath>

#include "calib/kernel_ops/kernel_op.h"

namespace gcsim::calib {

std::size_t selected_count(std::size_t n, double rho) {
  return std::min(n, std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(rho * static_cast<double>(n)))));
}

std::vector<OpPoint> ratio_points(std::size_t n, const std::vector<double>& ratios, int k_scale) {
  std::vector<OpPoint> out;
  for (double rho : ratios) out.push_back({rho, selected_count(n, rho) * static_cast<std::size_t>(k_scale), k_scale});
  return out;
}

const std::vector<KernelOpSpec>& kernel_op_table() {
  static const std::vector<KernelOpSpec> table = {topk_op(),    ef_topk_op(),      threshold_op(),     randomk_op(),
                                                  pack_op(),    scatter_add_op(),  cast_op(),          ef_sign_op(),
                                                  sign_decode_op(), qsgd_quantize_op(), qsgd_dequantize_op(),
                                                  matmul_op(),  orthogonalize_op(), dense_sum_op(),
                                                  finite_check_op(), scale_op(), ef_add_op(), ef_residual_op()};
  return table;
}

}  // namespace gcsim::calib
