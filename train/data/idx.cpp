// IDX reader (MNIST / Fashion-MNIST format). A file is gzip (detected by the
// 0x1f 0x8b magic bytes, decompressed with zlib) or raw. The header is parsed
// and checked, the data is read in large chunks straight into the result, and
// the rest of the stream is drained so that extra trailing bytes, a truncated
// gzip stream and a bad gzip checksum are all reported. Every defect throws
// InputError "PATH: what".
#include "train/data/idx.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "config/input_error.h"

namespace gcsim::train {
namespace {

constexpr std::uint32_t kMagicImages = 0x00000803;
constexpr std::uint32_t kMagicLabels = 0x00000801;
constexpr std::int64_t kMaxCount = 100'000'000;
constexpr std::int64_t kMaxSide = 4096;
constexpr std::size_t kChunk = std::size_t{16} << 20;          // bytes per read call
constexpr std::size_t kInitialReserve = std::size_t{64} << 20;  // never trust a header for more up front

std::string hex32(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

[[noreturn]] void fail(const std::string& path, const std::string& what) { throw InputError(path, "", what); }

// A byte stream over a raw or gzip file; owns the handle.
class Source {
 public:
  explicit Source(const std::string& path) : path_(path) {
    std::FILE* probe = std::fopen(path.c_str(), "rb");
    if (probe == nullptr) fail(path, std::string("cannot open: ") + std::strerror(errno));
    unsigned char head[2] = {0, 0};
    const std::size_t got = std::fread(head, 1, 2, probe);
    const bool read_error = std::ferror(probe) != 0;
    const int err = errno;
    if (read_error) {
      std::fclose(probe);
      fail(path, std::string("cannot read: ") + std::strerror(err));
    }
    gzip_ = got == 2 && head[0] == 0x1f && head[1] == 0x8b;
    if (!gzip_) {
      std::rewind(probe);
      raw_ = probe;
      return;
    }
    std::fclose(probe);
    gz_ = gzopen(path.c_str(), "rb");
    if (gz_ == nullptr) fail(path, std::string("cannot open gzip stream: ") + std::strerror(errno));
    gzbuffer(gz_, 1u << 18);
  }
  ~Source() {
    if (raw_ != nullptr) std::fclose(raw_);
    if (gz_ != nullptr) gzclose_r(gz_);
  }
  Source(const Source&) = delete;
  Source& operator=(const Source&) = delete;

  // Reads up to n bytes; fewer only at the end of the data. Throws on I/O
  // errors and on a corrupt or truncated gzip stream.
  std::size_t read(std::uint8_t* dst, std::size_t n) {
    std::size_t total = 0;
    while (total < n) {
      const std::size_t want = std::min(n - total, kChunk);
      std::size_t got = 0;
      if (gzip_) {
        const int r = gzread(gz_, dst + total, static_cast<unsigned>(want));
        if (r > 0) pos_ += static_cast<std::uint64_t>(r);
        check_gz();
        if (r < 0) fail(path_, "bad gzip stream");
        got = static_cast<std::size_t>(r);
      } else {
        got = std::fread(dst + total, 1, want, raw_);
        if (std::ferror(raw_) != 0) fail(path_, std::string("read error: ") + std::strerror(errno));
        pos_ += got;
      }
      total += got;
      if (got < want) break;
    }
    return total;
  }

  // Reads to the end, returning how many bytes were left.
  std::uint64_t drain() {
    std::uint8_t buf[1 << 16];
    std::uint64_t total = 0;
    for (;;) {
      const std::size_t got = read(buf, sizeof buf);
      total += got;
      if (got < sizeof buf) return total;
    }
  }

 private:
  void check_gz() {
    int errnum = Z_OK;
    const char* msg = gzerror(gz_, &errnum);
    if (errnum == Z_OK) return;
    std::string detail = msg != nullptr && *msg != '\0' ? msg : "unknown zlib error";
    // zlib prefixes the message with the path we already put in front.
    if (detail.rfind(path_ + ": ", 0) == 0) detail.erase(0, path_.size() + 2);
    if (errnum == Z_BUF_ERROR) {
      fail(path_, "gzip stream truncated (" + detail + ") after " + std::to_string(pos_) +
                      " decompressed bytes");
    }
    if (errnum == Z_ERRNO) fail(path_, std::string("read error: ") + std::strerror(errno));
    fail(path_, "bad gzip stream: " + detail);
  }

  std::string path_;
  bool gzip_ = false;
  std::FILE* raw_ = nullptr;
  gzFile gz_ = nullptr;
  std::uint64_t pos_ = 0;  // bytes delivered so far (decompressed for gzip)
};

std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
}

// Reads magic and dims.size() dimensions; checks the magic and that each
// dimension is in [1, limit].
void read_header(Source& src, const std::string& path, std::uint32_t magic, const char* kind,
                 std::vector<std::int64_t>& dims, const std::vector<std::int64_t>& limits,
                 const std::vector<const char*>& names) {
  const std::size_t header_bytes = 4 * (1 + dims.size());
  std::uint8_t header[16];
  const std::size_t got = src.read(header, header_bytes);
  if (got < 4) {
    fail(path, "truncated header: " + std::to_string(got) + " bytes, an IDX " + kind + " file needs " +
                   std::to_string(header_bytes));
  }
  const std::uint32_t found = be32(header);
  if (found != magic) fail(path, "bad magic " + hex32(found) + ", expected " + hex32(magic) + " (IDX " + kind + ")");
  if (got < header_bytes) {
    fail(path, "truncated header: " + std::to_string(got) + " bytes, an IDX " + kind + " file needs " +
                   std::to_string(header_bytes));
  }
  for (std::size_t i = 0; i < dims.size(); ++i) {
    const auto v = static_cast<std::int32_t>(be32(header + 4 * (i + 1)));
    if (v <= 0 || v > limits[i]) {
      fail(path, std::string("bad header: ") + names[i] + " = " + std::to_string(v) + ", must be in [1, " +
                     std::to_string(limits[i]) + "]");
    }
    dims[i] = v;
  }
}

// Reads exactly `bytes` bytes of data and checks that nothing follows.
std::vector<std::uint8_t> read_data(Source& src, const std::string& path, std::uint64_t bytes) {
  std::vector<std::uint8_t> data;
  data.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(bytes, kInitialReserve)));
  std::uint64_t have = 0;
  while (have < bytes) {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(bytes - have, kChunk));
    data.resize(static_cast<std::size_t>(have) + want);
    const std::size_t got = src.read(data.data() + have, want);
    have += got;
    if (got < want) break;
  }
  if (have < bytes) {
    fail(path, "truncated: header promises " + std::to_string(bytes) + " bytes of data, file has " +
                   std::to_string(have));
  }
  const std::uint64_t extra = src.drain();
  if (extra > 0) {
    fail(path, std::to_string(extra) + " trailing bytes after the " + std::to_string(bytes) +
                   " bytes of data the header promises");
  }
  return data;
}

}  // namespace

