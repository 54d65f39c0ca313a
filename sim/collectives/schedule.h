// A collective as a schedule of point-to-point messages on the DES network:
// the second face of every collective algorithm (the first is its closed-form
// alpha-beta cost). On a topology without contention the two agree.
//
// Messages between the same two ranks travel on one connection, in order: a
// message's flow starts when the previous message on the connection has left
// (as NCCL and Gloo serialise the sends of one connection), plus the
// library's per-message software overhead alpha. A message issued at t on an
// idle connection therefore arrives at t + alpha + bytes / rate + latency:
// the alpha-beta cost, with alpha = software overhead + route latency.
//
// All ranks enter at start(t) (the caller starts a collective when every
// participant has reached it). A rank is done when the last message it needs
// has arrived.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <unordered_map>
#include <vector>

#include "sim/collective_figures.h"
#include "sim/engine/engine.h"
#include "sim/network/network.h"

namespace gcsim {

// What every schedule is built on.
struct ScheduleContext {
  Engine& engine;
  Network& network;
  MessageOverhead alpha;  // per-message software overhead per link class (Fabric::overhead)
};

class CollectiveObserver {
 public:
  // Called at most once per rank; t may lie a route latency after now().
  virtual void on_rank_done(int rank, Time t) = 0;

 protected:
  ~CollectiveObserver() = default;
};

struct PhaseSpan {
  std::string name;
  Time start = 0.0;
  Time end = 0.0;
};

class CollectiveSchedule : private FlowListener, private EventHandler {
 public:
  CollectiveSchedule(Engine& engine, Network& network, int ranks, MessageOverhead alpha);
  CollectiveSchedule(const CollectiveSchedule&) = delete;
  CollectiveSchedule& operator=(const CollectiveSchedule&) = delete;
  virtual ~CollectiveSchedule() = default;

  virtual std::string name() const = 0;
  // Whether it computed its messages' times itself (fast_ring.h) instead of sending them.
  virtual bool computed_without_flows() const { return false; }

  void set_observer(CollectiveObserver* o) { observer_ = o; }
  void start(Time t);  // all ranks enter at t (>= engine.now())
  bool finished() const { return done_count_ == ranks_; }
  Time start_time() const { return start_; }
  Time end_time() const { return end_; }  // latest rank's done time
  Time rank_done(int r) const { return done_at_[r]; }
  std::uint64_t messages() const { return messages_; }
  // The collective's phases in order (e.g. reduce-scatter, allgather), each
  // ending when its last message arrived.
  std::vector<PhaseSpan> phases() const;

 protected:
  int ranks() const { return ranks_; }
  Engine& engine() { return engine_; }
  // Issue the first messages (at time t).
  virtual void begin(Time t) = 0;
  // Message `msg` (the schedule's own id) from src reached dst at `arrival`.
  virtual void on_receive(int src, int dst, std::uint64_t msg, Time arrival) = 0;

  // Send `bytes` from src to dst, issued at `at` (>= now). `phase` indexes phase_names().
  void send(int src, int dst, double bytes, Time at, std::uint64_t msg, int phase);
  void finish_rank(int rank, Time t);
  void set_phase_names(std::vector<std::string> names);

  // For a schedule that computes its messages' times itself instead of
  // sending them (ring passes computed without flows, fast_ring.h): the network
  // and the overhead, the messages and phase ends it accounts for, and each
  // rank's end, delivered as finish_rank(rank, t) by an event at t.
  Network& network() { return network_; }
  const MessageOverhead& overhead() const { return alpha_; }
  void count_messages(std::uint64_t n) { messages_ += n; }
  void note_phase_end(int phase, Time arrival);
  void finish_rank_at(int rank, Time t);

 private:
  struct Message {
    int src = 0, dst = 0;
    double bytes = 0.0;
    Time ready = 0.0;
    std::uint64_t msg = 0;
    int phase = 0;
    std::uint32_t next = kNone;  // next queued message on the same connection
  };
  struct Connection {
    bool busy = false;
    std::uint32_t head = kNone, tail = kNone;  // queued messages
  };
  static constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();

  void on_event(std::uint64_t tag) override;                       // a message's flow may start
  void on_flow_done(std::uint64_t tag, Time arrival) override;     // its last byte left
  std::uint32_t new_message();
  Connection& connection(int src, int dst);
  void launch(std::uint32_t m, Time at);

  Engine& engine_;
  Network& network_;
  int ranks_;
  MessageOverhead alpha_;
  CollectiveObserver* observer_ = nullptr;
  std::vector<Message> messages_pool_;
  std::vector<std::uint32_t> free_;
  std::unordered_map<std::uint64_t, Connection> connections_;
  std::vector<Time> done_at_;
  int done_count_ = 0;
  Time start_ = 0.0;
  Time end_ = 0.0;
  std::uint64_t messages_ = 0;
  std::vector<std::string> phase_names_{"collective"};
  std::vector<Time> phase_end_;
  std::vector<Time> finish_at_;  // finish_rank_at's times, per rank
  static constexpr std::uint64_t kFinishTag = std::uint64_t{1} << 63;
};

}  // namespace gcsim
