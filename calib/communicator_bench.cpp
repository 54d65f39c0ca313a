#include "calib/communicator_bench.h"

#include <chrono>
#include <stdexcept>

namespace gcsim::calib {

namespace {

// Keeps one core busy for `seconds` (arithmetic the compiler cannot drop).
void busy_for(double seconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  volatile double sink = 1.0;
  while (std::chrono::steady_clock::now() < end)
    for (int i = 0; i < 1000; ++i) sink = sink * 1.0000001 + 1e-9;
}

std::uint8_t part_byte(int rank, std::size_t i) { return static_cast<std::uint8_t>(rank * 31 + i); }

}  // namespace

void CommunicatorBench::prepare(const std::string& op, std::size_t bytes) {
  if (op != coll::allreduce && op != coll::allgather)
    throw std::invalid_argument("the " + comm_.name() + " bench times allreduce and allgather, not " + op);
  if (bytes == 0 || bytes % 4 != 0) throw std::invalid_argument("collective sweep: sizes must be positive multiples of 4");
  reduce_ = op == coll::allreduce;
  bytes_ = bytes;
  counts_.assign(static_cast<std::size_t>(comm_.size()), bytes);
  set_inputs();
}

void CommunicatorBench::set_inputs() {
  if (reduce_) {
    vec_.resize(bytes_ / 4);
    for (std::size_t i = 0; i < vec_.size(); ++i) vec_[i] = pattern_value(comm_.rank(), i);
  } else {
    part_.resize(bytes_);
    for (std::size_t i = 0; i < part_.size(); ++i) part_[i] = part_byte(comm_.rank(), i);
  }
}

void CommunicatorBench::run() {
  if (reduce_) comm_.allreduce_sum(vec_.data(), vec_.size());
  else comm_.allgatherv_known(part_.data(), part_.size(), counts_, gathered_);
}

double CommunicatorBench::run_timed() {
  if (compute_s_ > 0) busy_for(compute_s_);
  comm_.barrier();
  const auto t0 = std::chrono::steady_clock::now();
  run();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::uint64_t CommunicatorBench::check() {
  set_inputs();
  run();
  const int p = comm_.size();
  std::uint64_t wrong = 0;
  if (reduce_) {
    for (std::size_t i = 0; i < vec_.size(); ++i) {
      float want = 0.0f;
      for (int r = 0; r < p; ++r) want += pattern_value(r, i);
      wrong += vec_[i] != want;
    }
  } else {
    if (gathered_.size() != bytes_ * static_cast<std::size_t>(p)) return bytes_ * static_cast<std::size_t>(p);
    for (int r = 0; r < p; ++r)
      for (std::size_t i = 0; i < bytes_; ++i) wrong += gathered_[static_cast<std::size_t>(r) * bytes_ + i] != part_byte(r, i);
  }
  return wrong;
}

}  // namespace gcsim::calib
