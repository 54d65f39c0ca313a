// Per-rank checkpoint files (see checkpoint.h).
#include "train/loop/checkpoint.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <stdexcept>

#include "config/input_error.h"
#include "train/loop/whole_file.h"

namespace gcsim::train {

namespace {

constexpr char kMagic[8] = {'G', 'C', 'S', 'I', 'M', 'C', 'K', '1'};
constexpr std::uint32_t kVersion = 3;
constexpr std::uint32_t kOldestVersion = 2;  // without the run's record

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
    if (n == 0) return v;  // v.data() may be null: memcpy(null, ..., 0) is undefined (UBSan)
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

std::string previous_checkpoint_path(const std::string& dir, int rank) {
  return (std::filesystem::path(dir) / ("rank-" + std::to_string(rank) + ".prev.ckpt")).string();
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
  put(out, s.bytes_sent);
  put(out, s.epoch_loss_sum);
  put(out, s.epoch_correct);
  put(out, s.epoch_samples);
  put(out, static_cast<std::uint64_t>(s.epochs.size()));
  for (const auto& e : s.epochs) {
    put(out, e.epoch);
    put(out, e.global_step);
    put(out, e.train_loss);
    put(out, e.train_accuracy);
    put(out, e.test_loss);
    put(out, e.test_accuracy);
    put(out, e.bytes_sent);
  }
  put(out, fnv1a(out.data(), out.size()));

  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw std::runtime_error(dir + ": cannot create: " + ec.message());
  const std::string path = checkpoint_path(dir, static_cast<int>(s.rank));
  const std::string prev = previous_checkpoint_path(dir, static_cast<int>(s.rank));
  // The new file is whole on disk before anything moves, and rank-R.ckpt is
  // always there: the old one becomes rank-R.prev.ckpt through a hard link, then
  // the new one is renamed over it. A crash anywhere leaves a whole rank-R.ckpt
  // (old or new), at worst with a leftover rank-R.ckpt.new.
  const std::string staged = path + ".new";
  write_whole_file(staged, out.data(), out.size(), path);
  if (std::filesystem::exists(path, ec)) {
    const std::string link_tmp = prev + ".tmp";
    std::filesystem::remove(link_tmp, ec);
    std::filesystem::create_hard_link(path, link_tmp, ec);
    if (!ec) {
      std::filesystem::rename(link_tmp, prev, ec);
    } else {  // a file system without hard links: move it aside (a moment without rank-R.ckpt)
      ec.clear();
      std::filesystem::rename(path, prev, ec);
    }
  }
  if (!ec) std::filesystem::rename(staged, path, ec);
  if (ec) {
    std::error_code ignored;
    std::filesystem::remove(staged, ignored);
    throw std::runtime_error(path + ": cannot write: " + ec.message());
  }
}

namespace {

// The global step in a checkpoint's header, without checking the rest; empty
// when the file is absent or not a checkpoint.
std::optional<std::uint64_t> header_step(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  char head[44];
  if (!f.read(head, sizeof head) || std::memcmp(head, kMagic, sizeof kMagic) != 0) return std::nullopt;
  std::uint64_t step;
  std::memcpy(&step, head + 36, sizeof step);
  return step;
}

CheckpointState load_file(const std::string& path, int rank, int workers, std::uint64_t fingerprint,
                          std::size_t params);

}  // namespace

CheckpointState load_checkpoint(const std::string& dir, int rank, int workers, std::uint64_t fingerprint,
                                std::size_t params) {
  return load_file(checkpoint_path(dir, rank), rank, workers, fingerprint, params);
}

CheckpointState load_resume_checkpoint(const std::string& dir, int rank, int workers, std::uint64_t fingerprint,
                                       std::size_t params) {
  std::set<std::uint64_t> common;
  std::string listing;
  for (int q = 0; q < workers; ++q) {
    std::set<std::uint64_t> steps;
    for (const auto& p : {checkpoint_path(dir, q), previous_checkpoint_path(dir, q)})
      if (const auto s = header_step(p)) steps.insert(*s);
    // A rank without any readable checkpoint: load_file says precisely why.
    if (steps.empty()) load_file(checkpoint_path(dir, q), q, workers, fingerprint, params);
    listing += q ? "; rank " : "rank ";
    listing += std::to_string(q);
    listing += ':';
    for (const auto s : steps) {
      listing += ' ';
      listing += std::to_string(s);
    }
    if (q == 0) {
      common = steps;
    } else {
      std::set<std::uint64_t> both;
      for (const auto s : steps)
        if (common.count(s)) both.insert(s);
      common = both;
    }
  }
  if (common.empty())
    throw InputError(dir + ": the ranks' checkpoints share no step (steps held: " + listing + ")");
  const std::uint64_t step = *common.rbegin();
  const std::string latest = checkpoint_path(dir, rank);
  const auto at = header_step(latest);
  return load_file(at && *at == step ? latest : previous_checkpoint_path(dir, rank), rank, workers, fingerprint,
                   params);
}

namespace {

CheckpointState load_file(const std::string& path, int rank, int workers, std::uint64_t fingerprint,
                          std::size_t params) {
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
  const auto version = r.get<std::uint32_t>();
  if (version < kOldestVersion || version > kVersion)
    throw InputError(path + ": checkpoint version " + std::to_string(version) + ", expected " +
                     std::to_string(kOldestVersion) + " to " + std::to_string(kVersion));
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
  if (version >= 3) {
    s.bytes_sent = r.get<std::uint64_t>();
    s.epoch_loss_sum = r.get<double>();
    s.epoch_correct = r.get<double>();
    s.epoch_samples = r.get<double>();
    const auto e = r.get<std::uint64_t>();
    if (e > s.epoch) throw InputError(path + ": corrupt epoch count " + std::to_string(e));
    for (std::uint64_t i = 0; i < e; ++i) {
      CheckpointEpoch ep;
      ep.epoch = r.get<std::uint32_t>();
      ep.global_step = r.get<std::uint64_t>();
      ep.train_loss = r.get<double>();
      ep.train_accuracy = r.get<double>();
      ep.test_loss = r.get<double>();
      ep.test_accuracy = r.get<double>();
      ep.bytes_sent = r.get<std::uint64_t>();
      s.epochs.push_back(ep);
    }
  }
  if (r.at() + 8 != data.size()) throw InputError(path + ": trailing bytes after the checkpoint");
  return s;
}

}  // namespace

}  // namespace gcsim::train
