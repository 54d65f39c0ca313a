#include "sim/collectives/ring_pass.h"

#include <cassert>

namespace gcsim {

namespace {
std::uint64_t encode(int stage, int step, int chunk) {
  return (static_cast<std::uint64_t>(stage) << 48) | (static_cast<std::uint64_t>(step) << 16) |
         static_cast<std::uint64_t>(chunk);
}
}  // namespace

RingPassSchedule::RingPassSchedule(Engine& engine, Network& network, MessageOverhead alpha, std::string name,
                                   std::vector<RingStage> stages, int chunks)
    : CollectiveSchedule(engine, network, stages.empty() ? 1 : static_cast<int>(stages.front().next.size()), alpha),
      name_(std::move(name)),
      chunks_(chunks) {
  assert(chunks >= 1 && chunks < (1 << 16));
  std::vector<std::string> phases;
  for (auto& s : stages) {
    if (s.steps <= 0) continue;
    assert(static_cast<int>(s.next.size()) == ranks());
    phase_base_.push_back(static_cast<int>(phases.size()));
    phases.push_back(s.phase);
    if (s.split > 0 && s.split < s.steps) phases.push_back(s.phase_after);
    stages_.push_back(std::move(s));
  }
  if (!phases.empty()) set_phase_names(std::move(phases));
  stage_of_.assign(ranks(), 0);
  chunks_done_.assign(ranks(), 0);
  early_.resize(ranks());
}

void RingPassSchedule::begin(Time t) {
  for (int r = 0; r < ranks(); ++r) enter(r, 0, t);
}

void RingPassSchedule::enter(int rank, int stage, Time t) {
  stage_of_[rank] = stage;
  chunks_done_[rank] = 0;
  if (stage == static_cast<int>(stages_.size())) {
    finish_rank(rank, t);
    return;
  }
  for (int c = 0; c < chunks_; ++c) send_step(rank, stage, 0, c, t);
  // Pieces of this stage that arrived before the rank could use them.
  std::vector<Early> pending;
  pending.swap(early_[rank]);
  for (const Early& e : pending) {
    if (e.stage == stage) {
      received(rank, e.stage, e.step, e.chunk, std::max(e.arrival, t));
    } else {
      early_[rank].push_back(e);
    }
  }
}

void RingPassSchedule::send_step(int rank, int stage, int step, int chunk, Time at) {
  const RingStage& s = stages_[stage];
  const int phase = phase_base_[stage] + ((s.split > 0 && step >= s.split) ? 1 : 0);
  send(rank, s.next[rank], s.bytes / chunks_, at, encode(stage, step, chunk), phase);
}

void RingPassSchedule::on_receive(int /*src*/, int dst, std::uint64_t msg, Time arrival) {
  const int stage = static_cast<int>(msg >> 48);
  const int step = static_cast<int>((msg >> 16) & 0xffffffffULL);
  const int chunk = static_cast<int>(msg & 0xffffULL);
  if (stage > stage_of_[dst]) {
    early_[dst].push_back({stage, step, chunk, arrival});
    return;
  }
  received(dst, stage, step, chunk, arrival);
}

void RingPassSchedule::received(int rank, int stage, int step, int chunk, Time arrival) {
  const RingStage& s = stages_[stage];
  if (step + 1 < s.steps) {
    send_step(rank, stage, step + 1, chunk, arrival);
    return;
  }
  if (++chunks_done_[rank] == chunks_) enter(rank, stage + 1, arrival);
}

}  // namespace gcsim
