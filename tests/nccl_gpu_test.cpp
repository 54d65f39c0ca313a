// GPU tests of the NCCL communicator (comm/nccl_comm.h): a one-rank
// communicator end to end through NCCL (every call, staging growth, bytes
// sent), a rank whose peer never comes failing within the timeout, and, where
// the machine has 2 GPUs, two ranks (threads) meeting in a file store and
// agreeing with the sums. Tagged [gpu]; gpu_test_main exits 77 without a GPU.
// Compiled in CUDA builds; its cases exist where nccl.h did (GCSIM_HAVE_NCCL).
#include <catch2/catch.hpp>

#if GCSIM_HAVE_NCCL

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <exception>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "comm/choose_backend.h"
#include "comm/nccl_api.h"
#include "comm/nccl_comm.h"
#include "kernels/half.h"
#include "tests/train_support.h"  // RANK_REQUIRE

using namespace gcsim;
using namespace gcsim::comm;
namespace fs = std::filesystem;

namespace {

fs::path fresh_store(const std::string& name) {
  static std::atomic<int> run{0};
  const fs::path d = fs::temp_directory_path() /
                     ("gcsim_nccl_test_" + std::to_string(getpid()) + "_" + std::to_string(run++)) / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

GlooOptions store_options(const fs::path& dir, int timeout_ms) {
  GlooOptions o;
  o.store_dir = dir.string();
  o.run_id = "nccl-test";
  o.timeout = std::chrono::milliseconds(timeout_ms);
  return o;
}

}  // namespace

TEST_CASE("NcclComm one rank: allreduce - allgatherv - barrier and bytes end to end", "[gpu][comm][nccl]") {
  INFO("NCCL " << nccl::version_string(nccl::nccl_api().version) << " from " << nccl::nccl_api().library);
  REQUIRE(nccl_device_count() >= 1);
  GlooOptions o;  // one rank: no store
  o.timeout = std::chrono::milliseconds(20000);
  NcclComm c(0, 1, 0, o);
  CHECK(c.name() == "nccl");
  CHECK(c.rank() == 0);
  CHECK(c.size() == 1);
  CHECK(c.device() == 0);

  // fp32: the sum over one rank is the data; sizes that grow the staging buffer
  for (const std::size_t n : {std::size_t{3}, std::size_t{1001}, std::size_t{1} << 20}) {
    std::vector<float> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<float>(i % 977) * 0.125f - 3.0f;
    const std::vector<float> want = v;
    c.allreduce_sum(v.data(), n);
    CHECK(v == want);
  }
  c.allreduce_sum(nullptr, 0);

  // fp16 and bf16: the bits come back unchanged
  for (const auto format : {kernels::HalfFormat::Fp16, kernels::HalfFormat::Bf16}) {
    std::vector<std::uint16_t> h(513);
    for (std::size_t i = 0; i < h.size(); ++i) h[i] = kernels::to_half(static_cast<float>(i) * 0.5f - 100.0f, format);
    const std::vector<std::uint16_t> want = h;
    c.allreduce_sum_half(h.data(), h.size(), format);
    CHECK(h == want);
  }

  // allgatherv: the byte count goes first, then the bytes
  const std::string hello = "hello, nccl";
  std::vector<std::uint8_t> out;
  std::vector<std::size_t> counts;
  c.allgatherv(hello.data(), hello.size(), out, counts);
  CHECK(std::string(out.begin(), out.end()) == hello);
  CHECK(counts == std::vector<std::size_t>{hello.size()});
  c.allgatherv(nullptr, 0, out, counts);
  CHECK(out.empty());
  CHECK(counts == std::vector<std::size_t>{0});
  std::vector<std::uint8_t> big(3 << 20);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<std::uint8_t>(i * 7 + 1);
  c.allgatherv_known(big.data(), big.size(), {big.size()}, out);
  CHECK(out == big);
  CHECK_THROWS_AS(c.allgatherv_known(big.data(), 5, {4}, out), std::invalid_argument);

  c.barrier();
  // one rank: the ring schedule sends nothing, as GlooComm counts it
  CHECK(c.bytes_sent() == 0);
  // point to point needs another rank
  char byte = 0;
  CHECK_THROWS_AS(c.send(0, &byte, 1), std::invalid_argument);
  CHECK_THROWS_AS(c.recv(1, &byte, 1), std::invalid_argument);

  // the same through the factory gcsim train uses
  const auto made = make_communicator(Backend::Nccl, 0, 1, o);
  CHECK(made->name() == "nccl");
  float one = 1.0f;
  made->allreduce_sum(&one, 1);
  CHECK(one == 1.0f);
  made->barrier();
}

TEST_CASE("NcclComm: a rank whose peer never comes fails within the timeout - not hang", "[gpu][comm][nccl]") {
  for (const int rank : {0, 1}) {
    INFO("rank " << rank << " alone in a group of 2");
    const auto start = std::chrono::steady_clock::now();
    CHECK_THROWS_AS(NcclComm(rank, 2, 0, store_options(fresh_store("alone-" + std::to_string(rank)), 1500)),
                    CommError);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(20));
  }
}

