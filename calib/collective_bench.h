// One backend's collectives as the calibration sweep (collective_sweep.h)
// times them: Gloo or any comm::Communicator (communicator_bench.h), or NCCL
// driving every local GPU from one process (nccl_bench.h). The sweep, the
// statistics, the nccl-tests table and the fit are the same for all.
//
// Sizes follow CollectiveMeasurement::bytes: for allreduce and broadcast the
// buffer, for allgather and reduce_scatter one rank's part (the gathered
// buffer, and the reduce-scatter's input, are P parts). nccl-tests prints
// the whole buffer instead (nccl_tests_size), and bus bandwidth as algbw x
// bus_factor: 2 (P-1) / P for allreduce, (P-1) / P for allgather and
// reduce_scatter, 1 for broadcast (nccl-tests' doc/PERFORMANCE.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace gcsim::calib {

namespace coll {
inline constexpr const char* allreduce = "allreduce";
inline constexpr const char* allgather = "allgather";
inline constexpr const char* reduce_scatter = "reduce_scatter";
inline constexpr const char* broadcast = "broadcast";
// gcsim's own ring allgather of point-to-point steps (comm/ring_allgather.h)
// over groups of the ranks, as the hierarchical exchange runs it: inside each
// node, or between nodes (calib/communicator_bench.h). Sizes as allgather's:
// one rank's part; wire bytes (L - 1) parts for a ring of L ranks.
inline constexpr const char* p2p_ring = "p2p_ring";
// The allreduce of fp16 elements that fp16 compression runs
// (Communicator::allreduce_sum_half: over Gloo, its ring with gcsim's half
// sum, since Gloo has no half type). Sizes and wire bytes as allreduce's: the
// buffer's bytes, 2 (P - 1) / P of them sent.
inline constexpr const char* allreduce_half = "allreduce_half";
}  // namespace coll

// nccl-tests' four, in the order the sweep runs them.
const std::vector<std::string>& all_collectives();
// Those, p2p_ring and allreduce_half: every op a measurement can name, in the sweep's order.
const std::vector<std::string>& all_ops();
// Throws std::invalid_argument for a name not among all_ops().
void check_collective(const std::string& op);

// Bytes one rank sends in `op` of `bytes` over P ranks (p2p_ring: the ring's
// L ranks), on the ring schedule
// (broadcast: a pipelined chain, each rank but the last forwards the buffer).
double wire_bytes(const std::string& op, std::size_t bytes, int ranks);
// nccl-tests' size column for it, and its busbw / algbw.
std::size_t nccl_tests_size(const std::string& op, std::size_t bytes, int ranks);
double bus_factor(const std::string& op, int ranks);

class CollectiveBench {
 public:
  virtual ~CollectiveBench() = default;
  virtual int ranks() const = 0;
  // Whether this process reports the times (rank 0 of a multi-process bench).
  virtual bool reports() const { return true; }
  // The collectives it can time (a subset of all_collectives()).
  virtual std::vector<std::string> collectives() const = 0;
  // The ranks one ring of `op` spans (wire_bytes' P): all of them, but for
  // p2p_ring over groups.
  virtual int ring_length(const std::string& op) const {
    (void)op;
    return ranks();
  }
  // Sets up `op` on `bytes` with known inputs; every rank calls it alike.
  virtual void prepare(const std::string& op, std::size_t bytes) = 0;
  // Runs the prepared collective once: its seconds, from the first rank's
  // start to the last rank's end as this backend can see it.
  virtual double run_timed() = 0;
  // Sets the known inputs again, runs once, and counts the output elements
  // that differ from what the collective must give (nccl-tests' #wrong).
  virtual std::uint64_t check() = 0;
};

// The input pattern every bench uses: element i of rank r's contribution.
// Small integers, so that every sum of P of them is exact in a float.
inline float pattern_value(int rank, std::size_t i) { return static_cast<float>(rank + 1) + static_cast<float>(i % 13); }

}  // namespace gcsim::calib
