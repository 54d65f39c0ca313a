// Training data: the IDX reader (raw and gzip, every defect an InputError
// naming the file), the Fashion-MNIST loader (real data when Debian's
// dataset-fashion-mnist is installed, synthetic files otherwise) and the
// deterministic ShardSampler.
#include <catch2/catch.hpp>

#include <zlib.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/input_error.h"
#include "train/data/dataset.h"
#include "train/data/idx.h"

namespace fs = std::filesystem;
using Catch::Contains;
using gcsim::InputError;
using gcsim::train::FashionMnist;
using gcsim::train::IdxImages;
using gcsim::train::ShardSampler;

namespace {

// A fresh directory under the system temp dir, removed on destruction.
class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
    path_ = fs::temp_directory_path() /
            ("gcsim_train_data_test_" + std::to_string(stamp) + "_" + std::to_string(counter++));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  std::string str() const { return path_.string(); }

 private:
  fs::path path_;
};

using Bytes = std::vector<std::uint8_t>;

void put_be32(Bytes& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}

Bytes idx_images(std::uint32_t count, std::uint32_t rows, std::uint32_t cols, const Bytes& pixels,
                 std::uint32_t magic = 0x00000803) {
  Bytes out;
  put_be32(out, magic);
  put_be32(out, count);
  put_be32(out, rows);
  put_be32(out, cols);
  out.insert(out.end(), pixels.begin(), pixels.end());
  return out;
}

Bytes idx_labels(std::uint32_t count, const Bytes& labels, std::uint32_t magic = 0x00000801) {
  Bytes out;
  put_be32(out, magic);
  put_be32(out, count);
  out.insert(out.end(), labels.begin(), labels.end());
  return out;
}

// Deterministic, poorly compressible filler.
Bytes pattern(std::size_t n, std::uint32_t salt = 1) {
  Bytes out(n);
  std::uint32_t x = 2463534242u ^ salt;
  for (auto& b : out) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    b = static_cast<std::uint8_t>(x);
  }
  return out;
}

void write_raw(const std::string& path, const Bytes& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(f.good());
}

void write_gz(const std::string& path, const Bytes& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  if (!bytes.empty()) REQUIRE(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) > 0);
  REQUIRE(gzclose(f) == Z_OK);
}

