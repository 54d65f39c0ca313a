// Writes the binary seed corpora (fuzz/make-corpus.sh runs it):
//   DIR/idx_reader/        IDX files as tests/train_data_test.cpp builds them
//   DIR/checkpoint_reader/ checkpoints as tests/train_dist_test.cpp writes them
//   DIR/wire_unpack/       buffers packed as tests/kernel_contract_test.cpp packs them
// Every seed starts with the mode bytes its target reads (see fuzz/<target>.h).
// Deterministic: same bytes on every run.
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz/idx_reader.h"
#include "kernels/backend.h"
#include "kernels/wire_format.h"
#include "train/loop/checkpoint.h"

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

namespace {

void put_be32(Bytes& b, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<std::uint8_t>(v >> s));
}

Bytes idx_images(std::uint32_t count, std::uint32_t rows, std::uint32_t cols) {
  Bytes b;
  put_be32(b, 0x00000803);
  put_be32(b, count);
  put_be32(b, rows);
  put_be32(b, cols);
  for (std::uint32_t i = 0; i < count * rows * cols; ++i) b.push_back(static_cast<std::uint8_t>((i * 37 + 11) & 0xff));
  return b;
}

Bytes idx_labels(std::uint32_t count, std::uint32_t classes) {
  Bytes b;
  put_be32(b, 0x00000801);
  put_be32(b, count);
  for (std::uint32_t i = 0; i < count; ++i) b.push_back(static_cast<std::uint8_t>(i % classes));
  return b;
}

void write(const fs::path& dir, const std::string& name, const Bytes& prefix, const Bytes& body) {
  fs::create_directories(dir);
  std::ofstream f(dir / name, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(prefix.data()), static_cast<std::streamsize>(prefix.size()));
  f.write(reinterpret_cast<const char*>(body.data()), static_cast<std::streamsize>(body.size()));
  if (!f) throw std::runtime_error("cannot write " + (dir / name).string());
}

Bytes gz(const Bytes& b) { return gcsim::fuzz::gzip_bytes(b.data(), b.size()); }

void idx_seeds(const fs::path& dir) {
  // mode: bit 0 labels, bit 1 the harness gzips; byte 1: classes - 1.
  write(dir, "images-3x5x7.raw", {0, 9}, idx_images(3, 5, 7));
  write(dir, "images-2x28x28.raw", {0, 9}, idx_images(2, 28, 28));
  write(dir, "images-3x5x7.harness-gz", {2, 9}, idx_images(3, 5, 7));
  write(dir, "images-3x5x7.gz", {0, 9}, gz(idx_images(3, 5, 7)));
  write(dir, "labels-5.raw", {1, 9}, idx_labels(5, 10));
  write(dir, "labels-20.harness-gz", {3, 9}, idx_labels(20, 10));
  write(dir, "labels-5.gz", {1, 9}, gz(idx_labels(5, 10)));
  write(dir, "labels-3-classes.raw", {1, 2}, idx_labels(7, 3));
  Bytes trailing = idx_labels(4, 10);
  trailing.push_back(0);
  write(dir, "labels-trailing.raw", {1, 9}, trailing);
  Bytes truncated = idx_images(2, 3, 3);
  truncated.pop_back();
  write(dir, "images-truncated.raw", {0, 9}, truncated);
}

Bytes read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

void checkpoint_seeds(const fs::path& dir, const fs::path& scratch) {
  using gcsim::train::CheckpointState;
  // flags: bit 0 the harness appends the checksum, bit 1 resume as the file's header says.
  CheckpointState a;  // what the harness resumes as without bit 1: rank 0 of 1, fingerprint 0, 4 parameters
  a.params = {1, 2, 3, 4};
  a.momentum = {0.5f, 0, -0.5f, 1};
  a.residual = {0, 0, 1e-3f, -2};
  a.epoch = 1;
  a.step = 2;
  a.global_step = 12;
  gcsim::train::save_checkpoint(scratch.string(), a);
  Bytes fa = read_file(gcsim::train::checkpoint_path(scratch.string(), 0));
  write(dir, "rank0-of-1", {0}, fa);
  write(dir, "rank0-of-1.unsummed", {1}, Bytes(fa.begin(), fa.end() - 8));

  CheckpointState b;  // tests/train_dist_test.cpp's checkpoint
  b.rank = 1;
  b.workers = 2;
  b.fingerprint = 42;
  b.epoch = 3;
  b.step = 17;
  b.global_step = 1234;
  b.params = {1, 2, 3};
  b.momentum = {4, 5, 6};
  b.residual = {7, 8, -9};
  b.local_momentum = {0.5f, 0, -1};
  gcsim::train::save_checkpoint(scratch.string(), b);
  Bytes fb = read_file(gcsim::train::checkpoint_path(scratch.string(), 1));
  write(dir, "rank1-of-2.momentum-correction", {2}, fb);
  write(dir, "rank1-of-2.momentum-correction.unsummed", {3}, Bytes(fb.begin(), fb.end() - 8));
  write(dir, "rank1-of-2.as-rank0", {0}, fb);
}

void wire_seeds(const fs::path& dir) {
  auto backend = gcsim::kernels::make_backend("cpu-reference");
  using gcsim::kernels::Index;
  // mode % 4: 0 n = low byte, 1 n = 2^31 - 128 + low byte, 2 n = the u64, 3 n = low 16 bits
  auto seed = [&](const std::string& name, std::uint8_t mode, std::uint64_t raw_n, std::size_t n,
                  const std::vector<float>& values, const std::vector<Index>& indices) {
    std::vector<std::byte> wire(gcsim::kernels::wire_bytes(n, values.size()));
    backend->pack(values.data(), indices.data(), values.size(), n, wire.data());
    Bytes prefix = {mode};
    for (int i = 0; i < 8; ++i) prefix.push_back(static_cast<std::uint8_t>(raw_n >> (8 * i)));
    Bytes body(wire.size());
    if (!wire.empty()) std::memcpy(body.data(), wire.data(), wire.size());
    write(dir, name, prefix, body);
  };
  seed("n16-k4", 0, 16, 16, {1.0f, -2.0f, 0.5f, -0.0f}, {3, 0, 15, 7});
  seed("n200-k0", 0, 200, 200, {}, {});
  seed("n300-k6", 3, 300, 300, {1, 2, 3, 4, 5, 6}, {299, 0, 1, 150, 42, 7});
  seed("n2^31-1-k2", 1, 127, (std::size_t{1} << 31) - 1, {3.5f, -1}, {Index{(1ll << 31) - 2}, 0});
  seed("n2^31-k2", 1, 128, std::size_t{1} << 31, {3.5f, -1}, {Index{(1ll << 31) - 1}, 0});
  const std::size_t big = std::size_t{3} << 31;  // the contract test's tensor past 2^31 entries
  seed("n3x2^31-k4", 2, big, big, {1.0f, -2.0f, 3.5f, -0.0f}, {0, Index{1} << 31, static_cast<Index>(big - 1), 5});
  seed("n16-index-at-n", 0, 16, 16, {1.0f}, {16});
  seed("n16-negative-index", 0, 16, 16, {1.0f}, {-1});
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: gcsim_fuzz_make_seeds DIR\n";
    return 2;
  }
  const fs::path out = argv[1];
  const fs::path scratch = out / ".scratch";
  idx_seeds(out / "idx_reader");
  checkpoint_seeds(out / "checkpoint_reader", scratch);
  wire_seeds(out / "wire_unpack");
  fs::remove_all(scratch);
  return 0;
}
