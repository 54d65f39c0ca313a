// What the tests of collective schedules share: P hosts on one switch as the
// DES sees them (topology/builders.h) and as the closed forms see them (a
// Fabric), and running one schedule on them to completion.
#pragma once

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>

#include "sim/collectives/fabric.h"
#include "sim/collectives/schedule.h"
#include "sim/engine/engine.h"
#include "sim/network/network.h"
#include "topology/builders.h"

namespace gcsim::test {

constexpr double kAlphaSw = 3.4e-6;  // software overhead per message
constexpr double kLatency = 6.2e-6;  // host to host
constexpr double kBw = 10e9 / 8.0;   // 10 Gb/s

using Factory = std::function<std::unique_ptr<CollectiveSchedule>(const ScheduleContext&)>;

struct Outcome {
  double time = 0.0;
  std::uint64_t messages = 0;
  double sent_per_rank = 0.0;
};

inline Outcome run_collective(const Topology& t, const Factory& make, double start = 0.0) {
  Engine engine;
  Network network(engine, t);
  const ScheduleContext ctx{engine, network, kAlphaSw};
  auto s = make(ctx);
  s->start(start);
  engine.run();
  REQUIRE(s->finished());
  REQUIRE(network.active_flows() == 0);
  Outcome o;
  o.time = s->end_time() - start;
  o.messages = s->messages();
  for (int r = 0; r < t.ranks(); ++r) o.sent_per_rank += network.bytes_sent_by(r) / t.ranks();
  return o;
}

// The closed forms' view of P hosts on one switch.
inline Fabric switch_fabric(int P) {
  Fabric f;
  f.P = P;
  f.G = 1;
  f.M = P;
  f.inter = {kAlphaSw + kLatency, kBw};
  f.intra = f.inter;
  return f;
}

inline Topology switch_topology(int P) { return build_switch(P, {kBw, kLatency}); }

inline double rel(double a, double b) { return std::abs(a - b) / std::abs(b); }

}  // namespace gcsim::test
