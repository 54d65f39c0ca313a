#include "calib/communicator_bench.h"

#include <chrono>
#include <algorithm>
#include <stdexcept>

#include "comm/ring_allgather.h"
#include "kernels/half.h"

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

// allreduce_half's inputs: 0 .. 3, so every partial sum over up to 64 ranks
// (at most 192) is an integer fp16 holds exactly, in any order.
float half_value(int rank, std::size_t i) { return static_cast<float>((static_cast<std::size_t>(rank) + i) % 4); }

}  // namespace

CommunicatorBench::CommunicatorBench(comm::Communicator& comm, double compute_s, RingGroups groups)
    : comm_(comm), compute_s_(compute_s) {
  const int r = comm.rank(), P = comm.size(), G = groups.node_size;
  group_ = groups.inter ? comm::cross_node_group(r, P, G) : comm::node_group(r, P, G);
  me_ = static_cast<int>(std::find(group_.begin(), group_.end(), r) - group_.begin());
}

void CommunicatorBench::prepare(const std::string& op, std::size_t bytes) {
  if (op != coll::allreduce && op != coll::allgather && op != coll::p2p_ring && op != coll::allreduce_half)
    throw std::invalid_argument("the " + comm_.name() + " bench times allreduce, allgather, p2p_ring and allreduce_half, not " +
                                op);
  if (bytes == 0 || bytes % 4 != 0) throw std::invalid_argument("collective sweep: sizes must be positive multiples of 4");
  if (op == coll::p2p_ring && group_.size() < 2)
    throw std::invalid_argument("p2p_ring: its rings have one rank (between nodes: one node; inside a node: one rank "
                                "per node), which times nothing");
  op_ = op;
  bytes_ = bytes;
  counts_.assign(static_cast<std::size_t>(comm_.size()), bytes);
  offsets_.resize(group_.size() + 1);
  for (std::size_t i = 0; i < offsets_.size(); ++i) offsets_[i] = i * bytes;
  set_inputs();
}

void CommunicatorBench::set_inputs() {
  if (op_ == coll::allreduce) {
    vec_.resize(bytes_ / 4);
    for (std::size_t i = 0; i < vec_.size(); ++i) vec_[i] = pattern_value(comm_.rank(), i);
  } else if (op_ == coll::allreduce_half) {
    half_.resize(bytes_ / 2);
    for (std::size_t i = 0; i < half_.size(); ++i) half_[i] = kernels::float_to_fp16_rne(half_value(comm_.rank(), i));
  } else if (op_ == coll::allgather) {
    part_.resize(bytes_);
    for (std::size_t i = 0; i < part_.size(); ++i) part_[i] = part_byte(comm_.rank(), i);
  } else {  // p2p_ring: this rank's part in place, the others cleared
    gathered_.assign(group_.size() * bytes_, 0);
    for (std::size_t i = 0; i < bytes_; ++i) gathered_[offsets_[static_cast<std::size_t>(me_)] + i] = part_byte(comm_.rank(), i);
  }
}

void CommunicatorBench::run() {
  if (op_ == coll::allreduce) comm_.allreduce_sum(vec_.data(), vec_.size());
  else if (op_ == coll::allreduce_half) comm_.allreduce_sum_half(half_.data(), half_.size(), kernels::HalfFormat::Fp16);
  else if (op_ == coll::allgather) comm_.allgatherv_known(part_.data(), part_.size(), counts_, gathered_);
  else comm::ring_allgather(comm_, group_, me_, gathered_.data(), offsets_);
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
  if (op_ == coll::allreduce) {
    for (std::size_t i = 0; i < vec_.size(); ++i) {
      float want = 0.0f;
      for (int r = 0; r < p; ++r) want += pattern_value(r, i);
      wrong += vec_[i] != want;
    }
  } else if (op_ == coll::allreduce_half) {
    for (std::size_t i = 0; i < half_.size(); ++i) {
      float want = 0.0f;
      for (int r = 0; r < p; ++r) want += half_value(r, i);
      wrong += kernels::fp16_to_float(half_[i]) != want;
    }
  } else {
    // The parts in order, part j from rank ranks[j]: every rank for allgather, the group for p2p_ring.
    std::vector<int> ranks = group_;
    if (op_ == coll::allgather) {
      ranks.resize(static_cast<std::size_t>(p));
      for (int r = 0; r < p; ++r) ranks[static_cast<std::size_t>(r)] = r;
    }
    if (gathered_.size() != bytes_ * ranks.size()) return bytes_ * ranks.size();
    for (std::size_t j = 0; j < ranks.size(); ++j)
      for (std::size_t i = 0; i < bytes_; ++i) wrong += gathered_[j * bytes_ + i] != part_byte(ranks[j], i);
  }
  return wrong;
}

}  // namespace gcsim::calib
