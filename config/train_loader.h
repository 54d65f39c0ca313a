// The training keys of a scenario file: [training] epochs/seed, [optimizer]
// and [data]. build_scenario() accepts and checks them too, so one file is
// both simulated and trained.
#pragma once

#include <string>
#include <vector>

#include "config/scenario_loader.h"
#include "train/loop/train_settings.h"

namespace gcsim {

// Reads and validates the training keys (InputError on bad values).
train::TrainSettings read_train_settings(const ScenarioSource& src);

// The scenario plus its training settings; also checks that the model is one
// gcsim can train (simplecnn, no custom-model keys) and that the workers'
// memory (train/model/memory_estimate.h) fits in this machine's.
train::TrainConfig load_train_config(const std::string& path, const std::vector<std::string>& assignments = {});
// The same for an already read source (its --set applied).
train::TrainConfig load_train_config(const ScenarioSource& src);
// Point `point` of a sweep file (config/sweep_loader.h), the scenario `gcsim
// sweep` simulates for it, then `assignments` on top (gcsim validate's runs).
train::TrainConfig load_sweep_point_config(const std::string& sweep_path, std::size_t point,
                                           const std::vector<std::string>& assignments = {});

// Keys of [training] that only `train` uses, and the tables only it reads.
extern const std::vector<std::string> kTrainOnlyTrainingKeys;
extern const std::vector<std::string> kTrainOnlyTables;
// Keys of [model] that only `simulate` can honour (a custom model); train refuses them.
extern const std::vector<std::string> kSimulateOnlyModelKeys;

// The batch the trainer evaluates the test set in (train::TrainerOptions::eval_batch).
inline constexpr int kTrainEvalBatch = 500;

}  // namespace gcsim
