// Fuzz property of the checkpoint reader (train/loop/checkpoint.h): any file is
// either loaded -- and then save_checkpoint() of what was loaded writes the
// very same bytes (for a file of an older format version, which save
// upgrades: the upgraded file loads and saves back to itself) -- or rejected
// with gcsim::InputError; never another exception, a crash, a sanitizer
// report or a hang.
//
// Input: byte 0 = flags, then the file.
//   bit 0: append the file's correct FNV-1a checksum (else the file is taken
//          as it is, checksum included), so the fuzzer gets past the checksum
//   bit 1: resume as the rank / workers / fingerprint / parameter count the
//          file's own header names (else as rank 0 of 1, fingerprint 0, and
//          4 parameters), so the fuzzer gets past those checks. The parameter
//          count is a model's, so it is taken from the file only up to 2^24.
#pragma once

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "config/input_error.h"
#include "fuzz/support.h"
#include "train/loop/checkpoint.h"

namespace gcsim::fuzz {

inline bool checkpoint_reader(const std::uint8_t* data, std::size_t size) {
  Bytes in(data, size);
  const std::uint8_t flags = in.u8();
  std::vector<std::uint8_t> file(in.rest(), in.rest() + in.rest_size());
  if (flags & 1) {
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (const auto c : file) h = (h ^ c) * 0x100000001b3ull;
    for (int i = 0; i < 8; ++i) file.push_back(static_cast<std::uint8_t>(h >> (8 * i)));
  }
  int rank = 0, workers = 1;
  std::uint64_t fingerprint = 0;
  std::size_t params = 4;
  if (flags & 2) {  // layout: magic 8, version 4, rank 4, workers 4, fingerprint 8, epoch 4, step 4, global 8, n 8
    Bytes h(file.data(), file.size());
    for (int i = 0; i < 12; ++i) h.u8();
    rank = static_cast<int>(h.le<std::uint32_t>());
    workers = static_cast<int>(h.le<std::uint32_t>());
    fingerprint = h.le<std::uint64_t>();
    for (int i = 0; i < 16; ++i) h.u8();
    const std::uint64_t n = h.le<std::uint64_t>();
    if (n <= (std::uint64_t{1} << 24)) params = static_cast<std::size_t>(n);
  }
  const auto dir = Sandbox::get().root() / "in" / "ckpt";
  const auto saved = Sandbox::get().root() / "in" / "ckpt-saved";
  std::filesystem::create_directories(dir);
  const std::string path = train::checkpoint_path(dir.string(), rank);
  {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(file.data()), static_cast<std::streamsize>(file.size()));
  }
  // save_checkpoint(dir) of s, then the bytes it wrote.
  const auto save_and_read = [&](const std::filesystem::path& to, const train::CheckpointState& s) {
    std::filesystem::remove_all(to);
    train::save_checkpoint(to.string(), s);
    std::ifstream f(train::checkpoint_path(to.string(), static_cast<int>(s.rank)), std::ios::binary);
    return std::vector<std::uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  };
  const auto version = [](const std::vector<std::uint8_t>& b) {
    Bytes v(b.data(), b.size());
    for (int i = 0; i < 8; ++i) v.u8();
    return v.le<std::uint32_t>();
  };
  bool accepted = false;
  try {
    const train::CheckpointState s = train::load_checkpoint(dir.string(), rank, workers, fingerprint, params);
    const std::vector<std::uint8_t> back = save_and_read(saved, s);
    if (version(back) == version(file)) {
      if (back != file) throw PropertyViolation("checkpoint: save(load(file)) != file");
    } else {  // upgraded from an older version: the new file is a fixed point
      const train::CheckpointState again =
          train::load_checkpoint(saved.string(), rank, workers, fingerprint, params);
      if (save_and_read(saved, again) != back)
        throw PropertyViolation("checkpoint: an upgraded checkpoint does not save back to itself");
    }
    accepted = true;
  } catch (const InputError&) {
  }
  std::filesystem::remove(path);
  std::filesystem::remove_all(saved);
  return accepted;
}

}  // namespace gcsim::fuzz
