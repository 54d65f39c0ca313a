#include "sim/des/training_sim.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <memory>
#include <set>

#include "sim/analytic/efficiency.h"
#include "sim/collectives/allreduce.h"
#include "sim/collectives/fabric.h"
#include "sim/des/stragglers.h"
#include "sim/engine/engine.h"
#include "sim/network/network.h"
#include "sim/percentile.h"
#include "sim/training/buckets.h"
#include "sim/training/compression_cost.h"
#include "sim/training/compute_time.h"
#include "sim/training/phase_collective.h"
#include "topology/cluster_topology.h"

namespace gcsim {

namespace {

enum Kind : std::uint64_t { kArrive = 1, kDecompressed = 2, kIterationDone = 3 };
std::uint64_t tag(Kind k, int worker, int bucket) {
  return (static_cast<std::uint64_t>(k) << 56) | (static_cast<std::uint64_t>(worker) << 24) |
         static_cast<std::uint64_t>(bucket);
}

constexpr int kTidCompute = 1, kTidCompression = 2, kTidComm = 3;
constexpr int kPidCollectives = 0;

class TrainingSim final : private EventHandler, private CollectiveObserver {
 public:
  TrainingSim(const Scenario& s, const DesOptions& o)
      : s_(s),
        o_(o),
        P_(s.cluster.workers),
        ct_(compute_times(s)),
        fabric_(make_fabric(s.cluster, s.profile)),
        links_(fabric_.charged(charged_family(s.algorithm))),
        topology_(build_topology(s.cluster, s.profile, charged_family(s.algorithm))),
        network_(engine_, topology_),
        stragglers_(s.stragglers, P_),
        workers_(P_) {
    const auto buckets = make_buckets(s.model, s.training.bucket_mb * 1024.0 * 1024.0, s.compression.granularity);
    for (const auto& b : buckets) {
      costs_.push_back(bucket_cost(s, fabric_, b));
      last_layer_.push_back(b.layers.back());
    }
    iter_end_.assign(s.training.iterations, 0.0);
    bwd_end_max_.assign(s.training.iterations, 0.0);
    compute_max_.assign(s.training.iterations, 0.0);
    compute_min_.assign(s.training.iterations, std::numeric_limits<double>::infinity());
    compute_sum_.assign(s.training.iterations, 0.0);
    exposed_comm_.assign(s.training.iterations, 0.0);
    arrivals_.assign(costs_.size(), 0);
    next_phase_.assign(costs_.size(), 0);
    if (o_.trace != nullptr) name_tracks();
    // One collective at a time and nothing else on the network: what computed ring passes need.
    network_.enable_computed_schedules(o.fast_rings);
  }

  DesRun run() {
    for (int w = 0; w < P_; ++w) start_iteration(w, 0.0);
    engine_.run();
    return summarize();
  }

 private:
  struct Worker {
    int iteration = 0;
    double multiplier = 1.0;
    Time backward_end = 0.0;
    Time compression_free = 0.0;
    std::vector<Time> compressed;  // per bucket: compression finished
    std::vector<Time> ready;       // per bucket: its gradient is complete
    Time start = 0.0;              // this iteration began
  };

  bool communicates() const { return P_ > 1 && !costs_.empty(); }
  bool traced(int w) const { return o_.trace != nullptr && w < o_.trace_ranks; }
  int nb() const { return static_cast<int>(costs_.size()); }

