// orthogonalize: PowerSGD's Gram-Schmidt of P (rows x r) in place, rows =
// max(r, n / 256) for the tensor size n (P of a (rows, 256 r)-ish matrix),
// r = 1 and 4; each repeat restores P first (untimed).
// cost(n, k): n = entries of P (rows r), k = rows r^2 (the projections).
#include "calib/kernel_ops/kernel_op.h"

namespace gcsim::calib {

namespace {
std::size_t rows_for(std::size_t n, std::size_t r) { return std::max(r, n / 256); }
}  // namespace

KernelOpSpec orthogonalize_op() {
  struct State {
    kernels::Backend& b;
    const float* x;
    std::size_t rows, r;
    kernels::Buffer<float> p;
  };
  return {"orthogonalize", "entries of P (rows x r, rows = n / 256)", "rows x r^2, r = 1 and 4",
          [](std::size_t n, const std::vector<double>&, int) {
            std::vector<OpPoint> out;
            for (std::size_t r : {1, 4})
              if (r <= n) out.push_back({0.0, rows_for(n, r) * r * r, 1});
            return out;
          },
          [](const OpInputs& in, const OpPoint& pt) {
            std::size_t r = 1;
            while (rows_for(in.n, r) * r * r != pt.k) ++r;
            const std::size_t rows = rows_for(in.n, r);
            auto s = std::make_shared<State>(State{in.backend, in.x.data(), rows, r, {in.backend, rows * r}});
            return prepared<State>(
                s, [](State& t) { t.b.orthogonalize(t.p.data(), t.rows, t.r, 1e-8f); },
                [](State& t) {  // P from the N(0, 1) data (rows r <= n entries of it)
                  std::vector<float> host(t.rows * t.r);
                  t.b.download(host.data(), t.x, host.size() * sizeof(float));
                  t.b.upload(t.p.data(), host.data(), host.size() * sizeof(float));
                });
          }};
}

}  // namespace gcsim::calib
