// A collective's achieved efficiency (achieved / line rate) measured size by
// size, as `gcsim calibrate collectives` fits it: at each measured size s_i
// (the collective's size: an allreduce's buffer, an allgather's per-rank
// message) the efficiency e_i that makes the alpha-beta cost of that size
// equal to its measured time. The transfer time s / e is piecewise linear
// between the points, as a table of measured times would be interpolated
// (nccl-tests' bus bandwidth over message size): at s between s_i and s_j
//   s / e(s) = lerp(s_i / e_i, s_j / e_j)
// and e is the first point's below the first size, the last's above the last.
// Where a large message's efficiency (the linear fit's one figure) describes
// mid-sized messages badly -- TCP and a busy host reach less of the line rate
// on a 400 KB message than on a 16 MB one -- the curve holds what was measured.
#pragma once

#include <string>
#include <vector>

namespace gcsim {

struct EfficiencyPoint {
  double bytes = 0.0;       // > 0
  double efficiency = 1.0;  // in (0, 1]
};

class EfficiencyCurve {
 public:
  EfficiencyCurve() = default;
  // Points with ascending, distinct bytes > 0 and efficiencies in (0, 1];
  // throws std::invalid_argument naming the first point that is not.
  explicit EfficiencyCurve(std::vector<EfficiencyPoint> points);

  bool empty() const { return points_.empty(); }
  const std::vector<EfficiencyPoint>& points() const { return points_; }
  // The efficiency at `bytes` (>= 0); requires !empty().
  double at(double bytes) const;

 private:
  std::vector<EfficiencyPoint> points_;
};

}  // namespace gcsim
