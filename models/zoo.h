// The model zoo: reference architectures with exact per-layer parameter counts.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "models/layer.h"

namespace gcsim {

// Names in listing order: simplecnn, resnet18, resnet50, vgg16, gpt2-small.
const std::vector<std::string>& zoo_names();

// The named model, or nullopt when the name is not in the zoo.
std::optional<ModelSpec> find_model(std::string_view name);

ModelSpec make_simplecnn();    // conv-pool-conv-pool-fc-fc on 1x28x28 (Fashion-MNIST)
ModelSpec make_resnet18();     // torchvision resnet18, 224x224 input, 1000 classes
ModelSpec make_resnet50();     // torchvision resnet50 (v1.5), 224x224, 1000 classes
ModelSpec make_vgg16();        // torchvision vgg16 (no BN), 224x224, 1000 classes
ModelSpec make_gpt2_small();   // GPT-2 small (HF), tied embeddings, 1024-token sequence

}  // namespace gcsim
