// The emulated-compute worker (see emulated_trainer.h).
#include "train/emulate/emulated_trainer.h"

#include <chrono>
#include <stdexcept>
#include <thread>

#include "train/emulate/synthetic_gradient.h"

namespace gcsim::train {

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }
Clock::duration seconds(double s) { return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s)); }

}  // namespace

EmulatedTrainer::EmulatedTrainer(comm::Communicator& comm, const TrainConfig& config, const std::string& kernel_backend)
    : comm_(comm), config_(config), times_(gcsim::compute_times(config.scenario)) {
  const Scenario& s = config_.scenario;
  if (!s.compute.emulate) throw std::invalid_argument("EmulatedTrainer: the scenario does not set compute.emulate");
  if (comm.size() != s.cluster.workers)
    throw std::invalid_argument("EmulatedTrainer: communicator has " + std::to_string(comm.size()) +
                                " ranks, cluster.workers = " + std::to_string(s.cluster.workers));
  std::vector<NamedRange> named;
  std::size_t offset = 0;
  for (std::size_t i = 0; i < s.model.layers.size(); ++i) {
    const Layer& l = s.model.layers[i];
    const auto n = static_cast<std::size_t>(l.params);
    ranges_.push_back({i, offset, n});
    if (n > 0) named.push_back({l.name, offset, n, tensors_of(l)});
    offset += n;
  }
  if (named.empty()) throw std::invalid_argument("EmulatedTrainer: the model has no parameters");
  pristine_.resize(offset);
  grads_.assign(offset, 0.0f);
  for (const Range& r : ranges_)
    synthetic_layer_gradient(std::span<float>(pristine_).subspan(r.offset, r.size), config_.settings.seed,
                             comm.rank(), r.layer);
  exchange_ = std::make_unique<GradientExchange>(
      comm, s.compression, make_segments(named, s.compression, s.training.bucket_mb), offset, kernel_backend);
  exchange_->set_momentum(config_.settings.momentum);
  if (s.training.overlap) overlapped_ = std::make_unique<OverlappedExchange>(*exchange_);
}

EmulatedTrainer::~EmulatedTrainer() = default;

std::string EmulatedTrainer::description() const {
  char b[160];
  std::snprintf(b, sizeof b, "emulated compute: %s (%zu parameters), %.1f ms per step slept",
                config_.scenario.model.name.c_str(), grads_.size(), 1e3 * times_.step_s());
  return b;
}

RunResult EmulatedTrainer::run(TrainObserver* observer) {
  const int steps = config_.scenario.compute.emulate_steps;
  const bool overlap = overlapped_ != nullptr;
  RunResult result;
  for (int step = 0; step < steps; ++step) {
    StepRecord rec;
    rec.epoch = 0;
    rec.step = step;
    rec.steps_in_epoch = steps;
    rec.samples = config_.scenario.batch_per_worker;
    const auto t_step = Clock::now();
    comm_.barrier();  // every worker starts its forward pass together, as the simulator's iteration does
    rec.wait_s = since(t_step);

    const auto t0 = Clock::now();
    const auto gstep = static_cast<std::uint64_t>(step);
    if (overlap) overlapped_->begin(grads_, gstep, t0);
    std::this_thread::sleep_until(t0 + seconds(times_.forward_s));
    // Backward, the last layer first: each layer's gradient is "computed"
    // (copied from its pristine values) and final at its deadline.
    double clock = times_.forward_s;
    for (std::size_t i = ranges_.size(); i-- > 0;) {
      const Range& r = ranges_[i];
      step_gradient(std::span<const float>(pristine_).subspan(r.offset, r.size),
                    std::span<float>(grads_).subspan(r.offset, r.size), gstep);
      clock += times_.backward_layer_s[r.layer];
      std::this_thread::sleep_until(t0 + seconds(clock));
      if (overlap && r.size > 0) overlapped_->ready_from(r.offset);
    }
    rec.compute_s = since(t0);
    record_exchange(rec, overlap ? overlapped_->finish(&rec.buckets)
                                 : exchange_->exchange(grads_, gstep, &rec.buckets, t0));
    const auto t_opt = Clock::now();
    std::this_thread::sleep_until(t_opt + seconds(times_.optimizer_s));
    rec.optimizer_s = since(t_opt);
    rec.step_s = since(t_step);
    rec.global_step = gstep + 1;
    if (observer) observer->on_step(rec);
  }
  result.global_steps = static_cast<std::uint64_t>(steps);
  result.replicas_identical = same_on_every_rank(comm_, grads_);  // every rank must hold the same average
  return result;
}

}  // namespace gcsim::train