  void start_iteration(int w, Time t) {
    Worker& wk = workers_[w];
    wk.multiplier = stragglers_.multiplier(w, wk.iteration);
    const double m = wk.multiplier;
    const Time fwd_end = t + ct_.forward_s * m;
    if (traced(w)) o_.trace->span(w + 1, kTidCompute, "forward", "compute", t, fwd_end);
    // Backward in reverse layer order; the time each layer's gradient is ready.
    std::vector<Time> grad_ready(s_.model.layers.size());
    Time clock = fwd_end;
    for (std::size_t i = s_.model.layers.size(); i-- > 0;) {
      clock += ct_.backward_layer_s[i] * m;
      grad_ready[i] = clock;
    }
    wk.backward_end = clock;
    if (traced(w)) o_.trace->span(w + 1, kTidCompute, "backward", "compute", fwd_end, clock);
    const int it = wk.iteration;
    bwd_end_max_[it] = std::max(bwd_end_max_[it], wk.backward_end);
    const double compute = (ct_.forward_s + ct_.backward_s) * m + ct_.optimizer_s;
    compute_max_[it] = std::max(compute_max_[it], compute);
    compute_min_[it] = std::min(compute_min_[it], compute);
    compute_sum_[it] += compute;

    wk.compressed.assign(costs_.size(), 0.0);
    wk.ready.assign(costs_.size(), 0.0);
    for (int b = 0; b < nb(); ++b) wk.ready[b] = s_.training.overlap ? grad_ready[last_layer_[b]] : wk.backward_end;
    wk.start = t;
    if (timeline(w)) spans_.assign(costs_.size(), BucketSpan{});
    // On a stream of its own every bucket compresses now, one after another;
    // on the shared one only the first, the others after the previous
    // bucket's decompression (on_event, kDecompressed).
    Time comp_free = t;
    for (int b = 0; b < (shared_stream() ? std::min(1, nb()) : nb()); ++b) comp_free = compress(w, b, comp_free);
    wk.compression_free = comp_free;
    if (communicates()) {
      engine_.schedule(wk.compressed[0], this, tag(kArrive, w, 0));
    } else {
      finish_iteration(w, std::max(t, wk.backward_end));
    }
  }

  bool shared_stream() const { return s_.training.shared_compression_stream; }
  // Whether worker w's current iteration is the one whose buckets DesRun::buckets records.
  bool timeline(int w) const { return w == 0 && workers_[0].iteration + 1 == s_.training.iterations && communicates(); }

  // Compresses worker w's bucket b from `free_at` on (or when it is ready);
  // returns when it is done.
  Time compress(int w, int b, Time free_at) {
    Worker& wk = workers_[w];
    const Time begin = std::max(wk.ready[b], free_at);
    const Time done = begin + (communicates() ? costs_[b].compress_s : 0.0);
    wk.compressed[b] = done;
    if (timeline(w)) {
      spans_[b].ready_s = wk.ready[b] - wk.start;
      spans_[b].compressed_s = done - wk.start;
    }
    if (traced(w) && done > begin)
      o_.trace->span(w + 1, kTidCompression, "compress b" + std::to_string(b), "compression", begin, done);
    return done;
  }

  void finish_iteration(int w, Time after) {
    const Time opt_end = after + ct_.optimizer_s;
    if (traced(w)) o_.trace->span(w + 1, kTidCompute, "optimizer", "compute", after, opt_end);
    engine_.schedule(opt_end, this, tag(kIterationDone, w, 0));
  }

  void on_event(std::uint64_t t) override {
    const auto kind = static_cast<Kind>(t >> 56);
    const int w = static_cast<int>((t >> 24) & 0xffffffffULL);
    const int b = static_cast<int>(t & 0xffffffULL);
    const Time now = engine_.now();
    switch (kind) {
      case kArrive:  // at the bucket's next phase (its collectives run in order)
        if (++arrivals_[b] == P_) {
          arrivals_[b] = 0;
          const int phase = next_phase_[b];
          next_phase_[b] = (phase + 1) % static_cast<int>(costs_[b].phases.size());
          start_collective(b, phase, now);
        }
        return;
      case kDecompressed: {
        Worker& wk = workers_[w];
        if (timeline(w)) spans_[b].end_s = now - wk.start;
        if (b + 1 < nb()) {
          if (shared_stream()) wk.compression_free = compress(w, b + 1, now);
          engine_.schedule(std::max(now, wk.compressed[b + 1]), this, tag(kArrive, w, b + 1));
        } else {
          finish_iteration(w, std::max({now, wk.backward_end, wk.compression_free}));
        }
        return;
      }
      case kIterationDone: {
        Worker& wk = workers_[w];
        iter_end_[wk.iteration] = std::max(iter_end_[wk.iteration], now);
        if (++wk.iteration < s_.training.iterations) start_iteration(w, now);
        return;
      }
    }
  }

