// torchvision vgg16: configuration "D" without batch norm, 224x224x3 input,
// 1000 classes.
//
//   features: 3x3 convs (padding 1, with bias), each followed by ReLU, and
//             2x2/2 max pools, per configuration D:
//             64 64 M 128 128 M 256 256 256 M 512 512 512 M 512 512 512 M
//             Indices follow nn.Sequential numbering: a conv takes index i and
//             its ReLU i+1; a pool takes one index. Convs are features.0, 2,
//             5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28.
//   avgpool:  AdaptiveAvgPool2d(7x7) (identity at 224x224 input).
//   classifier: Linear(25088, 4096) [0], ReLU [1], Dropout [2],
//               Linear(4096, 4096) [3], ReLU [4], Dropout [5],
//               Linear(4096, 1000) [6], all with bias.
//
// Figures produced by this file (2 FLOPs/MAC, biases counted, ReLU / pooling /
// dropout not counted): 138,357,544 params, 16 layers (13 conv + 3 linear),
// 30,954,085,352 forward FLOPs per image (~30.95 GFLOPs: conv 30,706,808,832
// + linear 247,276,520).
#include <string>

#include "models/layer_builders.h"
#include "models/zoo.h"

namespace gcsim {

ModelSpec make_vgg16() {
  ModelSpec spec;
  spec.name = "vgg16";
  spec.sample_unit = "image 3x224x224";

  constexpr std::int64_t kPool = 0;  // "M" in the torchvision configuration
  const std::int64_t cfg_d[] = {64,  64,  kPool, 128, 128, kPool, 256, 256, 256, kPool,
                                512, 512, 512,   kPool, 512, 512, 512, kPool};

  LayerBuilder b(spec, ActShape{3, 224, 224});
  int index = 0;  // nn.Sequential index inside "features"
  for (const std::int64_t v : cfg_d) {
    if (v == kPool) {
      b.max_pool2d(2, 2);
      index += 1;
    } else {
      b.conv2d("features." + std::to_string(index), v,
               {.kernel = 3, .stride = 1, .padding = 1, .bias = true});
      index += 2;  // conv + ReLU
    }
  }

  b.adaptive_avg_pool2d(7, 7);
  b.flatten();  // 512 * 7 * 7 = 25088
  b.linear("classifier.0", 4096, /*bias=*/true);
  b.linear("classifier.3", 4096, /*bias=*/true);
  b.linear("classifier.6", 1000, /*bias=*/true);
  return spec;
}

}  // namespace gcsim
