// One rank's data-parallel training loop: its shard of Fashion-MNIST,
// SimpleCNN forward/backward, the gradient exchange (compression hook), SGD,
// per-epoch evaluation on the test set (sharded, then reduced), checkpoints.
// Independent of how ranks talk: it is handed a Communicator.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "comm/communicator.h"
#include "train/data/dataset.h"
#include "train/loop/gradient_exchange.h"
#include "train/loop/overlapped_exchange.h"
#include "train/loop/sgd.h"
#include "train/model/simplecnn.h"
#include "train/loop/train_settings.h"

namespace gcsim::train {

struct StepRecord {
  int epoch = 0;             // 0-based
  int step = 0;              // within the epoch, 0-based
  int steps_in_epoch = 0;
  std::uint64_t global_step = 0;  // 1-based count of steps done
  int samples = 0;           // this rank's batch
  double loss = 0.0;         // this rank's mean batch loss
  int correct = 0;
  // wait_s: a barrier before the exchange (with training.overlap, before the
  // step's compute), so communicate_s is transfer time, not time spent
  // waiting for slower (or core-sharing) peers to finish their compute.
  // With overlap, compute_s and the exchange's phases overlap: their sum
  // exceeds step_s by what was hidden.
  double data_s = 0.0, compute_s = 0.0, wait_s = 0.0, compress_s = 0.0, communicate_s = 0.0, decompress_s = 0.0,
         optimizer_s = 0.0, step_s = 0.0;
  std::uint64_t bytes_sent = 0;   // this step
  std::size_t entries_sent = 0;
  std::vector<compress::MergeSize> merges;  // the sparse allreduce's fill-in (run_log.h: fill-in.csv)
  std::vector<BucketTiming> buckets;        // per bucket, in the order exchanged (run_log.h: buckets-rank<R>.csv)
};

// Copies one exchange's phases, bytes and merges into the step's record.
void record_exchange(StepRecord& rec, ExchangeStats ex);

// Whether every rank holds bitwise these values (one hash each, allgathered).
bool same_on_every_rank(comm::Communicator& comm, std::span<const float> values);

struct EpochRecord {
  int epoch = 0;                   // 1-based: epochs completed
  std::uint64_t global_step = 0;
  double train_loss = 0.0;         // mean over all ranks' steps of this epoch
  double train_accuracy = 0.0;
  double test_loss = 0.0;
  double test_accuracy = 0.0;
  double epoch_s = 0.0;            // wall time of the steps (evaluation excluded)
  std::uint64_t bytes_sent = 0;    // this rank's gradient exchange, cumulative over the run (resumes included)
};

struct TrainerOptions {
  ModelDevice device = ModelDevice::cpu;  // where forward/backward run (GPU: rank % device count)
  std::string kernel_backend = "cpu";
  std::string checkpoint_dir;      // "" = no checkpoints
  std::string resume_dir;          // "" = fresh start
  int checkpoint_every = 0;        // also checkpoint every N steps (0 = only at epoch ends)
  std::int64_t stop_after = -1;    // stop (with a checkpoint) after this many global steps
  int eval_batch = 500;            // config/train_loader.h's kTrainEvalBatch
};

// What a resumed run continues from: the epochs the checkpoint's run had
// done (epoch_s is 0: checkpoints keep no wall-clock times) and its step.
struct ResumeRecord {
  std::string checkpoint_dir;
  std::uint64_t global_step = 0;
  std::vector<EpochRecord> epochs;
};

class TrainObserver {
 public:
  virtual ~TrainObserver() = default;
  // Once, before the first step, when the run resumes from a checkpoint.
  virtual void on_resume(const ResumeRecord&) {}
  virtual void on_step(const StepRecord&) {}
  virtual void on_epoch(const EpochRecord&) {}
};

struct RunResult {
  bool stopped = false;            // stop_after reached before the last epoch ended
  std::vector<EpochRecord> epochs; // all of the run's, those before a resume included
  std::uint64_t global_steps = 0;
  bool replicas_identical = false; // every rank ended with bitwise the same parameters
};

class Trainer {
 public:
  Trainer(comm::Communicator& comm, const FashionMnist& data, const TrainConfig& config, TrainerOptions options);
  ~Trainer();

  RunResult run(TrainObserver* observer = nullptr);

  const SimpleCnn& model() const { return *model_; }
  const GradientExchange& exchange() const { return *exchange_; }
  const Sgd& optimizer() const { return *sgd_; }
  // What must match for a checkpoint to be resumed.
  static std::string fingerprint_text(const TrainConfig& config);

 private:
  // The run's record that a checkpoint carries on: bytes sent so far and the
  // open epoch's sums.
  struct Totals {
    std::uint64_t bytes = 0;
    double loss_sum = 0.0, correct = 0.0, samples = 0.0;
  };
  EpochRecord evaluate(int epoch, double loss_sum, double correct, double samples);
  void save(std::uint32_t epoch, std::uint32_t step, std::uint64_t global_step, const Totals& totals,
            const std::vector<EpochRecord>& epochs);
  bool replicas_identical();

  comm::Communicator& comm_;
  const FashionMnist& data_;
  TrainConfig config_;
  TrainerOptions options_;
  std::unique_ptr<SimpleCnn> model_;
  std::unique_ptr<Sgd> sgd_;
  std::unique_ptr<GradientExchange> exchange_;
  std::unique_ptr<OverlappedExchange> overlapped_;  // training.overlap = true
  ShardSampler sampler_;
  std::uint64_t fingerprint_;
};

}  // namespace gcsim::train
