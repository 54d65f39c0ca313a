#include "sim/collectives/schedule.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace gcsim {

CollectiveSchedule::CollectiveSchedule(Engine& engine, Network& network, int ranks, MessageOverhead alpha)
    : engine_(engine),
      network_(network),
      ranks_(ranks),
      alpha_(alpha),
      done_at_(ranks, std::numeric_limits<Time>::quiet_NaN()) {}

void CollectiveSchedule::set_phase_names(std::vector<std::string> names) { phase_names_ = std::move(names); }

void CollectiveSchedule::start(Time t) {
  start_ = end_ = t;
  phase_end_.assign(phase_names_.size(), t);
  begin(t);
}

std::vector<PhaseSpan> CollectiveSchedule::phases() const {
  std::vector<PhaseSpan> out;
  Time prev = start_;
  for (std::size_t i = 0; i < phase_names_.size() && i < phase_end_.size(); ++i) {
    const Time end = std::max(prev, phase_end_[i]);
    out.push_back({phase_names_[i], prev, end});
    prev = end;
  }
  return out;
}

std::uint32_t CollectiveSchedule::new_message() {
  if (!free_.empty()) {
    const std::uint32_t m = free_.back();
    free_.pop_back();
    return m;
  }
  messages_pool_.emplace_back();
  return static_cast<std::uint32_t>(messages_pool_.size() - 1);
}

CollectiveSchedule::Connection& CollectiveSchedule::connection(int src, int dst) {
  return connections_[(static_cast<std::uint64_t>(src) << 32) | static_cast<std::uint32_t>(dst)];
}

void CollectiveSchedule::send(int src, int dst, double bytes, Time at, std::uint64_t msg, int phase) {
  assert(src != dst && at >= engine_.now());
  const std::uint32_t m = new_message();
  messages_pool_[m] = Message{src, dst, bytes, at, msg, phase, kNone};
  ++messages_;
  Connection& c = connection(src, dst);
  if (!c.busy) {
    c.busy = true;
    launch(m, at);
  } else if (c.tail == kNone) {
    c.head = c.tail = m;
  } else {
    messages_pool_[c.tail].next = m;
    c.tail = m;
  }
}

void CollectiveSchedule::launch(std::uint32_t m, Time at) {
  const Message& msg = messages_pool_[m];
  engine_.schedule(at + alpha_.of(msg.src, msg.dst), this, m);
}

void CollectiveSchedule::note_phase_end(int phase, Time arrival) {
  if (phase < static_cast<int>(phase_end_.size())) phase_end_[phase] = std::max(phase_end_[phase], arrival);
}

void CollectiveSchedule::finish_rank_at(int rank, Time t) {
  if (finish_at_.empty()) finish_at_.assign(ranks_, 0.0);
  finish_at_[rank] = t;
  engine_.schedule(t, this, kFinishTag | static_cast<std::uint64_t>(rank));
}

void CollectiveSchedule::on_event(std::uint64_t tag) {
  if (tag & kFinishTag) {
    const int rank = static_cast<int>(tag & ~kFinishTag);
    finish_rank(rank, finish_at_[rank]);
    return;
  }
  const Message& msg = messages_pool_[tag];
  network_.start_flow(msg.src, msg.dst, msg.bytes, this, tag);
}

void CollectiveSchedule::on_flow_done(std::uint64_t tag, Time arrival) {
  const auto m = static_cast<std::uint32_t>(tag);
  const Message msg = messages_pool_[m];
  free_.push_back(m);
  Connection& c = connection(msg.src, msg.dst);
  if (c.head != kNone) {  // the next queued message on this connection goes now
    const std::uint32_t next = c.head;
    c.head = messages_pool_[next].next;
    if (c.head == kNone) c.tail = kNone;
    messages_pool_[next].next = kNone;
    launch(next, std::max(engine_.now(), messages_pool_[next].ready));
  } else {
    c.busy = false;
  }
  if (msg.phase < static_cast<int>(phase_end_.size()))
    phase_end_[msg.phase] = std::max(phase_end_[msg.phase], arrival);
  on_receive(msg.src, msg.dst, msg.msg, arrival);
}

void CollectiveSchedule::finish_rank(int rank, Time t) {
  assert(std::isnan(done_at_[rank]) && "a rank finishes a collective once");
  done_at_[rank] = t;
  ++done_count_;
  end_ = std::max(end_, t);
  if (observer_ != nullptr) observer_->on_rank_done(rank, t);
}

}  // namespace gcsim
