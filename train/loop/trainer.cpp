// One rank's training loop (see trainer.h).
#include "train/loop/trainer.h"

#include <chrono>
#include <cstring>
#include <sstream>
#include <variant>

#include "train/loop/checkpoint.h"

namespace gcsim::train {

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// The model's parameter blocks, with their tensor shapes from the zoo's
// layer of the same name (PowerSGD reshapes the matrices).
std::vector<NamedRange> layer_ranges(const SimpleCnn& m, const ModelSpec& zoo) {
  std::vector<NamedRange> out;
  for (const auto& b : m.blocks()) {
    NamedRange r{b.name, b.offset, b.size, {}};
    for (const Layer& l : zoo.layers)
      if (l.name == b.name && static_cast<std::size_t>(l.params) == b.size) r.tensors = l.tensors;
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace

void record_exchange(StepRecord& rec, ExchangeStats ex) {
  rec.compress_s = ex.compress_s;
  rec.communicate_s = ex.communicate_s;
  rec.decompress_s = ex.decompress_s;
  rec.bytes_sent = ex.bytes_sent;
  rec.entries_sent = ex.entries_sent;
  rec.merges = std::move(ex.merges);
}

bool same_on_every_rank(comm::Communicator& comm, std::span<const float> values) {
  const std::uint64_t h =
      fingerprint_of(std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float)));
  std::vector<std::uint8_t> all;
  std::vector<std::size_t> counts;
  comm.allgatherv(&h, sizeof(h), all, counts);
  for (int q = 0; q < comm.size(); ++q)
    if (std::memcmp(all.data() + q * sizeof(h), &h, sizeof(h)) != 0) return false;
  return true;
}

std::string Trainer::fingerprint_text(const TrainConfig& c) {
  const auto& s = c.scenario;
  const auto& t = c.settings;
  std::ostringstream o;
  o.precision(17);
  o << "model=" << s.model.name << ";workers=" << s.cluster.workers << ";batch=" << s.batch_per_worker
    << ";method=" << s.compression.method << ";ratio=" << s.compression.ratio
    << ";ef=" << s.compression.error_feedback << ";mc=" << s.compression.momentum_correction << ";granularity=" << to_string(s.compression.granularity)
    << ";exchange=" << to_string(s.compression.exchange) << ";bucket_mb=" << s.training.bucket_mb
    << ";seed=" << t.seed << ";lr=" << t.lr << ";momentum=" << t.momentum << ";wd=" << t.weight_decay
    << ";limit_train=" << t.limit_train.value_or(0) << ";shuffle=" << t.shuffle;
  // Options of the newer methods (the string above is what older checkpoints hold).
  for (std::string_view key : compress::method(s.compression.method).options()) {
    if (key == "ratio" || key == "index_bytes" || key == "error_feedback" || key == "momentum_correction" ||
        key == "granularity" || key == "exchange" || (key == "warmup_epochs" && s.compression.warmup_epochs == 0))
      continue;
    o << ';' << key << '=';
    std::visit([&](const auto& v) { o << v; }, option_value(s.compression, key));
  }
  return o.str();
}

Trainer::Trainer(comm::Communicator& comm, const FashionMnist& data, const TrainConfig& config, TrainerOptions options)
    : comm_(comm),
      data_(data),
      config_(config),
      options_(std::move(options)),
      sampler_(data.train.count, comm.rank(), comm.size(), config.settings.seed, config.settings.shuffle),
      fingerprint_(fingerprint_of(fingerprint_text(config))) {
  if (comm.size() != config.scenario.cluster.workers)
    throw std::invalid_argument("Trainer: communicator has " + std::to_string(comm.size()) +
                                " ranks, cluster.workers = " + std::to_string(config.scenario.cluster.workers));
  const int batch = config.scenario.batch_per_worker;
  model_ = std::make_unique<SimpleCnn>(std::max(batch, options_.eval_batch), options_.device, comm.rank());
  model_->init(config.settings.seed);
  // With momentum correction the workers keep the momentum (and fold in weight
  // decay) before compressing; the global step is plain SGD on the average.
  const bool mc = config.scenario.compression.momentum_correction;
  sgd_ = std::make_unique<Sgd>(SimpleCnn::kParams,
                               mc ? SgdOptions{config.settings.lr, 0.0, 0.0}
                                  : SgdOptions{config.settings.lr, config.settings.momentum, config.settings.weight_decay});
  exchange_ = std::make_unique<GradientExchange>(
      comm, config.scenario.compression,
      make_segments(layer_ranges(*model_, config.scenario.model), config.scenario.compression, config.scenario.training.bucket_mb),
      SimpleCnn::kParams, options_.kernel_backend);
  exchange_->set_momentum(config.settings.momentum);
  if (config.scenario.training.overlap) overlapped_ = std::make_unique<OverlappedExchange>(*exchange_);
}

Trainer::~Trainer() = default;

void Trainer::save(std::uint32_t epoch, std::uint32_t step, std::uint64_t global_step, const Totals& totals,
                   const std::vector<EpochRecord>& epochs) {
  if (options_.checkpoint_dir.empty()) return;
  CheckpointState s;
  s.rank = static_cast<std::uint32_t>(comm_.rank());
  s.workers = static_cast<std::uint32_t>(comm_.size());
  s.fingerprint = fingerprint_;
  s.epoch = epoch;
  s.step = step;
  s.global_step = global_step;
  s.params.assign(model_->params().begin(), model_->params().end());
  s.momentum.assign(sgd_->momentum_buffer().begin(), sgd_->momentum_buffer().end());
  s.residual.assign(exchange_->residual().begin(), exchange_->residual().end());
  s.local_momentum.assign(exchange_->local_momentum().begin(), exchange_->local_momentum().end());
  s.bytes_sent = totals.bytes;
  s.epoch_loss_sum = totals.loss_sum;
  s.epoch_correct = totals.correct;
  s.epoch_samples = totals.samples;
  for (const auto& e : epochs)
    s.epochs.push_back({static_cast<std::uint32_t>(e.epoch), e.global_step, e.train_loss, e.train_accuracy, e.test_loss,
                        e.test_accuracy, e.bytes_sent});
  save_checkpoint(options_.checkpoint_dir, s);
}

EpochRecord Trainer::evaluate(int epoch, double loss_sum, double correct, double samples) {
  // Each rank evaluates a contiguous slice of the test set; one allreduce sums.
  const int n = data_.test.count, p = comm_.size(), r = comm_.rank();
  const int begin = static_cast<int>(static_cast<std::int64_t>(n) * r / p);
  const int end = static_cast<int>(static_cast<std::int64_t>(n) * (r + 1) / p);
  EvalResult ev;
  if (end > begin)
    ev = model_->evaluate(data_.test.image(begin), data_.test.labels.data() + begin, end - begin);
  float sums[6] = {static_cast<float>(ev.loss * ev.count), static_cast<float>(ev.accuracy * ev.count),
                   static_cast<float>(ev.count),         static_cast<float>(loss_sum),
                   static_cast<float>(correct),          static_cast<float>(samples)};
  comm_.allreduce_sum(sums, 6);
  EpochRecord rec;
  rec.epoch = epoch;
  rec.test_loss = sums[2] > 0 ? sums[0] / sums[2] : 0.0;
  rec.test_accuracy = sums[2] > 0 ? sums[1] / sums[2] : 0.0;
  rec.train_loss = sums[5] > 0 ? sums[3] / sums[5] : 0.0;
  rec.train_accuracy = sums[5] > 0 ? sums[4] / sums[5] : 0.0;
  return rec;
}

bool Trainer::replicas_identical() { return same_on_every_rank(comm_, model_->params()); }

RunResult Trainer::run(TrainObserver* observer) {
  const int batch = config_.scenario.batch_per_worker;
  const int epochs = config_.settings.epochs;
  const int steps_per_epoch = sampler_.steps_per_epoch(batch);
  int start_epoch = 0, start_step = 0;
  std::uint64_t global_step = 0;
  RunResult result;
  Totals totals;

  if (!options_.resume_dir.empty()) {
    CheckpointState s =
        load_resume_checkpoint(options_.resume_dir, comm_.rank(), comm_.size(), fingerprint_, SimpleCnn::kParams);
    std::copy(s.params.begin(), s.params.end(), model_->params().begin());
    std::copy(s.momentum.begin(), s.momentum.end(), sgd_->momentum_buffer().begin());
    std::copy(s.residual.begin(), s.residual.end(), exchange_->residual().begin());
    if (s.local_momentum.size() != exchange_->local_momentum().size())
      throw std::runtime_error("checkpoint: momentum-correction state does not match (fingerprint collision?)");
    std::copy(s.local_momentum.begin(), s.local_momentum.end(), exchange_->local_momentum().begin());
    start_epoch = static_cast<int>(s.epoch);
    start_step = static_cast<int>(s.step);
    global_step = s.global_step;
    // The record continues too: epochs done, bytes sent, the open epoch's sums.
    totals = {s.bytes_sent, s.epoch_loss_sum, s.epoch_correct, s.epoch_samples};
    for (const auto& e : s.epochs) {
      EpochRecord er;
      er.epoch = static_cast<int>(e.epoch);
      er.global_step = e.global_step;
      er.train_loss = e.train_loss;
      er.train_accuracy = e.train_accuracy;
      er.test_loss = e.test_loss;
      er.test_accuracy = e.test_accuracy;
      er.bytes_sent = e.bytes_sent;
      result.epochs.push_back(er);
    }
    if (observer) observer->on_resume({options_.resume_dir, global_step, result.epochs});
  }

  std::vector<float> images;
  std::vector<std::uint8_t> labels;
  for (int epoch = start_epoch; epoch < epochs; ++epoch) {
    if (config_.scenario.compression.warmup_epochs > 0)
      exchange_->set_density(GradientExchange::warmup_density(config_.scenario.compression, epoch));
    double epoch_s = 0.0;
    for (int step = (epoch == start_epoch ? start_step : 0); step < steps_per_epoch; ++step) {
      if (options_.stop_after >= 0 && global_step >= static_cast<std::uint64_t>(options_.stop_after)) {
        save(static_cast<std::uint32_t>(epoch), static_cast<std::uint32_t>(step), global_step, totals, result.epochs);
        result.stopped = true;
        result.global_steps = global_step;
        result.replicas_identical = replicas_identical();
        return result;
      }
      StepRecord rec;
      const auto t_step = Clock::now();
      auto t0 = t_step;
      gather_batch(data_.train, sampler_.batch_indices(epoch, step, batch), images, labels);
      rec.data_s = since(t0);

      // With momentum correction the workers fold weight decay into the
      // gradient before compressing it.
      const bool fold_wd = config_.scenario.compression.momentum_correction && config_.settings.weight_decay != 0.0;
      const auto wd = static_cast<float>(config_.settings.weight_decay);
      const auto fold = [&](std::size_t from, std::size_t to) {
        auto g = model_->grads();
        const auto p = model_->params();
        for (std::size_t i = from; i < to; ++i) g[i] += wd * p[i];
      };
      rec.samples = static_cast<int>(labels.size());
      ExchangeStats ex;
      if (overlapped_) {
        // Buckets go to the communication thread as backward fills them.
        t0 = Clock::now();
        comm_.barrier();
        rec.wait_s = since(t0);
        t0 = Clock::now();
        overlapped_->begin(model_->grads(), global_step, t0);
        std::size_t final_from = model_->grads().size();
        rec.loss = model_->forward_backward(images.data(), labels.data(), rec.samples, &rec.correct,
                                            [&](std::size_t from) {
                                              if (from >= final_from) return;
                                              if (fold_wd) fold(from, final_from);
                                              final_from = from;
                                              overlapped_->ready_from(from);
                                            });
        rec.compute_s = since(t0);
        ex = overlapped_->finish(&rec.buckets);
      } else {
        const auto t_compute = Clock::now();
        rec.loss = model_->forward_backward(images.data(), labels.data(), rec.samples, &rec.correct);
        rec.compute_s = since(t_compute);
        if (fold_wd) fold(0, model_->grads().size());
        t0 = Clock::now();
        comm_.barrier();
        rec.wait_s = since(t0);
        ex = exchange_->exchange(model_->grads(), global_step, &rec.buckets, t_compute);
      }
      record_exchange(rec, std::move(ex));

      t0 = Clock::now();
      sgd_->step(model_->params(), model_->grads());
      rec.optimizer_s = since(t0);
      rec.step_s = since(t_step);

      ++global_step;
      rec.epoch = epoch;
      rec.step = step;
      rec.steps_in_epoch = steps_per_epoch;
      rec.global_step = global_step;
      totals.loss_sum += rec.loss * rec.samples;
      totals.correct += rec.correct;
      totals.samples += rec.samples;
      totals.bytes += rec.bytes_sent;
      epoch_s += rec.step_s;
      if (observer) observer->on_step(rec);
      if (options_.checkpoint_every > 0 && global_step % static_cast<std::uint64_t>(options_.checkpoint_every) == 0)
        save(static_cast<std::uint32_t>(epoch), static_cast<std::uint32_t>(step + 1), global_step, totals,
             result.epochs);
    }
    EpochRecord er = evaluate(epoch + 1, totals.loss_sum, totals.correct, totals.samples);
    er.global_step = global_step;
    er.epoch_s = epoch_s;
    er.bytes_sent = totals.bytes;
    result.epochs.push_back(er);
    totals.loss_sum = totals.correct = totals.samples = 0.0;
    if (observer) observer->on_epoch(er);
    save(static_cast<std::uint32_t>(epoch + 1), 0, global_step, totals, result.epochs);
  }
  result.global_steps = global_step;
  result.replicas_identical = replicas_identical();
  return result;
}

}  // namespace gcsim::train
