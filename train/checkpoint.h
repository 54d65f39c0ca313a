// Checkpoints: one file per rank, holding everything needed to continue
// bitwise where the run stopped -- parameters, SGD momentum, the rank's
// error-feedback residual and the position (epoch, step) -- plus a
// fingerprint of the configuration, so a checkpoint is never resumed under
// different settings. Written atomically (temporary file, then rename).
//
// Format (little-endian): "GCSIMCK1", u32 version, u32 rank, u32 workers,
// u64 fingerprint, u32 epoch, u32 step (next step to run within epoch),
// u64 global step, u64 n, then n floats each of params, momentum, residual,
// then u64 m and m floats of momentum correction's local momentum (m = 0 or
// n), then u64 FNV-1a of everything before it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gcsim::train {

struct CheckpointState {
  std::uint32_t rank = 0;
  std::uint32_t workers = 1;
  std::uint64_t fingerprint = 0;
  std::uint32_t epoch = 0;        // epoch to continue in
  std::uint32_t step = 0;         // next step within that epoch
  std::uint64_t global_step = 0;  // steps done so far
  std::vector<float> params, momentum, residual;
  std::vector<float> local_momentum;  // momentum correction's per-worker momentum (empty when off)
};

std::string checkpoint_path(const std::string& dir, int rank);

// Writes dir/rank-R.ckpt (creating dir). Throws std::runtime_error on I/O failure.
void save_checkpoint(const std::string& dir, const CheckpointState& state);

// Reads dir/rank-R.ckpt. Throws InputError "PATH: what" when the file is
// missing, truncated, corrupt, or of another rank/size/configuration.
CheckpointState load_checkpoint(const std::string& dir, int rank, int workers, std::uint64_t fingerprint,
                                std::size_t params);

// FNV-1a over a string (for configuration fingerprints).
std::uint64_t fingerprint_of(const std::string& text);

}  // namespace gcsim::train