IdxImages read_idx_images(const std::string& path) {
  Source src(path);
  std::vector<std::int64_t> dims(3);
  read_header(src, path, kMagicImages, "uint8 images", dims, {kMaxCount, kMaxSide, kMaxSide},
              {"count", "rows", "cols"});
  IdxImages out;
  out.count = static_cast<int>(dims[0]);
  out.rows = static_cast<int>(dims[1]);
  out.cols = static_cast<int>(dims[2]);
  const auto bytes = static_cast<std::uint64_t>(dims[0] * dims[1] * dims[2]);
  out.pixels = read_data(src, path, bytes);
  return out;
}

std::vector<std::uint8_t> read_idx_labels(const std::string& path, int classes) {
  if (classes < 1 || classes > 256) {
    throw std::invalid_argument("read_idx_labels: classes must be in [1, 256], got " + std::to_string(classes));
  }
  Source src(path);
  std::vector<std::int64_t> dims(1);
  read_header(src, path, kMagicLabels, "uint8 labels", dims, {kMaxCount}, {"count"});
  std::vector<std::uint8_t> labels = read_data(src, path, static_cast<std::uint64_t>(dims[0]));
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] >= classes) {
      fail(path, "label " + std::to_string(labels[i]) + " at index " + std::to_string(i) + " is out of range [0, " +
                     std::to_string(classes - 1) + "]");
    }
  }
  return labels;
}

}  // namespace gcsim::train