Bytes read_raw(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// The message of the InputError that `fn` throws ("" if none).
template <class Fn>
std::string input_error(Fn fn) {
  try {
    fn();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

// Writes one split of a synthetic Fashion-MNIST directory; label i is i % 10.
void write_split(const TempDir& dir, const std::string& prefix, std::uint32_t images, std::uint32_t labels,
                 bool gz = true, std::uint32_t salt = 1) {
  const Bytes pixels = pattern(std::size_t{images} * 28 * 28, salt);
  Bytes lab(labels);
  for (std::uint32_t i = 0; i < labels; ++i) lab[i] = static_cast<std::uint8_t>(i % 10);
  const std::string ext = gz ? ".gz" : "";
  auto write = gz ? write_gz : write_raw;
  write(dir.file(prefix + "-images-idx3-ubyte" + ext), idx_images(images, 28, 28, pixels));
  write(dir.file(prefix + "-labels-idx1-ubyte" + ext), idx_labels(labels, lab));
}

float normalised(std::uint8_t v) {
  return (static_cast<float>(v) / 255.0f - gcsim::train::kFashionMnistMean) / gcsim::train::kFashionMnistStd;
}

}  // namespace

// ---------------------------------------------------------------- real data

TEST_CASE("Fashion-MNIST from the Debian package loads with the published shape and statistics", "[train][data]") {
  const std::string dir = gcsim::train::kDefaultFashionMnistDir;
  if (!fs::is_directory(dir)) {
    WARN("skipping: " << dir << " missing (install the Debian package dataset-fashion-mnist)");
    return;
  }
  const FashionMnist data = gcsim::train::load_fashion_mnist(dir);
  REQUIRE(data.train.count == 60000);
  REQUIRE(data.test.count == 10000);
  for (const auto* split : {&data.train, &data.test}) {
    CHECK(split->rows == 28);
    CHECK(split->cols == 28);
    CHECK(split->pixels_per_image() == 784);
    CHECK(split->images.size() == static_cast<std::size_t>(split->count) * 784);
    CHECK(split->labels.size() == static_cast<std::size_t>(split->count));
  }

  std::array<int, 10> train_hist{}, test_hist{};
  for (auto l : data.train.labels) ++train_hist.at(l);
  for (auto l : data.test.labels) ++test_hist.at(l);
  for (int c = 0; c < 10; ++c) {
    INFO("class " << c);
    CHECK(train_hist[static_cast<std::size_t>(c)] == 6000);
    CHECK(test_hist[static_cast<std::size_t>(c)] == 1000);
  }

  double sum = 0, sum_sq = 0;
  for (float x : data.train.images) {
    sum += x;
    sum_sq += static_cast<double>(x) * x;
  }
  const double n = static_cast<double>(data.train.images.size());
  const double mean = sum / n;
  const double stddev = std::sqrt(sum_sq / n - mean * mean);
  CHECK(std::abs(mean) < 0.01);
  CHECK(std::abs(stddev - 1.0) < 0.02);

  // Every value is one of the 256 normalised byte values, and both ends occur.
  const auto [lo, hi] = std::minmax_element(data.train.images.begin(), data.train.images.end());
  CHECK(*lo == normalised(0));
  CHECK(*hi == normalised(255));

  // The limits keep the leading samples.
  const FashionMnist small = gcsim::train::load_fashion_mnist(dir, 100, 20);
  REQUIRE(small.train.count == 100);
  REQUIRE(small.test.count == 20);
  CHECK(std::equal(small.train.labels.begin(), small.train.labels.end(), data.train.labels.begin()));
  CHECK(std::equal(small.train.images.begin(), small.train.images.end(), data.train.images.begin()));
  CHECK(std::equal(small.test.images.begin(), small.test.images.end(), data.test.images.begin()));
}

// ---------------------------------------------------------------- IDX reader

TEST_CASE("IDX images and labels round-trip - raw and gzipped", "[train][data]") {
  TempDir dir;
  const Bytes pixels = pattern(3 * 5 * 7);
  const Bytes labels = {0, 9, 3, 3, 7};
  for (bool gz : {false, true}) {
    INFO((gz ? "gzip" : "raw"));
    // Detection is by content: the gzip file has no .gz suffix and vice versa.
    const std::string img = dir.file(gz ? "images.idx" : "images.idx.gz");
    const std::string lab = dir.file(gz ? "labels.idx" : "labels.idx.gz");
    (gz ? write_gz : write_raw)(img, idx_images(3, 5, 7, pixels));
    (gz ? write_gz : write_raw)(lab, idx_labels(5, labels));
    const IdxImages got = gcsim::train::read_idx_images(img);
    CHECK(got.count == 3);
    CHECK(got.rows == 5);
    CHECK(got.cols == 7);
    CHECK(got.pixels == pixels);
    CHECK(gcsim::train::read_idx_labels(lab) == labels);
    CHECK(gcsim::train::read_idx_labels(lab, 10) == labels);
    CHECK_THROWS_AS(gcsim::train::read_idx_labels(lab, 9), InputError);  // 9 is not < 9
  }
}

TEST_CASE("IDX reader handles a large gzip file quickly and exactly", "[train][data]") {
  TempDir dir;
  const Bytes pixels = pattern(std::size_t{20000} * 784, 7);
  const std::string path = dir.file("big.gz");
  write_gz(path, idx_images(20000, 28, 28, pixels));
  const auto t0 = std::chrono::steady_clock::now();
  const IdxImages got = gcsim::train::read_idx_images(path);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(got.count == 20000);
  CHECK(got.pixels == pixels);
  CHECK(seconds < 2.0);  // ~16 MB; generous for slow CI machines
}

TEST_CASE("IDX reader rejects a wrong magic number", "[train][data]") {
  TempDir dir;
  const std::string img = dir.file("images");
  const std::string lab = dir.file("labels");
  write_raw(img, idx_images(1, 2, 2, {1, 2, 3, 4}));
  write_gz(lab, idx_labels(2, {1, 2}));
  REQUIRE_THROWS_AS(gcsim::train::read_idx_labels(img), InputError);
  CHECK(input_error([&] { gcsim::train::read_idx_labels(img); }) ==
        img + ": bad magic 0x00000803, expected 0x00000801 (IDX uint8 labels)");
  CHECK(input_error([&] { gcsim::train::read_idx_images(lab); }) ==
        lab + ": bad magic 0x00000801, expected 0x00000803 (IDX uint8 images)");

  const std::string other = dir.file("other");
  write_raw(other, idx_images(1, 2, 2, {1, 2, 3, 4}, 0x00000802));
  REQUIRE_THROWS_WITH(gcsim::train::read_idx_images(other), Contains(other) && Contains("bad magic 0x00000802"));
  // A text file is not IDX either.
  write_raw(other, Bytes{'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd', '!', '!', '!', '!', '!', '!'});
  REQUIRE_THROWS_WITH(gcsim::train::read_idx_images(other), Contains(other) && Contains("bad magic 0x68656c6c"));
}

TEST_CASE("IDX reader rejects truncated data and headers - raw and gzipped", "[train][data]") {
  TempDir dir;
  for (bool gz : {false, true}) {
    INFO((gz ? "gzip" : "raw"));
    auto write = gz ? write_gz : write_raw;
    const std::string img = dir.file(gz ? "img.gz" : "img");
    Bytes bytes = idx_images(2, 3, 4, pattern(24));
    bytes.pop_back();
    write(img, bytes);
    CHECK(input_error([&] { gcsim::train::read_idx_images(img); }) ==
          img + ": truncated: header promises 24 bytes of data, file has 23");

    const std::string lab = dir.file(gz ? "lab.gz" : "lab");
    write(lab, idx_labels(5, {1, 2}));
    CHECK(input_error([&] { gcsim::train::read_idx_labels(lab); }) ==
          lab + ": truncated: header promises 5 bytes of data, file has 2");

    // Header cut short: after the magic, and inside the magic / empty file.
    write(img, Bytes{0, 0, 8, 3, 0, 0, 0, 1, 0, 0});
    REQUIRE_THROWS_WITH(gcsim::train::read_idx_images(img), Contains(img) && Contains("truncated header"));
    write(img, Bytes{0, 0});
    REQUIRE_THROWS_WITH(gcsim::train::read_idx_images(img), Contains(img) && Contains("truncated header"));
    write(lab, Bytes{});
    REQUIRE_THROWS_WITH(gcsim::train::read_idx_labels(lab), Contains(lab) && Contains("truncated header"));
  }
}

TEST_CASE("IDX reader rejects a gzip stream cut mid-way or corrupted", "[train][data]") {
  TempDir dir;
  const std::string whole = dir.file("whole.gz");
  const Bytes pixels = pattern(std::size_t{50} * 784);
  write_gz(whole, idx_images(50, 28, 28, pixels));
  const Bytes compressed = read_raw(whole);
  REQUIRE(compressed.size() > 1000);

  const std::string cut = dir.file("cut.gz");
  // Mid-stream, and inside the 8-byte trailer (all data present, CRC/size missing).
  for (std::size_t keep : {compressed.size() / 2, compressed.size() - 4}) {
    INFO("kept " << keep << " of " << compressed.size() << " bytes");
    write_raw(cut, Bytes(compressed.begin(), compressed.begin() + static_cast<std::ptrdiff_t>(keep)));
    REQUIRE_THROWS_AS(gcsim::train::read_idx_images(cut), InputError);
    const std::string msg = input_error([&] { gcsim::train::read_idx_images(cut); });
    CHECK(msg.rfind(cut + ": gzip stream truncated", 0) == 0);
    CHECK(msg.find(cut, 1) == std::string::npos);  // the path once, not repeated from zlib's message
  }

  // A flipped byte in the CRC trailer: the data decompresses but the check fails.
  Bytes bad_crc = compressed;
  bad_crc[bad_crc.size() - 6] ^= 0xff;
  const std::string crc = dir.file("crc.gz");
  write_raw(crc, bad_crc);
  REQUIRE_THROWS_WITH(gcsim::train::read_idx_images(crc), Contains(crc) && Contains("bad gzip stream"));

  // Garbage after the gzip magic.
  const std::string junk = dir.file("junk.gz");
  write_raw(junk, Bytes{0x1f, 0x8b, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x10});
  REQUIRE_THROWS_WITH(gcsim::train::read_idx_images(junk), Contains(junk));
}

TEST_CASE("IDX reader rejects bytes beyond what the header promises", "[train][data]") {
  TempDir dir;
  for (bool gz : {false, true}) {
    INFO((gz ? "gzip" : "raw"));
    auto write = gz ? write_gz : write_raw;
    const std::string img = dir.file("img");
    Bytes bytes = idx_images(2, 3, 4, pattern(24));
    bytes.push_back(0);
    bytes.push_back(0);
    write(img, bytes);
    REQUIRE_THROWS_WITH(gcsim::train::read_idx_images(img),
                        Contains(img) && Contains("2 trailing bytes") && Contains("24 bytes"));
    const std::string lab = dir.file("lab");
    write(lab, idx_labels(2, {1, 2, 3}));
    REQUIRE_THROWS_WITH(gcsim::train::read_idx_labels(lab), Contains(lab) && Contains("1 trailing bytes"));
  }
}

TEST_CASE("IDX reader rejects zero and absurd dimensions", "[train][data]") {
  TempDir dir;
  const std::string img = dir.file("img");
  write_raw(img, idx_images(0, 28, 28, {}));
  REQUIRE_THROWS_WITH(gcsim::train::read_idx_images(img), Contains(img) && Contains("count = 0"));
  write_raw(img, idx_images(1, 0, 28, {}));
  REQUIRE_THROWS_WITH(gcsim::train::read_idx_images(img), Contains(img) && Contains("rows = 0"));
  write_raw(img, idx_images(1, 28, 4097, {}));
  REQUIRE_THROWS_WITH(gcsim::train::read_idx_images(img), Contains(img) && Contains("cols = 4097"));
  write_raw(img, idx_images(0xffffffffu, 28, 28, {}));  // -1 as int32
  REQUIRE_THROWS_WITH(gcsim::train::read_idx_images(img), Contains(img) && Contains("count = -1"));
  write_raw(img, idx_images(100'000'001, 1, 1, {}));
  REQUIRE_THROWS_WITH(gcsim::train::read_idx_images(img), Contains(img) && Contains("count = 100000001"));
  // The largest allowed header is accepted as a header, and fails only on the data.
  write_raw(img, idx_images(1, 4096, 4096, {}));
  REQUIRE_THROWS_WITH(gcsim::train::read_idx_images(img),
                      Contains(img) && Contains("header promises 16777216 bytes of data, file has 0"));

  const std::string lab = dir.file("lab");
  write_raw(lab, idx_labels(0, {}));
  REQUIRE_THROWS_WITH(gcsim::train::read_idx_labels(lab), Contains(lab) && Contains("count = 0"));
}

TEST_CASE("IDX reader rejects labels outside 0..classes-1", "[train][data]") {
  TempDir dir;
  const std::string lab = dir.file("lab.gz");
  write_gz(lab, idx_labels(4, {0, 9, 10, 2}));
  CHECK(input_error([&] { gcsim::train::read_idx_labels(lab); }) ==
        lab + ": label 10 at index 2 is out of range [0, 9]");
  write_gz(lab, idx_labels(3, {0, 9, 2}));
  CHECK(gcsim::train::read_idx_labels(lab).size() == 3);
  REQUIRE_THROWS_WITH(gcsim::train::read_idx_labels(lab, 5), Contains(lab) && Contains("label 9 at index 1"));
  write_gz(lab, idx_labels(1, {255}));
  REQUIRE_THROWS_WITH(gcsim::train::read_idx_labels(lab), Contains("label 255"));
  CHECK_THROWS_AS(gcsim::train::read_idx_labels(lab, 0), std::invalid_argument);
}

TEST_CASE("IDX reader names a missing or unreadable file", "[train][data]") {
  TempDir dir;
  const std::string missing = dir.file("no-such-file.gz");
  REQUIRE_THROWS_AS(gcsim::train::read_idx_images(missing), InputError);
  REQUIRE_THROWS_WITH(gcsim::train::read_idx_images(missing), Contains(missing) && Contains("cannot open"));
  REQUIRE_THROWS_WITH(gcsim::train::read_idx_labels(missing), Contains(missing) && Contains("cannot open"));
  // A directory opens but cannot be read.
  REQUIRE_THROWS_WITH(gcsim::train::read_idx_images(dir.str()), Contains(dir.str()));
}

// ---------------------------------------------------------------- loader

TEST_CASE("load_fashion_mnist reads a synthetic directory - normalises and applies limits", "[train][data]") {
  TempDir dir;
  write_split(dir, "train", 12, 12, /*gz=*/true, 3);
  write_split(dir, "t10k", 5, 5, /*gz=*/false, 4);  // raw fallback
  const Bytes train_pixels = pattern(12 * 784, 3);

  const FashionMnist all = gcsim::train::load_fashion_mnist(dir.str());
  REQUIRE(all.train.count == 12);
  REQUIRE(all.test.count == 5);
  REQUIRE(all.train.images.size() == 12 * 784);
  for (std::size_t i = 0; i < train_pixels.size(); ++i) {
    if (all.train.images[i] != normalised(train_pixels[i])) FAIL("pixel " << i << " not normalised");
  }
  CHECK(all.train.image(3)[5] == normalised(train_pixels[3 * 784 + 5]));
  CHECK(normalised(0) == Approx(-0.2860 / 0.3530));
  CHECK(normalised(255) == Approx((1 - 0.2860) / 0.3530));
  CHECK(all.train.labels[11] == 1);
  CHECK(all.test.labels[4] == 4);

  const FashionMnist lim = gcsim::train::load_fashion_mnist(dir.str(), 4, 100);
  CHECK(lim.train.count == 4);
  CHECK(lim.train.images.size() == 4 * 784);
  CHECK(lim.train.labels == std::vector<std::uint8_t>{0, 1, 2, 3});
  CHECK(std::equal(lim.train.images.begin(), lim.train.images.end(), all.train.images.begin()));
  CHECK(lim.test.count == 5);  // larger than the file keeps all
  CHECK(gcsim::train::load_fashion_mnist(dir.str(), std::nullopt, 1).test.count == 1);

  CHECK(input_error([&] { gcsim::train::load_fashion_mnist(dir.str(), 0); }) == "limit_train: must be >= 1 (got 0)");
  REQUIRE_THROWS_WITH(gcsim::train::load_fashion_mnist(dir.str(), 3, -2),
                      Contains("limit_test: must be >= 1"));
}

TEST_CASE("load_fashion_mnist prefers NAME.gz over NAME", "[train][data]") {
  TempDir dir;
  write_split(dir, "train", 3, 3, /*gz=*/false, 1);
  write_split(dir, "train", 2, 2, /*gz=*/true, 2);
  write_split(dir, "t10k", 1, 1, /*gz=*/true, 3);
  CHECK(gcsim::train::load_fashion_mnist(dir.str()).train.count == 2);
}

TEST_CASE("load_fashion_mnist names the files it cannot use", "[train][data]") {
  TempDir dir;
  // Empty directory: names the directory, the file and the Debian package.
  REQUIRE_THROWS_WITH(gcsim::train::load_fashion_mnist(dir.str()),
                      Contains(dir.str()) && Contains("train-images-idx3-ubyte.gz") &&
                          Contains("dataset-fashion-mnist"));
  const std::string nowhere = dir.file("nowhere");
  REQUIRE_THROWS_WITH(gcsim::train::load_fashion_mnist(nowhere),
                      Contains(nowhere) && Contains("dataset-fashion-mnist"));

  // Test split missing.
  write_split(dir, "train", 3, 3);
  REQUIRE_THROWS_WITH(gcsim::train::load_fashion_mnist(dir.str()), Contains("t10k-images-idx3-ubyte"));

  // Counts disagree: the message names both files.
  write_split(dir, "t10k", 4, 3);
  const std::string img = dir.file("t10k-images-idx3-ubyte.gz");
  const std::string lab = dir.file("t10k-labels-idx1-ubyte.gz");
  CHECK(input_error([&] { gcsim::train::load_fashion_mnist(dir.str()); }) ==
        img + ": 4 images, but " + lab + " has 3 labels");

  // Not 28x28.
  write_gz(img, idx_images(3, 28, 27, pattern(3 * 28 * 27)));
  CHECK(input_error([&] { gcsim::train::load_fashion_mnist(dir.str()); }) ==
        img + ": images are 28x27, expected 28x28");

  // A defect inside a file is reported with that file's path.
  write_split(dir, "t10k", 3, 3);
  write_gz(lab, idx_labels(3, {1, 12, 3}));
  REQUIRE_THROWS_WITH(gcsim::train::load_fashion_mnist(dir.str()), Contains(lab) && Contains("label 12"));
}

// ---------------------------------------------------------------- sampler

TEST_CASE("ShardSampler validates its arguments", "[train][data]") {
  CHECK_THROWS_AS(ShardSampler(10, 0, 0, 1), std::invalid_argument);
  CHECK_THROWS_AS(ShardSampler(10, -1, 2, 1), std::invalid_argument);
  CHECK_THROWS_AS(ShardSampler(10, 2, 2, 1), std::invalid_argument);
  CHECK_THROWS_AS(ShardSampler(3, 0, 4, 1), std::invalid_argument);
  CHECK_THROWS_AS(ShardSampler(0, 0, 1, 1), std::invalid_argument);
  CHECK_NOTHROW(ShardSampler(4, 3, 4, 1));
  CHECK_NOTHROW(ShardSampler(1, 0, 1, 1));
  const ShardSampler s(10, 0, 2, 1);
  CHECK_THROWS_AS(s.steps_per_epoch(0), std::invalid_argument);
  CHECK_THROWS_AS(s.batch_indices(0, 0, 0), std::invalid_argument);
  CHECK_THROWS_AS(s.batch_indices(0, 5, 1), std::out_of_range);
  CHECK_THROWS_AS(s.batch_indices(0, -1, 1), std::out_of_range);
  CHECK_THROWS_AS(s.epoch_indices(-1), std::invalid_argument);
  CHECK(ShardSampler(1, 0, 1, 9).epoch_indices(0) == std::vector<int>{0});
}

TEST_CASE("ShardSampler shards are equal - disjoint and cover floor(n/P) x P samples", "[train][data]") {
  struct Case {
    int n, workers;
  };
  for (const Case c : {Case{100, 1}, Case{100, 3}, Case{101, 4}, Case{7, 7}, Case{10, 3}, Case{1000, 8}}) {
    for (int epoch : {0, 1, 5}) {
      INFO("n " << c.n << " workers " << c.workers << " epoch " << epoch);
      std::set<int> all;
      std::size_t total = 0;
      for (int r = 0; r < c.workers; ++r) {
        const ShardSampler s(c.n, r, c.workers, 42);
        CHECK(s.samples_per_worker() == c.n / c.workers);
        const std::vector<int> idx = s.epoch_indices(epoch);
        CHECK(idx.size() == static_cast<std::size_t>(c.n / c.workers));
        for (int i : idx) {
          CHECK(i >= 0);
          CHECK(i < c.n);
        }
        total += idx.size();
        all.insert(idx.begin(), idx.end());
      }
      CHECK(total == static_cast<std::size_t>(c.n / c.workers * c.workers));
      CHECK(all.size() == total);  // distinct, hence disjoint across workers
    }
  }
}

TEST_CASE("ShardSampler is a pure function of (seed and epoch)", "[train][data]") {
  const ShardSampler a(1000, 1, 4, 42);
  const ShardSampler b(1000, 1, 4, 42);
  CHECK(a.epoch_indices(3) == b.epoch_indices(3));
  CHECK(a.epoch_indices(3) == a.epoch_indices(3));
  CHECK(a.epoch_indices(0) != a.epoch_indices(1));
  CHECK(a.epoch_indices(1) != a.epoch_indices(2));
  CHECK(a.epoch_indices(0) != ShardSampler(1000, 1, 4, 43).epoch_indices(0));
  CHECK(ShardSampler(1000, 0, 1, 0).epoch_indices(0) != ShardSampler(1000, 0, 1, 1).epoch_indices(0));
  // The permutation is shared: rank 0 of 1 sees the full permutation, and
  // rank r of P reads every P-th entry of it starting at r.
  const std::vector<int> perm = ShardSampler(1000, 0, 1, 42).epoch_indices(3);
  const std::vector<int> mine = a.epoch_indices(3);
  for (std::size_t k = 0; k < mine.size(); ++k) REQUIRE(mine[k] == perm[1 + 4 * k]);

  // The n mod P leftovers are not always the same samples.
  std::set<int> dropped;
  for (int epoch = 0; epoch < 20; ++epoch) {
    std::set<int> seen;
    for (int r = 0; r < 3; ++r) {
      const auto idx = ShardSampler(10, r, 3, 5).epoch_indices(epoch);
      seen.insert(idx.begin(), idx.end());
    }
    for (int i = 0; i < 10; ++i) {
      if (!seen.count(i)) dropped.insert(i);
    }
  }
  CHECK(dropped.size() > 3);
}

TEST_CASE("ShardSampler pinned regression values", "[train][data]") {
  // Pinned from this implementation: a change here changes every training run.
  const std::vector<int> first = ShardSampler(100, 0, 1, 42).epoch_indices(0);
  CHECK(std::vector<int>(first.begin(), first.begin() + 5) == std::vector<int>{82, 36, 54, 6, 15});
  const std::vector<int> big = ShardSampler(60000, 2, 4, 7).epoch_indices(3);
  CHECK(std::vector<int>(big.begin(), big.begin() + 5) == std::vector<int>{56061, 32129, 56441, 52495, 33619});
}

TEST_CASE("ShardSampler shuffles without bias", "[train][data]") {
  // Over many epochs each value lands in each position about equally often;
  // an off-by-one Fisher-Yates (e.g. Sattolo's, never a fixed point) fails.
  constexpr int kN = 4;
  constexpr int kEpochs = 8000;
  std::array<std::array<int, kN>, kN> counts{};
  const ShardSampler s(kN, 0, 1, 123);
  for (int epoch = 0; epoch < kEpochs; ++epoch) {
    const auto perm = s.epoch_indices(epoch);
    for (std::size_t pos = 0; pos < kN; ++pos) ++counts[pos][static_cast<std::size_t>(perm[pos])];
  }
  for (std::size_t pos = 0; pos < kN; ++pos) {
    for (std::size_t v = 0; v < kN; ++v) {
      INFO("position " << pos << " value " << v);
      CHECK(std::abs(counts[pos][v] - kEpochs / kN) < 200);  // sd ~39
    }
  }
}

TEST_CASE("ShardSampler without shuffle deals the identity round robin", "[train][data]") {
  for (int epoch : {0, 7}) {
    CHECK(ShardSampler(10, 0, 3, 42, false).epoch_indices(epoch) == std::vector<int>{0, 3, 6});
    CHECK(ShardSampler(10, 1, 3, 42, false).epoch_indices(epoch) == std::vector<int>{1, 4, 7});
    CHECK(ShardSampler(10, 2, 3, 99, false).epoch_indices(epoch) == std::vector<int>{2, 5, 8});
    CHECK(ShardSampler(5, 0, 1, 1, false).epoch_indices(epoch) == std::vector<int>{0, 1, 2, 3, 4});
  }
}

TEST_CASE("ShardSampler batches: ceil(per_worker / batch) steps that concatenate to the epoch", "[train][data]") {
  const ShardSampler s(100, 2, 3, 11);  // 33 per worker
  REQUIRE(s.samples_per_worker() == 33);
  CHECK(s.steps_per_epoch(1) == 33);
  CHECK(s.steps_per_epoch(10) == 4);
  CHECK(s.steps_per_epoch(11) == 3);
  CHECK(s.steps_per_epoch(32) == 2);
  CHECK(s.steps_per_epoch(33) == 1);
  CHECK(s.steps_per_epoch(1000) == 1);
  CHECK(s.batch_indices(4, 3, 10).size() == 3);  // short last batch
  CHECK(s.batch_indices(4, 2, 10).size() == 10);
  for (int batch : {1, 7, 10, 11, 33, 50}) {
    for (int epoch : {0, 2}) {
      INFO("batch " << batch << " epoch " << epoch);
      std::vector<int> joined;
      for (int step = 0; step < s.steps_per_epoch(batch); ++step) {
        const auto b = s.batch_indices(epoch, step, batch);
        CHECK(!b.empty());
        CHECK(b.size() <= static_cast<std::size_t>(batch));
        joined.insert(joined.end(), b.begin(), b.end());
      }
      CHECK(joined == s.epoch_indices(epoch));
    }
  }
}

TEST_CASE("gather_batch copies the chosen images and labels", "[train][data]") {
  gcsim::train::Dataset d;
  d.count = 3;
  d.rows = 2;
  d.cols = 2;
  d.images = {0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23};
  d.labels = {7, 8, 9};
  std::vector<float> images(100, -1.0f);
  std::vector<std::uint8_t> labels(50, 0);
  gcsim::train::gather_batch(d, {2, 0, 2}, images, labels);
  CHECK(images == std::vector<float>{20, 21, 22, 23, 0, 1, 2, 3, 20, 21, 22, 23});
  CHECK(labels == std::vector<std::uint8_t>{9, 7, 9});
  gcsim::train::gather_batch(d, {1}, images, labels);
  CHECK(images == std::vector<float>{10, 11, 12, 13});
  CHECK(labels == std::vector<std::uint8_t>{8});
  gcsim::train::gather_batch(d, {}, images, labels);
  CHECK(images.empty());
  CHECK(labels.empty());
  CHECK_THROWS_AS(gcsim::train::gather_batch(d, {0, 3}, images, labels), std::out_of_range);
  CHECK_THROWS_AS(gcsim::train::gather_batch(d, {-1}, images, labels), std::out_of_range);
}
