// Fuzz property of the training loader (config/train_loader.h): any scenario
// text, with any --set assignments, either becomes a TrainConfig (scenario
// plus training settings) or is rejected with gcsim::InputError -- never
// another exception, a crash, a sanitizer report or a hang.
#pragma once

#include "config/input_error.h"
#include "config/train_loader.h"
#include "fuzz/toml_input.h"

namespace gcsim::fuzz {

inline bool train_loader(const std::uint8_t* data, std::size_t size) {
  const TomlInput in = write_toml_input(data, size, "train.toml");
  try {
    const train::TrainConfig c = load_train_config(in.path, in.sets);
    return c.settings.epochs >= 1;
  } catch (const InputError&) {
    return false;
  }
}

}  // namespace gcsim::fuzz
