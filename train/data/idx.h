// IDX files (the MNIST / Fashion-MNIST format, http://yann.lecun.com/exdb/mnist/):
// big-endian magic 0x00000803 (uint8 images, 3 dims) or 0x00000801 (uint8
// labels, 1 dim), then one big-endian int32 per dimension, then the data.
// Files may be gzip-compressed (.gz, read with zlib) or raw.
//
// Every defect -- missing file, bad gzip stream, wrong magic, a dimension of
// 0 or absurd size, fewer or more data bytes than the header promises, a
// label outside [0, 9] -- throws InputError "PATH: what" (one line).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gcsim::train {

struct IdxImages {
  int count = 0;
  int rows = 0;
  int cols = 0;
  std::vector<std::uint8_t> pixels;  // count * rows * cols, row-major per image
};

IdxImages read_idx_images(const std::string& path);
// Labels; `classes` bounds their value (each label < classes).
std::vector<std::uint8_t> read_idx_labels(const std::string& path, int classes = 10);

}  // namespace gcsim::train
