// torchvision ResNet-18 and ResNet-50 (224x224x3 input, 1000 classes).
//
// Structure (torchvision.models.resnet):
//   conv1 7x7/2 (3->64, no bias), bn1, ReLU, maxpool 3x3/2 pad 1,
//   layer1..layer4 with planes 64, 128, 256, 512 (first block of layer2..4
//   has stride 2), adaptive avgpool 1x1, fc (512*expansion -> 1000, bias).
//   ResNet-18: BasicBlock (conv1 3x3 + bn1, conv2 3x3 + bn2; expansion 1),
//              blocks [2, 2, 2, 2].
//   ResNet-50: Bottleneck v1.5 (conv1 1x1, conv2 3x3 carrying the stride,
//              conv3 1x1 to 4*planes, each followed by bn; expansion 4),
//              blocks [3, 4, 6, 3].
//   A block gets downsample = (1x1 conv with the block's stride, no bias; BN)
//   named "downsample.0" / "downsample.1" when its stride is not 1 or its
//   input channels differ from planes*expansion.
//   Convolutions have no bias; BatchNorm has weight + bias (2*C parameters;
//   running statistics are buffers, not parameters).
//
// Layer order: forward order, with a block's shortcut (downsample) after its
// main path, as torchvision registers and runs it.
//
// Figures produced by this file (FLOPs convention in models/layer_builders.h:
// 2 FLOPs/MAC, BN = 2 FLOPs per element, ReLU / pooling / residual adds not
// counted):
//   resnet18: 11,689,512 params, 41 layers (20 conv + 20 bn + 1 fc),
//             3,633,115,112 forward FLOPs per image (~3.63 GFLOPs:
//             conv 3,627,122,688 + bn 4,967,424 + fc 1,025,000).
//   resnet50: 25,557,032 params, 107 layers (53 conv + 53 bn + 1 fc),
//             8,200,597,480 forward FLOPs per image (~8.20 GFLOPs:
//             conv 8,174,272,512 + bn 22,227,968 + fc 4,097,000).
#include <stdexcept>
#include <string>
#include <utility>

#include "models/layer_builders.h"
#include "models/zoo.h"

namespace gcsim {
namespace {

enum class BlockType { kBasic, kBottleneck };

std::int64_t expansion(BlockType t) { return t == BlockType::kBasic ? 1 : 4; }

void add_block(LayerBuilder& b, const std::string& prefix, BlockType type, std::int64_t planes,
               std::int64_t stride) {
  const ActShape input = b.shape();
  const std::int64_t out_channels = planes * expansion(type);

  if (type == BlockType::kBasic) {
    b.conv2d(prefix + "conv1", planes, {.kernel = 3, .stride = stride, .padding = 1});
    b.batchnorm2d(prefix + "bn1");
    b.conv2d(prefix + "conv2", planes, {.kernel = 3, .stride = 1, .padding = 1});
    b.batchnorm2d(prefix + "bn2");
  } else {
    b.conv2d(prefix + "conv1", planes, {.kernel = 1});
    b.batchnorm2d(prefix + "bn1");
    b.conv2d(prefix + "conv2", planes, {.kernel = 3, .stride = stride, .padding = 1});
    b.batchnorm2d(prefix + "bn2");
    b.conv2d(prefix + "conv3", out_channels, {.kernel = 1});
    b.batchnorm2d(prefix + "bn3");
  }
  const ActShape main_out = b.shape();

  if (stride != 1 || input.channels != out_channels) {
    b.set_shape(input);
    b.conv2d(prefix + "downsample.0", out_channels, {.kernel = 1, .stride = stride});
    b.batchnorm2d(prefix + "downsample.1");
    if (!(b.shape() == main_out)) throw std::logic_error(prefix + ": shortcut shape mismatch");
  }
  b.set_shape(main_out);  // residual add + ReLU: not counted
}

ModelSpec make_resnet(std::string name, BlockType type, const std::int64_t (&blocks)[4]) {
  ModelSpec spec;
  spec.name = std::move(name);
  spec.sample_unit = "image 3x224x224";

  LayerBuilder b(spec, ActShape{3, 224, 224});
  b.conv2d("conv1", 64, {.kernel = 7, .stride = 2, .padding = 3});
  b.batchnorm2d("bn1");
  b.max_pool2d(3, 2, 1);

  const std::int64_t planes[4] = {64, 128, 256, 512};
  for (int stage = 0; stage < 4; ++stage) {
    for (std::int64_t i = 0; i < blocks[stage]; ++i) {
      const std::int64_t stride = (stage > 0 && i == 0) ? 2 : 1;
      const std::string prefix =
          "layer" + std::to_string(stage + 1) + "." + std::to_string(i) + ".";
      add_block(b, prefix, type, planes[stage], stride);
    }
  }

  b.adaptive_avg_pool2d(1, 1);
  b.flatten();
  b.linear("fc", 1000, /*bias=*/true);
  return spec;
}

}  // namespace

ModelSpec make_resnet18() {
  return make_resnet("resnet18", BlockType::kBasic, {2, 2, 2, 2});
}

ModelSpec make_resnet50() {
  return make_resnet("resnet50", BlockType::kBottleneck, {3, 4, 6, 3});
}

}  // namespace gcsim
