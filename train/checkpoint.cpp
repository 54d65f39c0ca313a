// Per-rank checkpoint files (see checkpoint.h).
#include "train/checkpoint.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "config/input_error.h"

namespace gcsim::train {

namespace {

constexpr char kMagic[8] = {'G', 'C', 'S', 'I', 'M', 'C', 'K', '1'};
constexpr std::uint32_t kVersion = 2;

std::uint64_t fnv1a(const std::uint8_t* p, std::size_t n, std::uint64_t h = 0xcbf29ce484222325ull) {
  for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

template <typename T>
void put(std::vector<std::uint8_t>& out, const T& v) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(&v);
  out.insert(out.end(), p, p + sizeof(T));
}

void put_floats(std::vector<std::uint8_t>& out, const std::vector<float>& v) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(v.data());
  out.insert(out.end(), p, p + v.size() * sizeof(float));
}

class Reader {
 public:
  Reader(const std::vector<std::uint8_t>& data, std::string path) : data_(data), path_(std::move(path)) {}
  template <typename T>
  T get() {
    T v;
    need(sizeof(T));
    std::memcpy(&v, data_.data() + at_, sizeof(T));
    at_ += sizeof(T);
    return v;
  }
  std::vector<float> floats(std::size_t n) {
    if (n > (data_.size() - at_) / sizeof(float)) truncated();  // not need(n * 4): that product can wrap
    std::vector<float> v(n);
    if (n == 0) return v;  // v.data() may be null, and memcpy's pointers must not be
    std::memcpy(v.data(), data_.data() + at_, n * sizeof(float));
    at_ += n * sizeof(float);
    return v;
  }
  std::size_t at() const { return at_; }

 private:
  void need(std::size_t n) const {
    if (n > data_.size() - at_) truncated();  // at_ <= size(): no wrap
  }
  [[noreturn]] void truncated() const { throw InputError(path_ + ": truncated checkpoint"); }
  const std::vector<std::uint8_t>& data_;
  std::string path_;
  std::size_t at_ = 0;
};

}  // namespace

std::uint64_t fingerprint_of(const std::string& text) {
  return fnv1a(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
}

std::string checkpoint_path(const std::string& dir, int rank) {
  return (std::filesystem::path(dir) / ("rank-" + std::to_string(rank) + ".ckpt")).string();
}

void save_checkpoint(const std::string& dir, const CheckpointState& s) {
  const std::size_t n = s.params.size();
  if (s.momentum.size() != n || s.residual.size() != n || (!s.local_momentum.empty() && s.local_momentum.size() != n))
    throw std::invalid_argument("save_checkpoint: params, momentum and residual differ in length");
  std::vector<std::uint8_t> out;
  out.reserve(64 + 3 * n * sizeof(float));
  out.insert(out.end(), kMagic, kMagic + sizeof(kMagic));
  put(out, kVersion);
  put(out, s.rank);
  put(out, s.workers);
  put(out, s.fingerprint);
  put(out, s.epoch);
  put(out, s.step);
  put(out, s.global_step);
  put(out, static_cast<std::uint64_t>(n));
  put_floats(out, s.params);
  put_floats(out, s.momentum);
  put_floats(out, s.residual);
  put(out, static_cast<std::uint64_t>(s.local_momentum.size()));
  put_floats(out, s.local_momentum);
  put(out, fnv1a(out.data(), out.size()));

  std::filesystem::create_directories(dir);
  const std::string path = checkpoint_path(dir, static_cast<int>(s.rank));
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(out.data()), static_cast<std::streamsize>(out.size()));
    f.flush();
    if (!f) throw std::runtime_error(tmp + ": cannot write checkpoint");
  }
  std::filesystem::rename(tmp, path);
}

CheckpointState load_checkpoint(const std::string& dir, int rank, int workers, std::uint64_t fingerprint,
                                std::size_t params) {
  const std::string path = checkpoint_path(dir, rank);
  std::ifstream f(path, std::ios::binary);
  if (!f) throw InputError(path + ": cannot open checkpoint");
  std::vector<std::uint8_t> data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (data.size() < sizeof(kMagic) + 8 || std::memcmp(data.data(), kMagic, sizeof(kMagic)) != 0)
    throw InputError(path + ": not a gcsim checkpoint");
  std::uint64_t stored_sum;
  std::memcpy(&stored_sum, data.data() + data.size() - 8, 8);
  if (fnv1a(data.data(), data.size() - 8) != stored_sum) throw InputError(path + ": checksum mismatch (corrupt)");

  Reader r(data, path);
  for (std::size_t i = 0; i < sizeof(kMagic); ++i) r.get<char>();
  if (const auto v = r.get<std::uint32_t>(); v != kVersion)
    throw InputError(path + ": checkpoint version " + std::to_string(v) + ", expected " + std::to_string(kVersion));
  CheckpointState s;
  s.rank = r.get<std::uint32_t>();
  s.workers = r.get<std::uint32_t>();
  s.fingerprint = r.get<std::uint64_t>();
  s.epoch = r.get<std::uint32_t>();
  s.step = r.get<std::uint32_t>();
  s.global_step = r.get<std::uint64_t>();
  const auto n = r.get<std::uint64_t>();
  if (s.rank != static_cast<std::uint32_t>(rank) || s.workers != static_cast<std::uint32_t>(workers))
    throw InputError(path + ": written by rank " + std::to_string(s.rank) + " of " + std::to_string(s.workers) +
                     ", resuming as rank " + std::to_string(rank) + " of " + std::to_string(workers));
  if (s.fingerprint != fingerprint)
    throw InputError(path + ": written under a different configuration (model, data, optimizer, compression "
                            "or seed changed); resume with the same scenario and --set values");
  if (n != params)
    throw InputError(path + ": holds " + std::to_string(n) + " parameters, the model has " + std::to_string(params));
  s.params = r.floats(n);
  s.momentum = r.floats(n);
  s.residual = r.floats(n);
  const auto m = r.get<std::uint64_t>();
  if (m != 0 && m != n) throw InputError(path + ": corrupt momentum-correction length " + std::to_string(m));
  s.local_momentum = r.floats(m);
  if (r.at() + 8 != data.size()) throw InputError(path + ": trailing bytes after the checkpoint");
  return s;
}

}  // namespace gcsim::train
