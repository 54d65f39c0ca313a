// Fuzz property of the IDX reader (train/data/idx.h): any file, raw or gzipped,
// is either read into images / labels that match its header, or rejected
// with gcsim::InputError -- never another exception, a crash, a sanitizer
// report or a hang.
//
// Input: byte 0 = mode, byte 1 = label classes - 1, then the file.
//   mode bit 0: read as labels (else images)
//   mode bit 1: gzip the file first (so the fuzzer explores IDX content behind
//               zlib; a raw input that starts with 1f 8b is itself read as gzip)
#pragma once

#include <zlib.h>

#include <vector>

#include "config/input_error.h"
#include "fuzz/support.h"
#include "train/data/idx.h"

namespace gcsim::fuzz {

inline std::vector<std::uint8_t> gzip_bytes(const std::uint8_t* data, std::size_t size) {
  z_stream z{};
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("deflateInit2 failed");
  std::vector<std::uint8_t> out(deflateBound(&z, static_cast<uLong>(size)) + 32);
  z.next_in = const_cast<Bytef*>(data);
  z.avail_in = static_cast<uInt>(size);
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) throw std::runtime_error("deflate failed");
  out.resize(z.total_out);
  return out;
}

inline bool idx_reader(const std::uint8_t* data, std::size_t size) {
  Bytes in(data, size);
  const std::uint8_t mode = in.u8();
  const int classes = 1 + in.u8();
  std::string path;
  if (mode & 2) {
    const auto gz = gzip_bytes(in.rest(), in.rest_size());
    path = Sandbox::get().write("data.idx", gz.data(), gz.size());
  } else {
    path = Sandbox::get().write("data.idx", in.rest(), in.rest_size());
  }
  try {
    if (mode & 1) {
      const auto labels = train::read_idx_labels(path, classes);
      for (const auto l : labels)
        if (l >= classes) throw PropertyViolation("idx_reader: accepted a label >= classes");
      if (labels.empty()) throw PropertyViolation("idx_reader: accepted an empty label file");
    } else {
      const auto images = train::read_idx_images(path);
      if (images.count < 1 || images.rows < 1 || images.cols < 1 ||
          images.pixels.size() != static_cast<std::size_t>(images.count) * images.rows * images.cols)
        throw PropertyViolation("idx_reader: image count/size does not match the pixels read");
    }
    return true;
  } catch (const InputError&) {
    return false;
  }
}

}  // namespace gcsim::fuzz
