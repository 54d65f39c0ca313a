// The model zoo: name -> reference model.
#include "models/zoo.h"

namespace gcsim {

const std::vector<std::string>& zoo_names() {
  static const std::vector<std::string> names = {"simplecnn", "resnet18", "resnet50", "vgg16",
                                                 "gpt2-small"};
  return names;
}

std::optional<ModelSpec> find_model(std::string_view name) {
  if (name == "simplecnn") return make_simplecnn();
  if (name == "resnet18") return make_resnet18();
  if (name == "resnet50") return make_resnet50();
  if (name == "vgg16") return make_vgg16();
  if (name == "gpt2-small") return make_gpt2_small();
  return std::nullopt;
}

}  // namespace gcsim