TEST_CASE("NcclComm: 2 ranks on 2 GPUs agree with the sums and count ring bytes", "[gpu][comm][nccl]") {
  const int gpus = nccl_device_count();
  if (gpus < 2) {
    WARN("skipped: needs 2 GPUs, this machine has " << gpus);
    return;
  }
  const fs::path store = fresh_store("two");
  const int p = 2;
  std::vector<std::vector<std::uint16_t>> halves(p);
  std::vector<std::exception_ptr> errors(p);
  std::vector<std::thread> ts;
  for (int r = 0; r < p; ++r)
    ts.emplace_back([&, r] {
      try {
        NcclComm c(r, p, r, store_options(store, 30000));
        // fp32 sums
        const std::size_t n = 1001;
        std::vector<float> v(n);
        for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<float>(r + 1) * 0.25f + static_cast<float>(i);
        c.allreduce_sum(v.data(), n);
        for (std::size_t i = 0; i < n; ++i) RANK_REQUIRE(v[i] == 0.75f + 2.0f * static_cast<float>(i));
        std::uint64_t want = ring_allreduce_bytes(n, p, r);
        RANK_REQUIRE(c.bytes_sent() == want);
        // fp16: the same bits on every rank
        std::vector<std::uint16_t> h(257);
        for (std::size_t i = 0; i < h.size(); ++i)
          h[i] = kernels::to_half(static_cast<float>(i) * (r == 0 ? 0.3f : -0.7f), kernels::HalfFormat::Fp16);
        c.allreduce_sum_half(h.data(), h.size(), kernels::HalfFormat::Fp16);
        halves[r] = h;
        want += ring_allreduce_bytes(h.size(), p, r, sizeof(std::uint16_t));
        RANK_REQUIRE(c.bytes_sent() == want);
        // allgatherv of unequal parts (one empty), then equal known parts
        std::vector<std::uint8_t> mine(r == 0 ? 10 : 0, static_cast<std::uint8_t>(r + 5));
        std::vector<std::uint8_t> out;
        std::vector<std::size_t> counts;
        c.allgatherv(mine.data(), mine.size(), out, counts);
        RANK_REQUIRE((counts == std::vector<std::size_t>{10, 0}));
        RANK_REQUIRE(out == std::vector<std::uint8_t>(10, 5));
        want += ring_allgather_bytes({8, 8}, r) + ring_allgather_bytes(counts, r);
        RANK_REQUIRE(c.bytes_sent() == want);
        std::vector<std::uint8_t> part(6, static_cast<std::uint8_t>(r + 1));
        c.allgatherv_known(part.data(), part.size(), {6, 6}, out);
        std::vector<std::uint8_t> both(6, 1);
        both.insert(both.end(), 6, 2);
        RANK_REQUIRE(out == both);
        want += ring_allgather_bytes({6, 6}, r);
        RANK_REQUIRE(c.bytes_sent() == want);
        // point to point: both directions at once, then sized messages in order
        std::uint32_t to = 100 + static_cast<std::uint32_t>(r), from = 0;
        c.sendrecv(1 - r, &to, sizeof to, &from, sizeof from);
        RANK_REQUIRE(from == 100 + static_cast<std::uint32_t>(1 - r));
        want += sizeof to;
        if (r == 0) {
          const std::string a = "first", b = "second message";
          c.send_sized(1, a.data(), a.size());
          c.send_sized(1, b.data(), b.size());
          want += 2 * sizeof(std::uint64_t) + a.size() + b.size();
        } else {
          std::vector<std::uint8_t> got;
          c.recv_sized(0, got);
          RANK_REQUIRE(std::string(got.begin(), got.end()) == "first");
          c.recv_sized(0, got);
          RANK_REQUIRE(std::string(got.begin(), got.end()) == "second message");
        }
        RANK_REQUIRE(c.bytes_sent() == want);
        c.barrier();
      } catch (...) {
        errors[r] = std::current_exception();
      }
    });
  for (auto& t : ts) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
  CHECK(halves[0] == halves[1]);
}

#endif  // GCSIM_HAVE_NCCL
