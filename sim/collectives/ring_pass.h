// Rings of point-to-point messages, in stages: the schedule shared by ring
// allreduce (one stage: reduce-scatter then allgather, 2(P-1) steps), ring
// allgather (P-1 steps) and the hierarchical allreduce (an intra-node
// reduce-scatter, concurrent inter-node ring allreduces, an intra-node
// allgather).
//
// In a stage each rank sends `steps` messages to its successor. The message of
// step s+1 carries data that needs the one of step s from the predecessor, so
// it is issued when that arrives; step 0 is issued when the rank enters the
// stage. A rank enters stage k+1 when its own last message of stage k has
// arrived. With `chunks` > 1 every step's message is split into that many
// pieces, each forwarded as soon as it arrives (chunk pipelining: NCCL's
// slices), which overlaps a step's latency with the next piece's transfer.
#pragma once

#include <string>
#include <vector>

#include "sim/collectives/schedule.h"

namespace gcsim {

struct RingStage {
  std::vector<int> next;    // next[r]: r's successor in this stage's ring (every rank takes part)
  int steps = 0;            // messages each rank sends (stages with 0 steps are skipped)
  double bytes = 0.0;       // per message, before chunking
  std::string phase;        // phase name of steps [0, split)
  std::string phase_after;  // phase name of steps [split, steps), if any
  int split = 0;            // 0: the whole stage is `phase`
};

class RingPassSchedule : public CollectiveSchedule {
 public:
  RingPassSchedule(Engine& engine, Network& network, MessageOverhead alpha, std::string name, std::vector<RingStage> stages,
                   int chunks);
  std::string name() const override { return name_; }
  bool computed_without_flows() const override { return computed_; }

 private:
  struct Early {
    int stage, step, chunk;
    Time arrival;
  };
  void begin(Time t) override;
  // The pass without flows where that is exact (fast_ring.h); false: send the messages.
  bool begin_computed(Time t);
  void on_receive(int src, int dst, std::uint64_t msg, Time arrival) override;
  void enter(int rank, int stage, Time t);
  void received(int rank, int stage, int step, int chunk, Time arrival);
  void send_step(int rank, int stage, int step, int chunk, Time at);

  std::string name_;
  std::vector<RingStage> stages_;
  std::vector<int> phase_base_;  // first phase index of each stage
  int chunks_;
  bool computed_ = false;
  std::vector<int> stage_of_;      // the stage each rank is in (stages_.size() when done)
  std::vector<int> chunks_done_;   // last-step pieces that arrived in the current stage
  std::vector<std::vector<Early>> early_;  // messages for a stage the rank has not entered yet
};

}  // namespace gcsim
