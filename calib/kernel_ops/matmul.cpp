// matmul: one PowerSGD product, P = M Q (Vogels et al., NeurIPS 2019), with M
// of the tensor size n viewed as (n / 512, 512) (512 columns, about a ResNet
// conv's in*kh*kw; n < 1024 as (1, n)) and rank r = 1 and 4. PowerSGD's three
// products per matrix (M Q, M^T P, P Q^T) each cost one of these.
// cost(n, k): n = entries of M (rows cols), k = multiply-adds (rows cols r).
#include "calib/kernel_ops/kernel_op.h"

namespace gcsim::calib {

namespace {
std::size_t cols_for(std::size_t n) { return n >= 1024 ? 512 : n; }
}  // namespace

KernelOpSpec matmul_op() {
  struct State {
    kernels::Backend& b;
    const float* m;
    std::size_t rows, cols, r;
    kernels::Buffer<float> q, p;
  };
  return {"matmul", "entries of M (rows x cols, cols = 512)", "multiply-adds (rows x cols x r), r = 1 and 4",
          [](std::size_t n, const std::vector<double>&, int) {
            const std::size_t cols = cols_for(n), rows = n / cols;
            std::vector<OpPoint> out;
            for (std::size_t r : {1, 4}) out.push_back({0.0, rows * cols * r, 1});
            return out;
          },
          [](const OpInputs& in, const OpPoint& pt) {
            const std::size_t cols = cols_for(in.n), rows = in.n / cols, r = pt.k / (rows * cols);
            auto s = std::make_shared<State>(
                State{in.backend, in.x.data(), rows, cols, r, {in.backend, cols * r}, {in.backend, rows * r}});
            s->b.upload(s->q.data(), std::vector<float>(cols * r, 0.5f).data(), cols * r * sizeof(float));
            return prepared<State>(s, [](State& t) { t.b.matmul(t.m, t.q.data(), t.p.data(), t.rows, t.cols, t.r); });
          }};
}

}  // namespace gcsim::calib
