// Checkpoints: one file per rank, holding everything needed to continue
// bitwise where the run stopped -- parameters, SGD momentum, the rank's
// error-feedback residual and the position (epoch, step) -- plus the run's
// record so far (the epochs done, the bytes sent, the open epoch's sums), so
// a resumed run's logs and summary continue the model's, and a fingerprint of
// the configuration, so a checkpoint is never resumed under different
// settings. No wall-clock times are kept: an uninterrupted and a resumed run
// end with byte-identical checkpoints. Written atomically (temporary file,
// then rename); the file it replaces is kept as rank-R.prev.ckpt, so when a
// run dies between two ranks' writes every rank still holds one common step.
//
// Format (little-endian): "GCSIMCK1", u32 version (3), u32 rank, u32 workers,
// u64 fingerprint, u32 epoch, u32 step (next step to run within epoch),
// u64 global step, u64 n, then n floats each of params, momentum, residual,
// then u64 m and m floats of momentum correction's local momentum (m = 0 or
// n); then u64 bytes sent so far, f64 loss sum, f64 correct, f64 samples of
// the open epoch, u64 e and e epochs of (u32 epoch, u64 global step, f64 train
// loss, train accuracy, test loss, test accuracy, u64 bytes sent); then u64
// FNV-1a of everything before it. Version 2 (without the record) is read too.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gcsim::train {

struct CheckpointEpoch {
  std::uint32_t epoch = 0;  // 1-based
  std::uint64_t global_step = 0;
  double train_loss = 0, train_accuracy = 0, test_loss = 0, test_accuracy = 0;
  std::uint64_t bytes_sent = 0;
};

struct CheckpointState {
  std::uint32_t rank = 0;
  std::uint32_t workers = 1;
  std::uint64_t fingerprint = 0;
  std::uint32_t epoch = 0;        // epoch to continue in
  std::uint32_t step = 0;         // next step within that epoch
  std::uint64_t global_step = 0;  // steps done so far
  std::vector<float> params, momentum, residual;
  std::vector<float> local_momentum;  // momentum correction's per-worker momentum (empty when off)
  // The run's record up to here.
  std::uint64_t bytes_sent = 0;  // this rank's exchange, all steps so far
  double epoch_loss_sum = 0, epoch_correct = 0, epoch_samples = 0;  // the open epoch's steps
  std::vector<CheckpointEpoch> epochs;                                // the epochs done
};

std::string checkpoint_path(const std::string& dir, int rank);
std::string previous_checkpoint_path(const std::string& dir, int rank);  // dir/rank-R.prev.ckpt

// Writes dir/rank-R.ckpt (creating dir), keeping the one it replaces as
// rank-R.prev.ckpt. Throws std::runtime_error "PATH: cannot write: reason"
// on I/O failure, leaving the earlier checkpoints as they were.
void save_checkpoint(const std::string& dir, const CheckpointState& state);

// Reads dir/rank-R.ckpt. Throws InputError "PATH: what" when the file is
// missing, truncated, corrupt, or of another rank/size/configuration.
CheckpointState load_checkpoint(const std::string& dir, int rank, int workers, std::uint64_t fingerprint,
                                std::size_t params);

// What a resume reads for `rank`: the latest global step that every rank's
// rank-R.ckpt or rank-R.prev.ckpt holds, from whichever of the two holds it.
// Throws InputError as load_checkpoint does, or when the ranks share no step.
CheckpointState load_resume_checkpoint(const std::string& dir, int rank, int workers, std::uint64_t fingerprint,
                                       std::size_t params);

// FNV-1a over a string (for configuration fingerprints).
std::uint64_t fingerprint_of(const std::string& text);

}  // namespace gcsim::train
