// The calibration bench over a comm::Communicator (Gloo between processes,
// or the in-process one in tests): allreduce_sum and allgatherv_known, the
// two collectives the trainer's exchanges use. Every rank runs the sweep;
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

class CommunicatorBench final : public CollectiveBench {
 public:
  explicit CommunicatorBench(comm::Communicator& comm, double compute_s = 0.0) : comm_(comm), compute_s_(compute_s) {}
  int ranks() const override { return comm_.size(); }
  bool reports() const override { return comm_.rank() == 0; }
  std::vector<std::string> collectives() const override { return {coll::allreduce, coll::allgather}; }
  void prepare(const std::string& op, std::size_t bytes) override;
  double run_timed() override;
  std::uint64_t check() override;

 private:
  void run();
  void set_inputs();
  comm::Communicator& comm_;
  double compute_s_;
  bool reduce_ = true;
  std::size_t bytes_ = 0;
  std::vector<float> vec_;
  std::vector<std::uint8_t> part_, gathered_;
  std::vector<std::size_t> counts_;
};

}  // namespace gcsim::calib
