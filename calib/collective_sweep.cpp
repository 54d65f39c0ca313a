// Timing Gloo collectives and fitting the profile's collective figures (see collective_sweep.h).
#include "calib/collective_sweep.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <stdexcept>

namespace gcsim::calib {

std::vector<CollectiveMeasurement> run_collective_sweep(train::Communicator& comm, const CollectiveSweepOptions& opts,
                                                        const std::function<void()>& tick) {
  if (opts.repeats < 1 || opts.warmup < 0) throw std::invalid_argument("collective sweep: repeats >= 1, warmup >= 0");
  const int p = comm.size();
  std::vector<CollectiveMeasurement> out;
  std::vector<float> vec;
  std::vector<std::uint8_t> part, gathered;
  for (const char* op : {"allreduce", "allgather"}) {
    const bool reduce = op == std::string("allreduce");
    for (const std::size_t bytes : opts.sizes) {
      if (bytes == 0 || bytes % 4 != 0) throw std::invalid_argument("collective sweep: sizes must be positive multiples of 4");
      vec.assign(bytes / 4, 1.0f);
      part.assign(bytes, static_cast<std::uint8_t>(comm.rank()));
      const std::vector<std::size_t> counts(static_cast<std::size_t>(p), bytes);
      std::vector<double> times;
      for (int i = 0; i < opts.warmup + opts.repeats; ++i) {
        comm.barrier();
        const auto t0 = std::chrono::steady_clock::now();
        if (reduce) comm.allreduce_sum(vec.data(), vec.size());
        else comm.allgatherv_known(part.data(), part.size(), counts, gathered);
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (i >= opts.warmup) times.push_back(s);
      }
      CollectiveMeasurement m;
      m.op = op;
      m.bytes = bytes;
      m.wire_bytes = reduce ? 2.0 * (p - 1) / p * static_cast<double>(bytes) : (p - 1.0) * static_cast<double>(bytes);
      m.seconds = summarize(times);
      out.push_back(m);
      if (tick) tick();
    }
  }
  return out;
}

CollectiveFit fit_collectives(const std::vector<CollectiveMeasurement>& ms, int workers) {
  if (workers < 2) throw std::invalid_argument("fit_collectives: needs at least 2 workers");
  std::vector<CostPoint> ar, ag;
  for (const auto& m : ms) (m.op == "allreduce" ? ar : ag).push_back({m.wire_bytes, 0.0, m.seconds.median});
  if (ar.empty() || ag.empty()) throw std::invalid_argument("fit_collectives: needs allreduce and allgather points");
  CollectiveFit f;
  f.workers = workers;
  f.allreduce = fit_cost(ar);
  f.allgather = fit_cost(ag);
  const double steps = workers - 1.0;
  f.step_alpha_s = std::max(0.0, (f.allreduce.alpha_s - f.allgather.alpha_s) / steps);
  f.launch_s = std::max(0.0, f.allgather.alpha_s - steps * f.step_alpha_s);
  f.bytes_per_s = f.allreduce.per_element_s > 0.0 ? 1.0 / f.allreduce.per_element_s : 0.0;
  return f;
}

std::vector<std::size_t> collective_size_grid(std::size_t min_bytes, std::size_t max_bytes) {
  std::vector<std::size_t> out;
  for (std::size_t b = 4; b <= max_bytes; b *= 4)
    if (b >= min_bytes) out.push_back(b);
  return out;
}

}  // namespace gcsim::calib
