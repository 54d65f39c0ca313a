#include "sim/collectives/ring_pass.h"

#include <cassert>
#include <utility>

#include "sim/collectives/fast_ring.h"

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
  if (begin_exclusive(t)) return;
  for (int r = 0; r < ranks(); ++r) enter(r, 0, t);
}

bool RingPassSchedule::begin_exclusive(Time t) {
  const int P = ranks();
  std::vector<std::pair<int, int>> pairs;
  for (const RingStage& s : stages_)
    for (int r = 0; r < P; ++r) pairs.emplace_back(r, s.next[r]);
  std::vector<Network::ExclusivePath> paths;
  if (pairs.empty() || !network().exclusive_paths(pairs, paths)) return false;
  std::vector<FastRingStage> fast(stages_.size());
  for (std::size_t k = 0; k < stages_.size(); ++k) {
    const RingStage& s = stages_[k];
    FastRingStage& f = fast[k];
    f.next = s.next;
    f.steps = s.steps;
    f.split = s.split > 0 && s.split < s.steps ? s.split : 0;
    f.first_phase = phase_base_[k];
    f.alpha_s.resize(P);
    f.duration_s.resize(P);
    f.latency_s.resize(P);
    const double bytes = s.bytes / chunks_;  // as send_step sends it
    for (int r = 0; r < P; ++r) {
      const Network::ExclusivePath& p = paths[k * P + r];
      f.alpha_s[r] = overhead().of(r, s.next[r]);
      f.duration_s[r] = bytes <= 0.0 ? 0.0 : bytes / p.bytes_per_s;  // the network's completion: now + remaining / rate
      f.latency_s[r] = p.latency_s;
      network().account_messages(r, s.next[r], bytes, static_cast<std::uint64_t>(s.steps) * chunks_);
    }
    count_messages(static_cast<std::uint64_t>(s.steps) * chunks_ * P);
  }
  int phases = 0;
  for (std::size_t k = 0; k < stages_.size(); ++k)
    phases = std::max(phases, phase_base_[k] + (fast[k].split > 0 ? 2 : 1));
  const FastRingTimes times = fast_ring_times(fast, P, chunks_, t, phases);
  for (int ph = 0; ph < phases; ++ph) note_phase_end(ph, times.phase_end[ph]);
  for (int r = 0; r < P; ++r) finish_rank_at(r, times.done[r]);
  exclusive_ = true;
  return true;
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
