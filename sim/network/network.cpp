#include "sim/network/network.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <stdexcept>

namespace gcsim {

namespace {
constexpr std::uint64_t kFlowMask = 0xffffffffULL;
constexpr std::uint64_t kReallocate = ~0ULL;  // the batched rate recomputation
}  // namespace

// Heap order of progressive filling: smallest share on top, ties to the lower link id.
bool Network::fill_order(const FillEntry& a, const FillEntry& b) {
  return a.share > b.share || (a.share == b.share && a.link > b.link);
}


Network::Network(Engine& engine, const Topology& topology)
    : engine_(engine),
      topology_(topology),
      router_(topology),
      links_(topology.link_count()),
      sent_by_rank_(topology.ranks(), 0.0),
      received_by_rank_(topology.ranks(), 0.0) {
  for (int l = 0; l < topology.link_count(); ++l) {
    links_[l].capacity = links_[l].built = topology.link_bytes_per_s(l);
    links_[l].role = topology.link_role(l);
  }
}

void Network::start_flow(int src, int dst, double bytes, FlowListener* listener, std::uint64_t tag) {
  if (!(bytes >= 0.0)) throw std::invalid_argument("network: a flow needs bytes >= 0");
  std::uint32_t f;
  if (!free_flows_.empty()) {
    f = free_flows_.back();
    free_flows_.pop_back();
  } else {
    f = static_cast<std::uint32_t>(flows_.size());
    flows_.emplace_back();
  }
  Flow& fl = flows_[f];
  fl.route = &router_.route(src, dst);
  fl.remaining = bytes;
  fl.bytes = bytes;
  fl.rate = 0.0;
  fl.updated = engine_.now();
  fl.listener = listener;
  fl.tag = tag;
  fl.src = src;
  fl.dst = dst;
  fl.active = true;
  ++flows_started_;
  ++active_;
  sent_by_rank_[src] += bytes;
  if (bytes == 0.0) {  // nothing to send: only the latency
    schedule_completion(f);
    return;
  }
  attach(f);
  mark_dirty(fl.route->links);
}

void Network::scale_links(double intra, double nic, double fabric) {
  if (!(intra > 0.0 && nic > 0.0 && fabric > 0.0 && std::isfinite(intra) && std::isfinite(nic) && std::isfinite(fabric)))
    throw std::invalid_argument("network: link scales must be > 0 and finite");
  if (intra == scale_intra_ && nic == scale_nic_ && fabric == scale_fabric_) return;  // the usual case: the last collective's
  scale_intra_ = intra;
  scale_nic_ = nic;
  scale_fabric_ = fabric;
  std::vector<int> changed;
  for (int l = 0; l < static_cast<int>(links_.size()); ++l) {
    Link& link = links_[l];
    const double factor = link.role == LinkRole::Intra ? intra : link.role == LinkRole::Nic ? nic : fabric;
    const double capacity = link.built * factor;
    if (capacity == link.capacity) continue;
    link.capacity = capacity;
    if (!link.flows.empty()) changed.push_back(l);
  }
  if (!changed.empty()) mark_dirty(changed);
}

void Network::mark_dirty(const std::vector<int>& links) {
  dirty_links_.insert(dirty_links_.end(), links.begin(), links.end());
  if (!reallocation_pending_) {
    reallocation_pending_ = true;
    engine_.schedule(engine_.now(), this, kReallocate);
  }
}

void Network::attach(std::uint32_t f) {
  for (int l : flows_[f].route->links) links_[l].flows.push_back(f);
}

void Network::detach(std::uint32_t f) {
  const Flow& fl = flows_[f];
  for (int l : fl.route->links) {
    Link& link = links_[l];
    auto it = std::find(link.flows.begin(), link.flows.end(), f);
    assert(it != link.flows.end());
    *it = link.flows.back();
    link.flows.pop_back();
    link.bytes += fl.bytes;
  }
}

void Network::schedule_completion(std::uint32_t f) {
  Flow& fl = flows_[f];
  ++fl.version;
  const Time done = fl.remaining <= 0.0 ? engine_.now() : engine_.now() + fl.remaining / fl.rate;
  engine_.schedule(done, this, (static_cast<std::uint64_t>(fl.version) << 32) | f);
}

void Network::reallocate(const std::vector<int>& seed_links) {
  const Time now = engine_.now();
  ++stamp_;
  // Each connected component (links and flows reachable through shared
  // links) of the changed links is solved on its own: a batch of flows that
  // started together but share nothing costs as many small solves.
  for (int seed : seed_links) {
    if (links_[seed].mark == stamp_) continue;
    links_[seed].mark = stamp_;
    comp_flows_.clear();
    comp_links_.clear();
    comp_links_.push_back(seed);
    solve_component(now);
  }
}

void Network::solve_component(Time now) {
  for (std::size_t li = 0; li < comp_links_.size(); ++li) {
    for (std::uint32_t f : links_[comp_links_[li]].flows) {
      Flow& fl = flows_[f];
      if (fl.mark == stamp_) continue;
      fl.mark = stamp_;
      comp_flows_.push_back(f);
      for (int l2 : fl.route->links) {
        if (links_[l2].mark == stamp_) continue;
        links_[l2].mark = stamp_;
        comp_links_.push_back(l2);
      }
    }
  }
  if (comp_flows_.empty()) return;

  // Bring every flow's progress up to now at its old rate.
  std::vector<double>& old_rate = old_rate_;  // reused, no allocation per solve
  old_rate.resize(comp_flows_.size());
  for (std::size_t i = 0; i < comp_flows_.size(); ++i) {
    Flow& fl = flows_[comp_flows_[i]];
    old_rate[i] = fl.rate;
    fl.remaining = std::max(0.0, fl.remaining - fl.rate * (now - fl.updated));
    fl.updated = now;
    fl.frozen = false;
  }

  // Progressive filling: repeatedly the link with the smallest fair share
  // (residual capacity / unfrozen flows; ties to the lower link id) fixes the
  // rate of its unfrozen flows.
  for (int l : comp_links_) {
    Link& link = links_[l];
    link.residual = link.capacity;
    link.unfrozen = static_cast<int>(link.flows.size());
  }
  if (comp_links_.size() <= kSmallComponent) {
    fill_small();
  } else {
    fill_large();
  }

  for (std::size_t i = 0; i < comp_flows_.size(); ++i) {
    const std::uint32_t f = comp_flows_[i];
    if (flows_[f].rate != old_rate[i]) schedule_completion(f);
  }
}

// Fixes the rate of the bottleneck's unfrozen flows at `share` and takes it
// off every link they cross; with `requeue`, those links' new fair shares go
// into the progressive-filling heap.
void Network::freeze_link_flows(int bottleneck, double share, bool requeue) {
  for (std::uint32_t f : links_[bottleneck].flows) {
    Flow& fl = flows_[f];
    if (fl.frozen) continue;
    fl.frozen = true;
    fl.rate = share;
    for (int l2 : fl.route->links) {
      Link& link = links_[l2];
      link.residual = std::max(0.0, link.residual - share);
      --link.unfrozen;
      if (!requeue || l2 == bottleneck) continue;
      ++link.fill_version;
      if (link.unfrozen > 0) {
        fill_heap_.push_back({link.residual / link.unfrozen, l2, link.fill_version});
        std::push_heap(fill_heap_.begin(), fill_heap_.end(), fill_order);
      }
    }
  }
}

// Few links (the common case: a flow that shares its links with none or a
// handful of others): a linear scan for the bottleneck beats a heap.
void Network::fill_small() {
  for (;;) {
    int best = -1;
    double best_share = 0.0;
    for (int l : comp_links_) {
      const Link& link = links_[l];
      if (link.unfrozen == 0) continue;
      const double share = link.residual / link.unfrozen;
      if (best < 0 || share < best_share || (share == best_share && l < best)) {
        best = l;
        best_share = share;
      }
    }
    if (best < 0) return;
    freeze_link_flows(best, best_share, false);
  }
}

void Network::fill_large() {
  fill_heap_.clear();
  for (int l : comp_links_) {
    Link& link = links_[l];
    ++link.fill_version;
    if (link.unfrozen > 0) fill_heap_.push_back({link.residual / link.unfrozen, l, link.fill_version});
  }
  std::make_heap(fill_heap_.begin(), fill_heap_.end(), fill_order);
  while (!fill_heap_.empty()) {
    std::pop_heap(fill_heap_.begin(), fill_heap_.end(), fill_order);
    const FillEntry e = fill_heap_.back();
    fill_heap_.pop_back();
    const Link& bottleneck = links_[e.link];
    if (e.version != bottleneck.fill_version || bottleneck.unfrozen == 0) continue;  // stale
    freeze_link_flows(e.link, e.share, true);
  }
}

void Network::account_messages(int src, int dst, double bytes_each, std::uint64_t count) {
  const Route& r = router_.route(src, dst);
  const double total = bytes_each * static_cast<double>(count);
  for (const int l : r.links) links_[l].bytes += total;
  sent_by_rank_[src] += total;
  received_by_rank_[dst] += total;
  flows_started_ += count;
}

void Network::on_event(std::uint64_t tag) {
  if (tag == kReallocate) {
    reallocation_pending_ = false;
    std::vector<int> seeds;
    seeds.swap(dirty_links_);
    reallocate(seeds);
    seeds.clear();
    if (dirty_links_.empty()) dirty_links_.swap(seeds);  // keep the capacity
    return;
  }
  const auto f = static_cast<std::uint32_t>(tag & kFlowMask);
  const auto version = static_cast<std::uint32_t>(tag >> 32);
  Flow& fl = flows_[f];
  if (!fl.active || fl.version != version) return;  // replaced by a later completion
  const bool attached = fl.bytes > 0.0;
  if (attached) detach(f);
  fl.active = false;
  --active_;
  received_by_rank_[fl.dst] += fl.bytes;
  const Time arrival = engine_.now() + fl.route->latency_s;
  FlowListener* listener = fl.listener;
  const std::uint64_t user_tag = fl.tag;
  const Route* route = fl.route;
  free_flows_.push_back(f);
  if (attached) mark_dirty(route->links);
  listener->on_flow_done(user_tag, arrival);
}

std::vector<LinkUsage> Network::busiest_links(int n, Time span) const {
  std::vector<LinkUsage> all;
  for (int l = 0; l < static_cast<int>(links_.size()); ++l) {
    const Link& link = links_[l];
    if (link.bytes <= 0.0) continue;
    LinkUsage u;
    u.link = l;
    u.bytes = link.bytes;
    u.utilization = span > 0.0 ? link.bytes / (link.built * span) : 0.0;
    all.push_back(u);
  }
  std::stable_sort(all.begin(), all.end(),
                   [](const LinkUsage& a, const LinkUsage& b) { return a.utilization > b.utilization; });
  if (static_cast<int>(all.size()) > n) all.resize(n);
  for (auto& u : all) u.name = topology_.link_name(u.link);
  return all;
}

}  // namespace gcsim