  void start_collective(int b, int phase, Time now) {
    retired_.clear();  // schedules of earlier collectives, finished and no longer referenced
    const PhaseCost& c = costs_[b].phases[phase];
    // Its family's overheads and rates at its size (charged_fabric): the
    // endpoints' links, built with links_'s rates, at the charged ones.
    const Fabric charged = charged_fabric(fabric_, c);
    const Fabric::LinkScale scale = charged.rates_over(links_);
    network_.scale_links(scale.intra, scale.inter, scale.fabric);
    const ScheduleContext ctx{engine_, network_, charged.overhead};
    const double launch_s = charged.launch_s;
    current_ = phase_collective(c.use.kind).schedule(ctx, s_, fabric_, c);
    algorithms_.insert(current_->name());
    current_bucket_ = b;
    current_phase_ = phase;
    current_iteration_ = workers_[0].iteration;  // every worker has reached bucket b of this iteration
    current_->set_observer(this);
    current_->start(now + launch_s);
    collective_arrival_ = now;
    if (phase == 0 && timeline(0))  // every worker, worker 0 included, has reached this iteration's bucket b
      spans_[b].collective_start_s = now + launch_s - workers_[0].start;
  }

  void on_rank_done(int rank, Time t) override {
    const int b = current_bucket_;
    const BucketCost& c = costs_[b];
    if (traced(rank))
      o_.trace->span(rank + 1, kTidComm,
                     current_->name() + (c.phases.size() > 1 ? " " + c.phases[current_phase_].label : "") + " b" +
                         std::to_string(b),
                     "communication", collective_arrival_, t);
    if (current_phase_ + 1 < static_cast<int>(c.phases.size())) {
      // The kernels before the next collective (PowerSGD: orthogonalise P, Q = M^T P).
      const Time ready = t + c.phases[current_phase_ + 1].before_s;
      if (traced(rank) && ready > t)
        o_.trace->span(rank + 1, kTidComm, "encode " + c.phases[current_phase_ + 1].label + " b" + std::to_string(b),
                       "compression", t, ready);
      engine_.schedule(ready, this, tag(kArrive, rank, b));
    } else {
      const Time decompressed = t + c.decompress_s;
      if (traced(rank) && decompressed > t)
        o_.trace->span(rank + 1, kTidComm, "decode b" + std::to_string(b), "compression", t, decompressed);
      engine_.schedule(decompressed, this, tag(kDecompressed, rank, b));
    }
    if (current_->finished()) collective_finished();
  }

  void collective_finished() {
    const int it = current_iteration_;
    const Time start = collective_arrival_;
    const Time end = current_->end_time();
    comm_busy_ += end - start;
    exposed_comm_[it] += std::max(0.0, end - std::max(start, bwd_end_max_[it]));
    messages_ += current_->messages();
    ++collectives_;
    if (current_->computed_without_flows()) ++fast_collectives_;
    if (o_.trace != nullptr) {
      const std::string label = current_->name() + " b" + std::to_string(current_bucket_);
      o_.trace->span(kPidCollectives, 1, label, "collective", start, end);
      for (const PhaseSpan& p : current_->phases())
        o_.trace->span(kPidCollectives, 2, p.name + " b" + std::to_string(current_bucket_), "phase", p.start, p.end);
    }
    retired_.push_back(std::move(current_));
  }

  void name_tracks() {
    o_.trace->process_name(kPidCollectives, "collectives", 0);
    o_.trace->thread_name(kPidCollectives, 1, "collective");
    o_.trace->thread_name(kPidCollectives, 2, "phases");
    for (int w = 0; w < std::min(P_, o_.trace_ranks); ++w) {
      o_.trace->process_name(w + 1, "worker " + std::to_string(w), w + 1);
      o_.trace->thread_name(w + 1, kTidCompute, "compute");
      o_.trace->thread_name(w + 1, kTidCompression, "compression");
      o_.trace->thread_name(w + 1, kTidComm, "communication");
    }
  }

  // The slowest worker's compute minus the mean worker's in iteration i:
  // exactly 0 when all workers computed alike (a sum of P equal terms over P
  // need not round back to the term, which left about -1e-17), and never
  // below 0 (the mean cannot exceed the maximum, but its rounding can).
  double straggle_of(int i) const {
    if (compute_min_[i] == compute_max_[i]) return 0.0;
    return std::max(0.0, compute_max_[i] - compute_sum_[i] / P_);
  }

