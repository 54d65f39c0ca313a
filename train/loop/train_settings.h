// What a training run needs beyond the simulator's scenario: the keys
// [training] epochs/seed, [optimizer] and [data] of the same scenario file
// (config/train_loader.h reads them; docs/scenario-format.md lists them).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "sim/scenario.h"

namespace gcsim::train {

struct TrainSettings {
  int epochs = 1;
  std::uint64_t seed = 1;     // parameter init and data shuffling
  double lr = 0.05;
  double momentum = 0.9;
  double weight_decay = 0.0;
  std::string data_dir;       // IDX files
  std::optional<int> limit_train, limit_test;
  bool shuffle = true;
};

// Everything one run is: the scenario (model, cluster.workers, batch,
// compression, bucket size) and the training settings.
struct TrainConfig {
  Scenario scenario;
  TrainSettings settings;
  // What an "auto" compression option was resolved to, and why (empty if none).
  std::string auto_choice;
};

}  // namespace gcsim::train
