// The discrete-event engine: a queue of (time, sequence number, handler, tag)
// events, run in time order; equal times run in the order they were
// scheduled, so every run is deterministic. The engine knows nothing about
// models, networks or collectives: its clients are EventHandlers.
//
// Time is double seconds. The flow-level network produces completion times
// that are real-valued (bytes / max-min rate), so an integer clock would
// round every message; at picoseconds that rounding accumulates over the
// 2(P-1) steps of a ring to far more than the 1e-9 relative agreement the
// schedules must reach with their closed forms. A double carries 53 bits:
// sub-femtosecond resolution over a one-second iteration and about 0.1 ns
// after a simulated day, and ties are broken by the sequence number, not by
// the clock's resolution.
#pragma once

#include <cstdint>
#include <vector>

namespace gcsim {

using Time = double;  // seconds since the start of the simulation

class EventHandler {
 public:
  virtual void on_event(std::uint64_t tag) = 0;

 protected:
  ~EventHandler() = default;
};

class Engine {
 public:
  Time now() const { return now_; }
  // Schedules handler->on_event(tag) at time t (t >= now()).
  void schedule(Time t, EventHandler* handler, std::uint64_t tag);
  // Runs events until the queue is empty.
  void run();
  std::uint64_t events_processed() const { return processed_; }
  std::size_t pending() const { return heap_.size(); }

 private:
  struct Event {
    Time t;
    std::uint64_t seq;
    EventHandler* handler;
    std::uint64_t tag;
  };
  static bool later(const Event& a, const Event& b) { return a.t > b.t || (a.t == b.t && a.seq > b.seq); }
  void sift_up(std::size_t i);
  void sift_down(std::size_t i);

  std::vector<Event> heap_;  // binary min-heap on (t, seq)
  Time now_ = 0.0;
  std::uint64_t next_seq_ = 0;
  std::uint64_t processed_ = 0;
};

}  // namespace gcsim
