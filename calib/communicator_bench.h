// The calibration bench over a comm::Communicator (Gloo between processes,
// or the in-process one in tests): allreduce_sum and allgatherv_known, the
// two library collectives the trainer's exchanges use, and p2p_ring, the
// trainer's own ring allgather of sendrecv steps (comm/ring_allgather.h) over
// groups: with nodes of G ranks (P a multiple of G), inside every node at once
// (RingGroups::inter false: the G ranks of each node) or between nodes (true:
// local rank l of every node, G rings at once, sharing the nodes' NICs), as
// the hierarchical exchange runs them; G = 1 and inter: one ring of all P.
// Every rank runs the sweep;
// each timed collective starts after a barrier, and rank 0's wall clock is
// reported. `compute_s` of CPU work before each one stands in for a training
// step's compute (on a host whose cores are shared, a collective between
// compute phases waits for descheduled peers).
#pragma once

#include <cstdint>
#include <vector>

#include "calib/collective_bench.h"
#include "comm/communicator.h"

namespace gcsim::calib {

struct RingGroups {
  int node_size = 1;   // G
  bool inter = true;   // between nodes (else inside each node)
};

class CommunicatorBench final : public CollectiveBench {
 public:
  // Throws std::invalid_argument when the ranks are not nodes of groups.node_size.
  explicit CommunicatorBench(comm::Communicator& comm, double compute_s = 0.0, RingGroups groups = {});
  int ranks() const override { return comm_.size(); }
  bool reports() const override { return comm_.rank() == 0; }
  std::vector<std::string> collectives() const override {
    return {coll::allreduce, coll::allgather, coll::p2p_ring, coll::allreduce_half};
  }
  int ring_length(const std::string& op) const override {
    return op == coll::p2p_ring ? static_cast<int>(group_.size()) : ranks();
  }
  void prepare(const std::string& op, std::size_t bytes) override;
  double run_timed() override;
  std::uint64_t check() override;

 private:
  void run();
  void set_inputs();
  comm::Communicator& comm_;
  double compute_s_;
  std::vector<int> group_;  // p2p_ring's ranks, in ring order; this rank at me_
  int me_ = 0;
  std::string op_;
  std::size_t bytes_ = 0;
  std::vector<float> vec_;
  std::vector<std::uint16_t> half_;  // allreduce_half's fp16 buffer
  std::vector<std::uint8_t> part_, gathered_;
  std::vector<std::size_t> counts_, offsets_;
};

}  // namespace gcsim::calib
