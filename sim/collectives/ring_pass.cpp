#include "sim/collectives/ring_pass.h"

#include <algorithm>
#include <cassert>
#include <utility>

#include "sim/collectives/fast_ring.h"
#include "sim/collectives/pattern_rates.h"

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
  if (begin_computed(t)) return;
  for (int r = 0; r < ranks(); ++r) enter(r, 0, t);
}

namespace {

int find(std::vector<int>& parent, int x) {
  while (parent[static_cast<std::size_t>(x)] != x) {
    parent[static_cast<std::size_t>(x)] = parent[static_cast<std::size_t>(parent[static_cast<std::size_t>(x)])];
    x = parent[static_cast<std::size_t>(x)];
  }
  return x;
}

// A link's use by the connection of `rank` in `stage`.
struct LinkUse {
  int link, stage, rank;
};

}  // namespace

bool RingPassSchedule::begin_computed(Time t) {
  Network& net = network();
  if (stages_.empty() || !net.computed_schedules_allowed()) return false;
  const int P = ranks();
  std::vector<double> capacity(static_cast<std::size_t>(net.link_count()));
  for (int l = 0; l < net.link_count(); ++l) capacity[static_cast<std::size_t>(l)] = net.link_capacity(l);
  std::vector<FastRingStage> fast(stages_.size());
  std::vector<LinkUse> uses;
  std::vector<int> first_user(capacity.size(), -1), parent(static_cast<std::size_t>(P));
  for (std::size_t k = 0; k < stages_.size(); ++k) {
    const RingStage& s = stages_[k];
    FastRingStage& f = fast[k];
    f.next = s.next;
    f.steps = s.steps;
    f.split = s.split > 0 && s.split < s.steps ? s.split : 0;
    f.first_phase = phase_base_[k];
    // this stage's connections: which share links (union-find), and their max-min rates all active together
    std::vector<const std::vector<int>*> routes(static_cast<std::size_t>(P));
    f.latency_s.resize(P);
    std::fill(first_user.begin(), first_user.end(), -1);
    for (int r = 0; r < P; ++r) parent[static_cast<std::size_t>(r)] = r;
    for (int r = 0; r < P; ++r) {
      const Route& route = net.route(r, s.next[r]);
      routes[static_cast<std::size_t>(r)] = &route.links;
      f.latency_s[static_cast<std::size_t>(r)] = route.latency_s;
      for (const int l : route.links) {
        uses.push_back({l, static_cast<int>(k), r});
        int& u = first_user[static_cast<std::size_t>(l)];
        if (u < 0) u = r;
        else parent[static_cast<std::size_t>(find(parent, r))] = find(parent, u);
      }
    }
    const std::vector<double> rate = pattern_rates(routes, capacity);
    f.alpha_s.resize(P);
    f.duration_s.resize(P);
    f.lockstep_with.resize(P);
    const double bytes = s.bytes / chunks_;  // as send_step sends it
    for (int r = 0; r < P; ++r) {
      const auto ur = static_cast<std::size_t>(r);
      f.alpha_s[ur] = overhead().of(r, s.next[r]);
      f.duration_s[ur] = bytes <= 0.0 ? 0.0 : bytes / rate[ur];  // the network's completion: now + remaining / rate
      f.lockstep_with[ur] = find(parent, r);
    }
  }
  int phases = 0;
  for (std::size_t k = 0; k < stages_.size(); ++k)
    phases = std::max(phases, phase_base_[k] + (fast[k].split > 0 ? 2 : 1));
  const FastRingTimes times = fast_ring_times(fast, P, chunks_, t, phases);
  if (!times.lockstep) return false;
  // Connections of different stages on one link must never be busy together
  // (the same connection in two stages is one FIFO: it never overlaps itself).
  std::sort(uses.begin(), uses.end(), [](const LinkUse& a, const LinkUse& b) { return a.link < b.link; });
  for (std::size_t i = 0; i < uses.size();) {
    std::size_t j = i;
    while (j < uses.size() && uses[j].link == uses[i].link) ++j;
    for (std::size_t a = i; a < j; ++a)
      for (std::size_t b = a + 1; b < j; ++b) {
        const LinkUse &u = uses[a], &v = uses[b];
        if (u.stage == v.stage) continue;  // a lockstep group: checked in fast_ring_times
        if (u.rank == v.rank && stages_[u.stage].next[u.rank] == stages_[v.stage].next[v.rank]) continue;
        const BusySpan& x = times.busy[u.stage][u.rank];
        const BusySpan& y = times.busy[v.stage][v.rank];
        if (!(x.last_done <= y.first_begin || y.last_done <= x.first_begin)) return false;
      }
    i = j;
  }
  for (std::size_t k = 0; k < stages_.size(); ++k) {
    const RingStage& s = stages_[k];
    const double bytes = s.bytes / chunks_;
    for (int r = 0; r < P; ++r)
      network().account_messages(r, s.next[r], bytes, static_cast<std::uint64_t>(s.steps) * chunks_);
    count_messages(static_cast<std::uint64_t>(s.steps) * chunks_ * P);
  }
  for (int ph = 0; ph < phases; ++ph) note_phase_end(ph, times.phase_end[ph]);
  for (int r = 0; r < P; ++r) finish_rank_at(r, times.done[r]);
  computed_ = true;
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
