// The network: messages are flows along routes of directed links, and the
// active flows share every link's capacity max-min fairly (progressive
// filling; Bertsekas & Gallager, "Data Networks", 1992, section 6.5.2). This
// is the flow-level model of SimGrid (Velho et al., "On the validity of
// flow-level TCP network models for grid and cloud simulations", ACM TOMACS
// 2013), without its TCP corrections.
//
// A flow's rate changes only when a flow it shares links with starts or ends,
// so both events recompute rates only over the connected set of flows reachable
// through shared links (a flow that shares nothing costs O(route length)),
// never over the whole network: this is what keeps large P fast. Starts and
// ends that happen at the same instant (a collective step that starts P flows
// at once) are batched into one recomputation, run by an event at that same
// instant after them; until then a new flow has rate 0, which loses nothing
// because no time passes.
//
// A flow of m bytes started at t with a constant rate R ends at t + m / R; its
// last byte arrives at the destination one route latency (the sum of the hop
// latencies) later, which is when the listener hears of it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/engine/engine.h"
#include "topology/routing.h"
#include "topology/topology.h"

namespace gcsim {

class FlowListener {
 public:
  // Called at the time the flow's last byte leaves the route's last link;
  // `arrival` (>= now) is when it reaches the destination.
  virtual void on_flow_done(std::uint64_t tag, Time arrival) = 0;

 protected:
  ~FlowListener() = default;
};

struct LinkUsage {
  int link = 0;
  std::string name;
  double bytes = 0.0;        // carried over the run
  double utilization = 0.0;  // bytes / (capacity x span)
};

class Network final : private EventHandler {
 public:
  Network(Engine& engine, const Topology& topology);

  // Starts a flow of `bytes` (>= 0) from rank src to rank dst (src != dst) now.
  void start_flow(int src, int dst, double bytes, FlowListener* listener, std::uint64_t tag);

  // Every link at a multiple of the capacity the topology gave it, by role:
  // a rank's NIC path (LinkRole::Nic) at `nic`, the links inside a node
  // (LinkRole::Intra) at `intra`, the links between switches (LinkRole::
  // Fabric) at `fabric`. For a collective charged another efficiency than
  // the links were built with (another family's, or its size's on a measured
  // curve: sim/collectives/fabric.h): at the endpoints the library's
  // (software, protocol, a busy host), between switches the family's fabric
  // efficiency (the NICs' unless the profile measured one). Active flows are
  // re-rated from now.
  void scale_links(double intra, double nic, double fabric = 1.0);

  std::uint64_t flows_started() const { return flows_started_; }
  std::size_t active_flows() const { return active_; }
  double bytes_sent_by(int rank) const { return sent_by_rank_.at(rank); }
  double bytes_received_by(int rank) const { return received_by_rank_.at(rank); }
  // The `n` links with the highest utilization over [0, span].
  std::vector<LinkUsage> busiest_links(int n, Time span) const;

  // ---- For schedules that compute their messages' times themselves
  // (sim/collectives/fast_ring.h) where that is exact: the owner of the
  // network (the DES training loop, which runs one collective at a time and
  // nothing else on the network) enables it; it then holds while the network
  // is idle. Routes and capacities are the ones flows would see.
  void enable_computed_schedules(bool on) { computed_enabled_ = on; }
  bool computed_schedules_allowed() const { return computed_enabled_ && active_ == 0 && !reallocation_pending_; }
  const Route& route(int src, int dst) { return router_.route(src, dst); }
  double link_capacity(int link) const { return links_[static_cast<std::size_t>(link)].capacity; }
  int link_count() const { return static_cast<int>(links_.size()); }
  // Counts `count` messages of `bytes_each` from src to dst as carried (link,
  // rank and flow counters), as their flows would have.
  void account_messages(int src, int dst, double bytes_each, std::uint64_t count);

 private:
  struct Flow {
    double remaining = 0.0;  // bytes not yet sent as of `updated`
    double rate = 0.0;       // bytes/s
    Time updated = 0.0;
    const Route* route = nullptr;
    FlowListener* listener = nullptr;
    std::uint64_t tag = 0;
    double bytes = 0.0;
    int src = 0;
    int dst = 0;
    std::uint32_t version = 0;  // bumped whenever its completion event is replaced
    std::uint32_t mark = 0;     // visit stamp for the component search
    bool active = false;
    bool frozen = false;        // rate fixed in the current progressive filling
  };
  struct Link {
    double capacity = 0.0;
    double built = 0.0;  // the topology's capacity (scale_links scales it)
    LinkRole role = LinkRole::Nic;
    std::vector<std::uint32_t> flows;  // active flows crossing it
    double bytes = 0.0;
    std::uint32_t mark = 0;
    // progressive-filling scratch
    double residual = 0.0;
    int unfrozen = 0;
    std::uint32_t fill_version = 0;
  };
  struct FillEntry {
    double share;
    int link;
    std::uint32_t version;
  };

  void on_event(std::uint64_t tag) override;
  void attach(std::uint32_t f);
  void detach(std::uint32_t f);
  // Recomputes max-min rates over the flows connected to `seed_links` and
  // reschedules the completions of those whose rate changed.
  void reallocate(const std::vector<int>& seed_links);
  void mark_dirty(const std::vector<int>& links);
  void solve_component(Time now);
  void fill_small();
  void fill_large();
  void freeze_link_flows(int bottleneck, double share, bool requeue);
  static bool fill_order(const FillEntry& a, const FillEntry& b);
  static constexpr std::size_t kSmallComponent = 24;
  void schedule_completion(std::uint32_t f);

  Engine& engine_;
  const Topology& topology_;
  Router router_;
  std::vector<Flow> flows_;
  std::vector<std::uint32_t> free_flows_;
  std::vector<Link> links_;
  double scale_intra_ = 1.0;  // the scales scale_links last set
  double scale_nic_ = 1.0;
  double scale_fabric_ = 1.0;
  std::vector<double> sent_by_rank_;
  std::vector<double> received_by_rank_;
  std::uint64_t flows_started_ = 0;
  std::size_t active_ = 0;
  std::uint32_t stamp_ = 0;
  // scratch, reused to avoid allocation on the hot path
  std::vector<std::uint32_t> comp_flows_;
  std::vector<int> comp_links_;
  std::vector<int> dirty_links_;
  bool reallocation_pending_ = false;
  std::vector<double> old_rate_;
  std::vector<FillEntry> fill_heap_;
  bool computed_enabled_ = false;
};

}  // namespace gcsim
