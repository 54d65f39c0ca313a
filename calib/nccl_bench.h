// The calibration bench on NCCL: one process drives every local GPU (or the
// first `devices`) through one communicator per GPU made by ncclCommInitAll,
// and launches each collective on all of them inside one
// ncclGroupStart/ncclGroupEnd, as nccl-tests does with `-g <GPUs>`.
//
// Out-of-place buffers on each device, filled with pattern_value(rank, i)
// (collective_bench.h) floats. A timed run records a CUDA event before and
// after the collective on every GPU's stream, synchronises, and reports the
// longest of the per-GPU elapsed times. check() fills the inputs again, runs
// once, copies every output back and compares it with what the collective
// must give: allreduce the sum over ranks, reduce_scatter rank r's part of
// it, allgather every rank's part, broadcast rank 0's buffer.
//
// What NCCL uses (NCCL_ALGO, NCCL_PROTO) is read from the environment when
// the communicators are made: `gcsim calibrate collectives --backend nccl`
// runs each forced variant in its own process for that reason.
//
// Built only with NCCL (GCSIM_HAVE_NCCL); NCCL itself is loaded at run time
// (comm/nccl_api.h).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "calib/collective_bench.h"

namespace gcsim::calib {

class NcclBench final : public CollectiveBench {
 public:
  // devices = 0: all of them. Throws std::runtime_error saying why NCCL or
  // the GPUs cannot be used.
  explicit NcclBench(int devices = 0);
  ~NcclBench() override;
  NcclBench(const NcclBench&) = delete;
  NcclBench& operator=(const NcclBench&) = delete;

  int ranks() const override;
  std::vector<std::string> collectives() const override;
  void prepare(const std::string& op, std::size_t bytes) override;
  double run_timed() override;
  std::uint64_t check() override;

  // Each GPU's name, for the nccl-tests table's "# Rank" lines.
  std::vector<std::string> device_names() const;
  // "NCCL 2.28.9 (libnccl.so.2)".
  std::string library() const;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace gcsim::calib
