// SimpleCNN: a small conv-pool-conv-pool-fc-fc classifier for 1x28x28 images
// (Fashion-MNIST). A real training run implements exactly this model, so the
// architecture below is normative (PyTorch notation, forward order):
//
//   input                       1 x 28 x 28
//   conv1 = Conv2d(1, 16, kernel_size=5, stride=1, padding=2, bias=True)
//                               -> 16 x 28 x 28        params   416
//   ReLU
//   MaxPool2d(kernel_size=2, stride=2)  -> 16 x 14 x 14
//   conv2 = Conv2d(16, 32, kernel_size=5, stride=1, padding=2, bias=True)
//                               -> 32 x 14 x 14        params 12,832
//   ReLU
//   MaxPool2d(kernel_size=2, stride=2)  -> 32 x 7 x 7
//   flatten                     -> 1568  (C-major: channel, row, column)
//   fc1 = Linear(1568, 120, bias=True)                 params 188,280
//   ReLU
//   fc2 = Linear(120, 10, bias=True)   -> 10 logits    params   1,210
//
//   total parameters 202,738; 4 layers (conv1, conv2, fc1, fc2).
//   Forward FLOPs per image (2 FLOPs/MAC, biases counted, ReLU/pool ignored):
//   conv1 639,744 + conv2 5,023,872 + fc1 376,440 + fc2 2,410 = 6,042,466.
#include "models/layer_builders.h"
#include "models/zoo.h"

namespace gcsim {

ModelSpec make_simplecnn() {
  ModelSpec spec;
  spec.name = "simplecnn";
  spec.sample_unit = "image 1x28x28";

  LayerBuilder b(spec, ActShape{1, 28, 28});
  b.conv2d("conv1", 16, {.kernel = 5, .stride = 1, .padding = 2, .bias = true});
  b.max_pool2d(2, 2);
  b.conv2d("conv2", 32, {.kernel = 5, .stride = 1, .padding = 2, .bias = true});
  b.max_pool2d(2, 2);
  b.flatten();  // 32 * 7 * 7 = 1568
  b.linear("fc1", 120, /*bias=*/true);
  b.linear("fc2", 10, /*bias=*/true);
  return spec;
}

}  // namespace gcsim