  DesRun summarize() {
    DesRun out;
    IterationResult& r = out.result;
    const int iters = s_.training.iterations;
    r.backend = "des";
    r.workers = P_;
    r.params = s_.model.total_params();
    r.buckets = nb();
    r.iterations = iters;
    double compute = 0.0, straggle = 0.0, exposed_comm = 0.0, tail = 0.0;
    for (int i = 0; i < iters; ++i) {
      const double d = iter_end_[i] - (i > 0 ? iter_end_[i - 1] : 0.0);
      out.iteration_s.push_back(d);
      compute += compute_max_[i];
      straggle += straggle_of(i);
      exposed_comm += exposed_comm_[i];
      tail += std::max(0.0, d - compute_max_[i]);
    }
    double sum = 0.0;
    for (double d : out.iteration_s) sum += d;
    r.iteration_time_s = sum / iters;
    r.iteration_p50_s = percentile(out.iteration_s, 0.50);
    r.iteration_p99_s = percentile(out.iteration_s, 0.99);
    r.forward_s = ct_.forward_s;
    r.backward_s = ct_.backward_s;
    r.optimizer_s = ct_.optimizer_s;
    r.compute_s = compute / iters;
    r.straggler_s = straggle / iters;
    r.exposed_comm_s = std::min(exposed_comm / iters, tail / iters);
    r.exposed_compression_s = std::max(0.0, tail / iters - r.exposed_comm_s);
    r.comm_s = comm_busy_ / iters;
    if (communicates()) {
      for (const BucketCost& c : costs_) {
        r.compression_s += c.compress_s + c.between_s() + c.decompress_s;
        r.selected += c.selected;
      }
    }
    double sent = 0.0, received = 0.0;
    for (int w = 0; w < P_; ++w) {
      sent += network_.bytes_sent_by(w);
      received += network_.bytes_received_by(w);
    }
    r.bytes_sent_per_worker = sent / P_ / iters;
    r.bytes_received_per_worker = received / P_ / iters;
    for (const auto& a : algorithms_) r.algorithm += (r.algorithm.empty() ? "" : "+") + a;
    if (r.algorithm.empty()) r.algorithm = "none";
    r.choice = describe_choice(costs_);
    r.iteration_time_p1_s = ct_.step_s();
    fill_efficiency(r);
    for (const LinkUsage& u : network_.busiest_links(o_.busiest_links, engine_.now()))
      r.busiest_links.push_back({u.name, u.bytes, u.utilization});
    r.events = engine_.events_processed();
    r.messages = messages_;
    r.collectives = collectives_;
    r.fast_collectives = fast_collectives_;
    out.buckets = spans_;
    return out;
  }

  const Scenario& s_;
  DesOptions o_;
  int P_;
  ComputeTimes ct_;
  Fabric fabric_;
  Fabric links_;  // what the DES's links were built with: the family of the scenario's dense algorithm, unsized
  Topology topology_;
  Engine engine_;
  Network network_;
  StragglerModel stragglers_;
  std::vector<Worker> workers_;
  std::vector<BucketCost> costs_;
  std::vector<std::size_t> last_layer_;
  std::vector<int> arrivals_;
  std::vector<int> next_phase_;  // per bucket: the phase its next full arrival starts
  std::unique_ptr<CollectiveSchedule> current_;
  std::vector<std::unique_ptr<CollectiveSchedule>> retired_;
  int current_bucket_ = -1;
  int current_phase_ = 0;
  int current_iteration_ = 0;
  Time collective_arrival_ = 0.0;
  std::set<std::string> algorithms_;
  std::vector<Time> iter_end_, bwd_end_max_;
  std::vector<double> compute_max_, compute_min_, compute_sum_, exposed_comm_;
  double comm_busy_ = 0.0;
  std::uint64_t messages_ = 0;
  std::uint64_t collectives_ = 0, fast_collectives_ = 0;
  std::vector<BucketSpan> spans_;   // worker 0's last iteration's buckets (timeline())
};

}  // namespace

DesRun simulate_des(const Scenario& s, const DesOptions& options) { return TrainingSim(s, options).run(); }

}  // namespace gcsim
