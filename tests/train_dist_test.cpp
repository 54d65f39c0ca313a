// The distributed half of real training: communicators (in-process and real
// Gloo over loopback TCP), the compression hook, SGD, checkpoints, the
// training keys of a scenario, and whole training runs (determinism,
// checkpoint/resume). The data here is synthetic so the tests need no files;
// tests/train_data_test.cpp covers the real Fashion-MNIST loader.
#include <catch2/catch.hpp>

#include <malloc.h>
#if defined(__SANITIZE_ADDRESS__)
// The sanitizer runtime's count (GCC ships no allocator_interface.h).
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();
#endif
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <thread>

#include "config/input_error.h"
#include "config/train_loader.h"
#include "kernels/backend.h"
#include "kernels/synthetic_gradient.h"
#include "kernels/wire_format.h"
#include "train/loop/checkpoint.h"
#include "comm/gloo_comm.h"
#include "train/loop/gradient_exchange.h"
#include "comm/inprocess_comm.h"
#include "comm/rank_identity.h"
#include "comm/tcp_store.h"
#include "train/model/memory_estimate.h"
#include "train/loop/run_log.h"
#include "train/loop/sgd.h"
#include "train/loop/trainer.h"
#include "tests/train_support.h"

namespace fs = std::filesystem;
using namespace gcsim;
using namespace gcsim::train;
using namespace gcsim::comm;
using namespace gcsim::train::test;

namespace {

fs::path fresh_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("gcsim_train_test_" + std::to_string(getpid())) / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// The same over real Gloo: P threads, each with its own Gloo context over
// 127.0.0.1, rendezvous through a file store.
// A free TCP port on loopback (bound, read, released).
int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  close(fd);
  return ntohs(a.sin_port);
}

// Runs body on P GlooComm ranks (threads) meeting in a file store, or, with
// tcp, in a TCP store that rank 0 serves.
void on_gloo_ranks(int p, const std::function<void(Communicator&)>& body, int timeout_ms = 20000, bool tcp = false) {
  static std::atomic<int> run{0};
  const fs::path store = fresh_dir("gloo-store-" + std::to_string(run++));
  const std::string addr = tcp ? "tcp://127.0.0.1:" + std::to_string(free_port()) : "";
  std::vector<std::exception_ptr> errors(p);
  std::vector<std::thread> ts;
  for (int r = 0; r < p; ++r)
    ts.emplace_back([&, r] {
      try {
        GlooOptions o;
        o.store_dir = store.string();
        o.store_addr = addr;
        o.run_id = "test";
        o.timeout = std::chrono::milliseconds(timeout_ms);
        GlooComm comm(r, p, o);
        body(comm);
      } catch (...) {
        errors[r] = std::current_exception();
      }
    });
  for (auto& t : ts) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

std::vector<float> rank_data(int rank, std::size_t n) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<float>((rank + 1) * 0.25 + static_cast<double>(i) * 0.001);
  return v;
}

void check_collectives(Communicator& c) {
  const int p = c.size();
  const std::size_t n = 1001;  // not a multiple of P
  auto v = rank_data(c.rank(), n);
  c.allreduce_sum(v.data(), n);
  for (std::size_t i = 0; i < n; i += 97) {
    double want = 0;
    for (int r = 0; r < p; ++r) want += rank_data(r, n)[i];
    RANK_REQUIRE(v[i] == Approx(want).epsilon(1e-6));
  }
  // allgatherv with different sizes, one of them empty
  std::vector<std::uint8_t> mine(static_cast<std::size_t>(c.rank() == 1 ? 0 : 10 + 7 * c.rank()));
  for (std::size_t i = 0; i < mine.size(); ++i) mine[i] = static_cast<std::uint8_t>(c.rank() * 31 + i);
  std::vector<std::uint8_t> all;
  std::vector<std::size_t> counts;
  c.allgatherv(mine.data(), mine.size(), all, counts);
  RANK_REQUIRE(counts.size() == static_cast<std::size_t>(p));
  std::size_t at = 0;
  for (int r = 0; r < p; ++r) {
    const std::size_t want = r == 1 ? 0 : 10 + 7 * static_cast<std::size_t>(r);
    RANK_REQUIRE(counts[r] == want);
    for (std::size_t i = 0; i < want; ++i) RANK_REQUIRE(all[at + i] == static_cast<std::uint8_t>(r * 31 + i));
    at += want;
  }
  RANK_REQUIRE(all.size() == at);
  // allgatherv_known: the same parts, sizes agreed in advance; only the parts travel
  std::vector<std::size_t> known(static_cast<std::size_t>(p), 12);
  std::vector<std::uint8_t> fixed(12, static_cast<std::uint8_t>(100 + c.rank()));
  const std::uint64_t before = c.bytes_sent();
  c.allgatherv_known(fixed.data(), fixed.size(), known, all);
  RANK_REQUIRE(all.size() == 12 * static_cast<std::size_t>(p));
  for (int r = 0; r < p; ++r)
    for (std::size_t i = 0; i < 12; ++i) RANK_REQUIRE(all[12 * static_cast<std::size_t>(r) + i] == 100 + r);
  RANK_REQUIRE(c.bytes_sent() - before == ring_allgather_bytes(known, c.rank()));
  bool refused = false;
  try {
    c.allgatherv_known(fixed.data(), 11, known, all);  // this rank's count says 12: refused before anything is sent
  } catch (const std::invalid_argument&) {
    refused = true;
  }
  RANK_REQUIRE(refused);
  c.barrier();
}

// Point to point: sized exchanges between partners r XOR 1 (one side empty),
// then messages in order along a chain, and the bytes they count.
void check_point_to_point(Communicator& c) {
  const int p = c.size(), r = c.rank();
  auto bytes_of = [](int rank) { return static_cast<std::size_t>(rank == 2 ? 0 : 5 + 3 * rank); };
  const int partner = r ^ 1;
  if (partner < p) {
    std::vector<std::uint8_t> out(bytes_of(r)), in;
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::uint8_t>(r * 17 + i);
    const std::uint64_t before = c.bytes_sent();
    c.sendrecv_sized(partner, out.data(), out.size(), in);
    RANK_REQUIRE(in.size() == bytes_of(partner));
    for (std::size_t i = 0; i < in.size(); ++i) RANK_REQUIRE(in[i] == static_cast<std::uint8_t>(partner * 17 + i));
    RANK_REQUIRE(c.bytes_sent() - before == 8 + out.size());  // the size, then the bytes
  }
  // A chain 0 -> 1 -> ... -> p-1: three messages each, forwarded in order, the last one 0 bytes.
  const std::vector<std::size_t> sizes = {4, 1000, 0};
  for (std::size_t m = 0; m < sizes.size(); ++m) {
    std::vector<float> v(sizes[m] / sizeof(float), static_cast<float>(m + 1));
    if (r > 0) {
      std::fill(v.begin(), v.end(), 0.0f);
      c.recv(r - 1, v.data(), sizes[m]);
      for (float x : v) RANK_REQUIRE(x == static_cast<float>(m + 1) + static_cast<float>(r - 1));
      for (float& x : v) x += 1.0f;
    }
    if (r + 1 < p) c.send(r + 1, v.data(), sizes[m]);
  }
  // A ring: to the successor and from the predecessor at once, twice (the hierarchical exchange's rings).
  for (int step = 0; step < 2; ++step) {
    const std::vector<float> out(3 + static_cast<std::size_t>(r), static_cast<float>(10 * r + step));
    const int prev = (r + p - 1) % p;
    std::vector<float> in(3 + static_cast<std::size_t>(prev), -1.0f);
    const std::uint64_t before = c.bytes_sent();
    c.sendrecv((r + 1) % p, out.data(), out.size() * sizeof(float), prev, in.data(), in.size() * sizeof(float));
    for (float x : in) RANK_REQUIRE(x == static_cast<float>(10 * prev + step));
    RANK_REQUIRE(c.bytes_sent() - before == out.size() * sizeof(float));
  }
  bool refused = false;
  try {
    float x = 0;
    c.send(r, &x, sizeof x);  // not another rank
  } catch (const std::invalid_argument&) {
    refused = true;
  }
  RANK_REQUIRE(refused);
  c.barrier();
}

}  // namespace

TEST_CASE("point to point: sized exchanges - messages in order - rings - in-process and over Gloo", "[train][comm][gloo]") {
  on_ranks(4, check_point_to_point);
  on_ranks(3, check_point_to_point);
  on_gloo_ranks(3, check_point_to_point);
  on_gloo_ranks(3, check_point_to_point, 20000, /*tcp=*/true);
  // A receive nobody sends to times out, it does not hang.
  const auto t0 = std::chrono::steady_clock::now();
  REQUIRE_THROWS_AS(on_ranks(
                        2,
                        [](Communicator& c) {
                          float x = 0;
                          if (c.rank() == 0) c.recv(1, &x, sizeof x);
                        },
                        300),
                    CommError);
  REQUIRE(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
}

TEST_CASE("rank identity: flags - then Slurm - then Open MPI - and one-line errors naming the source", "[train][comm]") {
  using gcsim::comm::rank_identity;
  std::map<std::string, std::string> env;
  const auto get = [&](const char* k) -> const char* {
    const auto it = env.find(k);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  auto error = [&](std::optional<int> r, std::optional<int> w, const std::string& id = "") {
    try {
      rank_identity(r, w, id, get);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(error(std::nullopt, std::nullopt).find("no rank: give --rank and --world-size") == 0);
  env = {{"OMPI_COMM_WORLD_RANK", "3"}, {"OMPI_COMM_WORLD_SIZE", "4"}};
  auto id = rank_identity(std::nullopt, std::nullopt, "", get);
  CHECK(id.rank == 3);
  CHECK(id.world_size == 4);
  CHECK(id.source == "OMPI_COMM_WORLD_RANK/OMPI_COMM_WORLD_SIZE");
  CHECK(id.run_id == "gcsim");
  env["SLURM_PROCID"] = "1";  // Slurm comes before Open MPI
  env["SLURM_NTASKS"] = "2";
  env["SLURM_JOB_ID"] = "981";
  env["SLURM_STEP_ID"] = "0";
  id = rank_identity(std::nullopt, std::nullopt, "", get);
  CHECK(id.rank == 1);
  CHECK(id.world_size == 2);
  CHECK(id.run_id == "slurm-981.0");
  id = rank_identity(0, 8, "mine", get);  // flags come first
  CHECK(id.rank == 0);
  CHECK(id.world_size == 8);
  CHECK(id.source == "--rank/--world-size");
  CHECK(id.run_id == "mine");
  CHECK(error(5, 4) == "--rank: the rank must be in [0, 4) (got 5)");
  CHECK(error(0, 0) == "--world-size: the world size must be >= 1 (got 0)");
  CHECK(error(0, std::nullopt) == "--rank and --world-size go together (one is missing)");
  CHECK(error(0, 2, "a b") == "--run-id a b: only letters, digits, '-', '_' and '.'");
  env["SLURM_PROCID"] = "1x";
  CHECK(error(std::nullopt, std::nullopt) == "SLURM_PROCID=1x: not an integer");
  env["SLURM_PROCID"] = "2";
  CHECK(error(std::nullopt, std::nullopt) == "SLURM_PROCID: the rank must be in [0, 2) (got 2)");
  env.erase("SLURM_NTASKS");
  CHECK(error(std::nullopt, std::nullopt) == "SLURM_NTASKS is not set, but SLURM_PROCID is");
}

TEST_CASE("tcp store: set - get and wait across clients - a missing key or server times out", "[train][comm]") {
  using gcsim::comm::TcpStore;
  const int port = free_port();
  gcsim::comm::TcpStoreServer server("127.0.0.1", port);
  TcpStore a("127.0.0.1", port, std::chrono::milliseconds(2000));
  TcpStore b("127.0.0.1", port, std::chrono::milliseconds(2000));
  std::thread later([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    a.set("k", {'x', '\0', 'y'});
  });
  CHECK(b.get("k") == std::vector<char>{'x', '\0', 'y'});  // waits for it
  later.join();
  b.set("big", std::vector<char>(1 << 20, 'z'));
  CHECK(a.get("big").size() == (1u << 20));
  a.set("k", {'n'});  // overwritten
  CHECK(b.get("k") == std::vector<char>{'n'});
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_THROWS_WITH(a.wait({"k", "never"}, std::chrono::milliseconds(200)), Catch::Contains("wait timeout for key never"));
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2));
  CHECK_THROWS_WITH(TcpStore("127.0.0.1", free_port(), std::chrono::milliseconds(200)),
                    Catch::Contains("cannot connect within 200 ms"));
  CHECK(gcsim::comm::parse_tcp_address("tcp://node-1:29500") == std::pair<std::string, int>{"node-1", 29500});
  CHECK(gcsim::comm::parse_tcp_address("tcp://[::1]:7") == std::pair<std::string, int>{"::1", 7});
  for (const char* bad : {"node:1", "tcp://node", "tcp://:5", "tcp://h:0", "tcp://h:65536", "tcp://h:x1"})
    CHECK_THROWS_AS(gcsim::comm::parse_tcp_address(bad), std::invalid_argument);
}

TEST_CASE("ring schedules count the bytes each rank sends", "[train][comm]") {
  // 10 floats over 4 ranks: chunks 2,3,2,3; rank 0 skips chunk 1 (3 floats).
  REQUIRE(ring_allreduce_bytes(10, 4, 0) == 2 * (10 - 3) * 4);
  REQUIRE(ring_allreduce_bytes(10, 4, 1) == 2 * (10 - 2) * 4);
  REQUIRE(ring_allreduce_bytes(10, 1, 0) == 0);
  REQUIRE(ring_allgather_bytes({5, 6, 7}, 0) == 5 + 7);
  REQUIRE(ring_allgather_bytes({5, 6, 7}, 2) == 6 + 7);
}

TEST_CASE("in-process collectives: sum - allgatherv and a missing rank times out", "[train][comm]") {
  on_ranks(3, check_collectives);
  on_ranks(1, check_collectives);
  const auto t0 = std::chrono::steady_clock::now();
  REQUIRE_THROWS_AS(on_ranks(
                        2,
                        [](Communicator& c) {
                          if (c.rank() == 1) return;  // never arrives
                          float x = 1;
                          c.allreduce_sum(&x, 1);
                        },
                        300),
                    CommError);
  REQUIRE(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
}

TEST_CASE("Gloo over loopback TCP: ring allreduce and allgatherv agree with the sums", "[train][comm][gloo]") {
  on_gloo_ranks(3, check_collectives);
}

TEST_CASE("Gloo: a peer that dies makes the others fail within the timeout - not hang", "[train][comm][gloo]") {
  const auto t0 = std::chrono::steady_clock::now();
  std::atomic<int> failures{0};
  REQUIRE_THROWS_AS(on_gloo_ranks(
                        3,
                        [&](Communicator& c) {
                          std::vector<float> v(1000, 1.0f);
                          c.allreduce_sum(v.data(), v.size());  // all connected and working
                          if (c.rank() == 2) return;  // leaves: its context (and sockets) close
                          try {
                            for (int i = 0; i < 100; ++i) c.allreduce_sum(v.data(), v.size());
                          } catch (const CommError&) {
                            ++failures;
                            throw;
                          }
                        },
                        2000),
                    CommError);
  REQUIRE(failures == 2);
  REQUIRE(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10));
}

TEST_CASE("segments follow the granularity", "[train][exchange]") {
  const std::vector<NamedRange> layers = {{"a", 0, 100}, {"b", 100, 50}, {"c", 150, 1000}};
  CompressionSpec spec;
  spec.method = std::string("topk");
  spec.ratio = 0.1;
  spec.granularity = Granularity::Layer;
  auto s = make_segments(layers, spec, 25);
  REQUIRE(s.size() == 3);
  REQUIRE(s[1].offset == 100);
  REQUIRE(s[1].k == 5);
  // k per layer, but one bucket (one collective) for all three, as the simulator prices it
  REQUIRE((s[0].group == 0 && s[1].group == 0 && s[2].group == 0));
  // with 4000-byte buckets, filled from the last layer backwards: c alone, then a and b together
  s = make_segments(layers, spec, 4000.0 / (1024 * 1024));
  REQUIRE(s.size() == 3);
  REQUIRE((s[0].group == 0 && s[1].group == 0 && s[2].group == 1));
  spec.granularity = Granularity::Model;
  s = make_segments(layers, spec, 25);
  REQUIRE(s.size() == 1);
  REQUIRE(s[0].size == 1150);
  REQUIRE(s[0].k == 115);
  // buckets of 4000 bytes fill from the last layer backwards: [c], [a, b]
  spec.granularity = Granularity::Bucket;
  s = make_segments(layers, spec, 4000.0 / (1024 * 1024));
  REQUIRE(s.size() == 2);
  REQUIRE(s[0].offset == 0);
  REQUIRE(s[0].size == 150);
  REQUIRE(s[1].offset == 150);
  spec.method = std::string("none");
  REQUIRE(make_segments(layers, spec, 25)[0].k == 1150);
  // dense: one allreduce per bucket whatever the granularity
  spec.granularity = Granularity::Layer;
  s = make_segments(layers, spec, 25);
  REQUIRE(s.size() == 1);
  REQUIRE(s[0].size == 1150);
}

TEST_CASE("the exchange averages dense gradients and keeps the error-feedback invariant", "[train][exchange]") {
  const std::size_t n = 3000;
  const std::vector<NamedRange> layers = {{"x", 0, 1000}, {"y", 1000, 2000}};
  auto grad = [&](int rank, int step) { return kernels::normal_vector(n, static_cast<std::uint64_t>(rank * 100 + step)); };

  SECTION("method none: the plain average") {
    CompressionSpec spec;
    on_ranks(3, [&](Communicator& c) {
      GradientExchange ex(c, spec, make_segments(layers, spec, 25), n);
      auto g = grad(c.rank(), 0);
      const auto st = ex.exchange(g, 0);
      RANK_REQUIRE(ex.segments().size() == 1);  // one 25 MB bucket holds both layers
      RANK_REQUIRE(st.bytes_sent == ring_allreduce_bytes(3000, 3, c.rank()));
      for (std::size_t i = 0; i < n; i += 37)
        RANK_REQUIRE(g[i] == Approx((grad(0, 0)[i] + grad(1, 0)[i] + grad(2, 0)[i]) / 3).margin(1e-5));
    });
  }

  SECTION("top-k with error feedback: result = mean of each rank's top-k of (g + e); sent + e' = g + e") {
    CompressionSpec spec;
    spec.method = std::string("topk");
    spec.ratio = 0.01;
    spec.granularity = Granularity::Layer;
    const auto segs = make_segments(layers, spec, 25);
    on_ranks(2, [&](Communicator& c) {
      GradientExchange ex(c, spec, segs, n);
      auto ref = kernels::make_backend("cpu-reference");
      std::vector<float> e_ref(n, 0.0f);
      for (int step = 0; step < 3; ++step) {
        // what every rank sends, computed independently with the reference kernels
        std::vector<float> expect(n, 0.0f);
        std::vector<float> mine_sent(n, 0.0f);
        for (int r = 0; r < 2; ++r) {
          // replay rank r's residual from scratch
          std::vector<float> e(n, 0.0f);
          for (int s = 0; s <= step; ++s) {
            auto g = grad(r, s);
            for (const auto& seg : segs) {
              std::vector<float> vals(seg.k);
              std::vector<kernels::Index> idx(seg.k);
              ref->ef_topk(g.data() + seg.offset, e.data() + seg.offset, seg.size, seg.k, vals.data(), idx.data());
              if (s == step)
                for (std::size_t j = 0; j < seg.k; ++j) {
                  expect[seg.offset + idx[j]] += vals[j] / 2;
                  if (r == c.rank()) mine_sent[seg.offset + idx[j]] = vals[j];
                }
            }
          }
          if (r == c.rank()) e_ref = e;
        }
        auto g = grad(c.rank(), step);
        std::vector<float> before(ex.residual().begin(), ex.residual().end());
        const auto st = ex.exchange(g, static_cast<std::uint64_t>(step));
        RANK_REQUIRE(st.entries_sent == 10 + 20);
        // one collective for the bucket (both layers: 10 + 20 entries of 8 bytes); k is known on
        // every rank, so the parts alone travel, no byte counts first
        RANK_REQUIRE(ex.buckets() == 1);
        RANK_REQUIRE(st.bytes_sent == ring_allgather_bytes({240, 240}, c.rank()));
        for (std::size_t i = 0; i < n; ++i) {
          RANK_REQUIRE(g[i] == Approx(expect[i]).margin(1e-6));
          RANK_REQUIRE(ex.residual()[i] == e_ref[i]);
          // conservation on this rank: sent + new residual = old residual + gradient
          RANK_REQUIRE(mine_sent[i] + ex.residual()[i] == Approx(before[i] + grad(c.rank(), step)[i]).margin(1e-5));
        }
      }
    });
  }

  SECTION("top-k without error feedback keeps no residual; NaN is rejected") {
    CompressionSpec spec;
    spec.method = std::string("topk");
    spec.ratio = 0.1;
    spec.error_feedback = false;
    on_ranks(1, [&](Communicator& c) {
      GradientExchange ex(c, spec, make_segments(layers, spec, 25), n);
      auto g = grad(0, 0);
      const auto orig = g;
      ex.exchange(g, 0);
      int kept = 0;
      for (std::size_t i = 0; i < n; ++i) {
        RANK_REQUIRE(ex.residual()[i] == 0.0f);
        if (g[i] != 0.0f) {
          RANK_REQUIRE(g[i] == orig[i]);
          ++kept;
        }
      }
      RANK_REQUIRE(kept == 300);
      g[5] = std::nanf("");
      REQUIRE_THROWS_AS(ex.exchange(g, 1), kernels::NonFiniteError);
    });
  }
}

TEST_CASE("Random-K and DGC threshold through the hook: shared subsets - bounded k - EF conservation",
          "[train][exchange]") {
  const std::size_t n = 5000;
  const std::vector<NamedRange> layers = {{"w", 0, n}};
  for (const std::string& method : {std::string("randomk"), std::string("threshold")}) {
    CompressionSpec spec;
    spec.method = method;
    spec.ratio = 0.01;
    spec.granularity = Granularity::Model;
    on_ranks(2, [&](Communicator& c) {
      GradientExchange ex(c, spec, make_segments(layers, spec, 25), n);
      for (int step = 0; step < 3; ++step) {
        std::vector<float> g = kernels::normal_vector(n, static_cast<std::uint64_t>(10 * c.rank() + step));
        const std::vector<float> orig = g;
        const std::vector<float> e_old(ex.residual().begin(), ex.residual().end());
        const auto st = ex.exchange(g, static_cast<std::uint64_t>(step));
        RANK_REQUIRE(st.entries_sent >= 1);
        RANK_REQUIRE(st.entries_sent <= 2 * 50);  // threshold: at most 2k
        // With P = 2 a rank forwards only its own part in the ring allgather; the
        // threshold's k varies, so its 8-byte count travels first; Random-K's does not.
        const std::uint64_t part = kernels::wire_bytes(n, st.entries_sent);
        RANK_REQUIRE(st.bytes_sent == (method == std::string("threshold") ? 8 + part : part));
        if (method == std::string("randomk")) {
          RANK_REQUIRE(st.entries_sent == 50);
          // both ranks drew the same subset: exactly k non-zeros in the average
          RANK_REQUIRE(std::count_if(g.begin(), g.end(), [](float v) { return v != 0.0f; }) == 50);
        }
        // error feedback: where this rank's residual was cleared it sent g + e_old; elsewhere it kept it
        std::size_t cleared = 0;
        for (std::size_t i = 0; i < n; ++i) {
          const float acc = orig[i] + e_old[i];
          if (ex.residual()[i] == 0.0f && acc != 0.0f) ++cleared;
          else RANK_REQUIRE(ex.residual()[i] == acc);
        }
        RANK_REQUIRE(cleared == st.entries_sent);
      }
    });
  }
}

TEST_CASE("momentum correction: the worker's momentum feeds error feedback and is masked where sent",
          "[train][exchange]") {
  const std::size_t n = 2000;
  const std::vector<NamedRange> layers = {{"w", 0, n}};
  CompressionSpec spec;
  spec.method = std::string("topk");
  spec.ratio = 0.02;
  spec.momentum_correction = true;
  on_ranks(1, [&](Communicator& c) {
    GradientExchange ex(c, spec, make_segments(layers, spec, 25), n);
    ex.set_momentum(0.9);
    for (int step = 0; step < 4; ++step) {
      std::vector<float> g = kernels::normal_vector(n, static_cast<std::uint64_t>(step));
      const std::vector<float> grad = g;
      const std::vector<float> u_old(ex.local_momentum().begin(), ex.local_momentum().end());
      const std::vector<float> v_old(ex.residual().begin(), ex.residual().end());
      ex.exchange(g, static_cast<std::uint64_t>(step));
      std::size_t sent = 0;
      for (std::size_t i = 0; i < n; ++i) {
        const float u = 0.9f * u_old[i] + grad[i];
        if (g[i] != 0.0f) {  // sent (P = 1: the average is this worker's value)
          ++sent;
          RANK_REQUIRE(g[i] == v_old[i] + u);
          RANK_REQUIRE(ex.residual()[i] == 0.0f);
          RANK_REQUIRE(ex.local_momentum()[i] == 0.0f);
        } else {
          RANK_REQUIRE(ex.local_momentum()[i] == u);
          RANK_REQUIRE(ex.residual()[i] == v_old[i] + u);
        }
      }
      RANK_REQUIRE(sent == 40);
    }
  });
  CompressionSpec dense;
  dense.momentum_correction = true;
  InProcessComm solo(std::make_shared<InProcessHub>(1, std::chrono::milliseconds(1000)), 0);
  REQUIRE_THROWS_AS(GradientExchange(solo, dense, make_segments(layers, dense, 25), n), std::invalid_argument);
}

TEST_CASE("SGD follows PyTorch's momentum and weight decay", "[train][sgd]") {
  Sgd sgd(2, {0.1, 0.9, 0.01});
  std::vector<float> p = {1.0f, -2.0f};
  const std::vector<float> g = {0.5f, 0.25f};
  sgd.step(p, g);
  // v1 = g + wd p0; p1 = p0 - lr v1
  const double v1a = 0.5 + 0.01 * 1.0, v1b = 0.25 + 0.01 * -2.0;
  const double p1a = 1.0 - 0.1 * v1a, p1b = -2.0 - 0.1 * v1b;
  REQUIRE(p[0] == Approx(p1a));
  REQUIRE(p[1] == Approx(p1b));
  sgd.step(p, g);
  const double v2a = 0.9 * v1a + 0.5 + 0.01 * p1a;
  REQUIRE(p[0] == Approx(p1a - 0.1 * v2a));
  REQUIRE(sgd.momentum_buffer()[0] == Approx(v2a));
}

TEST_CASE("checkpoints round-trip and refuse what they cannot resume", "[train][checkpoint]") {
  const fs::path dir = fresh_dir("ckpt");
  CheckpointState s;
  s.rank = 1;
  s.workers = 2;
  s.fingerprint = 42;
  s.epoch = 3;
  s.step = 17;
  s.global_step = 1234;
  s.params = {1, 2, 3};
  s.momentum = {4, 5, 6};
  s.residual = {7, 8, -9};
  s.local_momentum = {0.5f, 0, -1};
  save_checkpoint(dir.string(), s);
  const auto back = load_checkpoint(dir.string(), 1, 2, 42, 3);
  REQUIRE(back.epoch == 3);
  REQUIRE(back.step == 17);
  REQUIRE(back.global_step == 1234);
  REQUIRE(back.residual == s.residual);
  REQUIRE(back.momentum == s.momentum);
  REQUIRE(back.local_momentum == s.local_momentum);
  using Catch::Matchers::Contains;
  REQUIRE_THROWS_WITH(load_checkpoint(dir.string(), 0, 2, 42, 3), Contains("cannot open"));
  REQUIRE_THROWS_WITH(load_checkpoint(dir.string(), 1, 2, 43, 3), Contains("different configuration"));
  REQUIRE_THROWS_WITH(load_checkpoint(dir.string(), 1, 2, 42, 4), Contains("parameters"));
  // flip one byte: the checksum catches it
  const std::string path = checkpoint_path(dir.string(), 1);
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(60);
    f.put('\x7f');
  }
  REQUIRE_THROWS_WITH(load_checkpoint(dir.string(), 1, 2, 42, 3), Contains("checksum"));
  fs::resize_file(path, 20);
  REQUIRE_THROWS_AS(load_checkpoint(dir.string(), 1, 2, 42, 3), InputError);
}

TEST_CASE("checkpoints carry the run record and keep the previous one for a common step", "[train][checkpoint]") {
  const fs::path dir = fresh_dir("ckpt-record");
  CheckpointState s;
  s.workers = 2;
  s.fingerprint = 42;
  s.epoch = 2;
  s.step = 3;
  s.global_step = 10;
  s.params = {1, 2};
  s.momentum = {3, 4};
  s.residual = {5, 6};
  s.bytes_sent = 123456;
  s.epoch_loss_sum = 1.25;
  s.epoch_correct = 7;
  s.epoch_samples = 48;
  s.epochs = {{1, 4, 2.5, 0.25, 2.25, 0.3, 1000}, {2, 8, 1.5, 0.5, 1.25, 0.6, 2000}};
  save_checkpoint(dir.string(), s);
  const auto back = load_checkpoint(dir.string(), 0, 2, 42, 2);
  REQUIRE(back.bytes_sent == 123456);
  REQUIRE(back.epoch_loss_sum == 1.25);
  REQUIRE(back.epoch_correct == 7);
  REQUIRE(back.epoch_samples == 48);
  REQUIRE(back.epochs.size() == 2);
  REQUIRE(back.epochs[1].epoch == 2);
  REQUIRE(back.epochs[1].global_step == 8);
  REQUIRE(back.epochs[1].test_accuracy == 0.6);
  REQUIRE(back.epochs[1].bytes_sent == 2000);

  // rank 0 checkpointed step 12, rank 1 died before it: both resume from step 10
  auto r1 = s;
  r1.rank = 1;
  save_checkpoint(dir.string(), r1);
  auto later = s;
  later.global_step = 12;
  later.step = 5;
  save_checkpoint(dir.string(), later);
  REQUIRE(fs::exists(previous_checkpoint_path(dir.string(), 0)));
  REQUIRE(load_checkpoint(dir.string(), 0, 2, 42, 2).global_step == 12);
  REQUIRE(load_resume_checkpoint(dir.string(), 0, 2, 42, 2).global_step == 10);
  REQUIRE(load_resume_checkpoint(dir.string(), 1, 2, 42, 2).global_step == 10);
  r1.global_step = 12;
  save_checkpoint(dir.string(), r1);
  REQUIRE(load_resume_checkpoint(dir.string(), 0, 2, 42, 2).global_step == 12);
  REQUIRE(load_resume_checkpoint(dir.string(), 1, 2, 42, 2).global_step == 12);
  // no step in common
  r1.global_step = 20;
  save_checkpoint(dir.string(), r1);
  r1.global_step = 22;
  save_checkpoint(dir.string(), r1);
  using Catch::Matchers::Contains;
  REQUIRE_THROWS_WITH(load_resume_checkpoint(dir.string(), 0, 2, 42, 2), Contains("share no step"));
  REQUIRE_THROWS_WITH(load_resume_checkpoint(dir.string(), 0, 3, 42, 2), Contains("rank-2.ckpt: cannot open"));
  // nothing but whole checkpoints is left in the directory
  for (const auto& e : fs::directory_iterator(dir)) REQUIRE(e.path().extension() == ".ckpt");
}

TEST_CASE("a checkpoint that cannot be written leaves the earlier one intact", "[train][checkpoint]") {
  const fs::path dir = fresh_dir("ckpt-full");
  CheckpointState s;
  s.params = s.momentum = s.residual = {1, 2, 3};
  s.global_step = 4;
  save_checkpoint(dir.string(), s);
  // the staged file is a directory: the write fails the way a full disk fails it
  fs::create_directories(dir / "rank-0.ckpt.new.tmp" / "x");
  s.global_step = 8;
  using Catch::Matchers::Contains;
  REQUIRE_THROWS_WITH(save_checkpoint(dir.string(), s), Contains("rank-0.ckpt") && Contains("cannot write"));
  REQUIRE(load_checkpoint(dir.string(), 0, 1, 0, 3).global_step == 4);
}

TEST_CASE("a run log that cannot be written fails - not silently drops rows", "[train][log]") {
  const fs::path dir = fresh_dir("log-full");
  fs::create_symlink("/dev/full", dir / "steps-rank0.csv");
  using Catch::Matchers::Contains;
  REQUIRE_THROWS_WITH(RunLog(dir.string(), 0), Contains("steps-rank0.csv: cannot write"));
}

TEST_CASE("a resumed run continues the record - epochs - bytes and the open epoch", "[train][run][checkpoint]") {
  const auto data = synthetic_data(400, 100);
  auto cfg = small_config(2, std::string("topk"), 0.05, true);
  cfg.settings.epochs = 3;
  const auto whole = train_inprocess(data, cfg, {});
  const fs::path dir = fresh_dir("resume-record");
  for (const std::int64_t stop_at : {13, 20}) {  // at an epoch's end; in the middle of epoch 2
    TrainerOptions stop;
    stop.checkpoint_dir = (dir / ("first" + std::to_string(stop_at))).string();
    stop.stop_after = stop_at;
    train_inprocess(data, cfg, stop);
    TrainerOptions resume;
    resume.resume_dir = stop.checkpoint_dir;
    const auto rest = train_inprocess(data, cfg, resume);
    REQUIRE(rest.result.epochs.size() == whole.result.epochs.size());
    for (std::size_t e = 0; e < whole.result.epochs.size(); ++e) {
      const auto& a = whole.result.epochs[e];
      const auto& b = rest.result.epochs[e];
      REQUIRE(a.epoch == b.epoch);
      REQUIRE(a.global_step == b.global_step);
      REQUIRE(a.train_loss == b.train_loss);
      REQUIRE(a.train_accuracy == b.train_accuracy);
      REQUIRE(a.test_loss == b.test_loss);
      REQUIRE(a.test_accuracy == b.test_accuracy);
      REQUIRE(a.bytes_sent == b.bytes_sent);
    }
    REQUIRE(rest.params == whole.params);
  }
}

namespace {
// Bytes the heap holds now: glibc's count, or ASan's where its allocator
// replaces glibc's (mallinfo2 then reports nothing).
std::size_t heap_in_use() {
#if defined(__SANITIZE_ADDRESS__)
  return __sanitizer_get_current_allocated_bytes();
#else
  const auto m = mallinfo2();
  return m.uordblks + m.hblkhd;
#endif
}
}  // namespace

TEST_CASE("the memory estimate follows what the model allocates", "[train][config]") {
  for (const int batch : {500, 4000}) {
    const std::size_t before = heap_in_use();
    std::size_t used = 0;
    {
      SimpleCnn model(batch);
      used = heap_in_use() - before;
    }
    const auto want = static_cast<double>(simplecnn_host_bytes(static_cast<std::size_t>(batch)));
    INFO("batch " << batch << ": allocated " << used << " B, estimated " << want << " B");
    REQUIRE(static_cast<double>(used) > 0.9 * want);
    REQUIRE(static_cast<double>(used) < 1.1 * want);
  }
}

TEST_CASE("train refuses model keys it cannot honour and batches this machine cannot hold", "[train][config]") {
  const fs::path dir = fresh_dir("config-refused");
  const auto path = (dir / "t.toml").string();
  std::ofstream(path) << R"(
[model]
name = "simplecnn"
batch_per_worker = 32
[compute]
forward_backward_ms = 10
[cluster]
workers = 2
[cluster.inter_node]
bandwidth_gbps = 0.1
)";
  REQUIRE(load_train_config(path).scenario.batch_per_worker == 32);
  using Catch::Matchers::Contains;
  // simulate prices a 1,000-parameter model; train would still train SimpleCNN
  REQUIRE(load_scenario(path, {"model.params=1000"}).model.total_params() == 1000);
  REQUIRE_THROWS_WITH(load_train_config(path, {"model.params=1000"}),
                      Contains("--set model.params=1000") && Contains("model.params") && Contains("gcsim train"));
  REQUIRE_THROWS_WITH(load_train_config(path, {"model.forward_flops=1e9"}), Contains("model.forward_flops"));
  REQUIRE_THROWS_AS(load_train_config(path, {"model.params=1000"}), InputError);
  // a million images per worker is hundreds of GB of activations
  REQUIRE_THROWS_WITH(load_train_config(path, {"model.batch_per_worker=1000000"}),
                      Contains("model.batch_per_worker") && Contains("memory"));
}

TEST_CASE("the training keys of a scenario are read and checked", "[train][config]") {
  const fs::path dir = fresh_dir("config");
  const std::string base = R"(
[model]
name = "simplecnn"
batch_per_worker = 32
[compute]
forward_backward_ms = 10
[cluster]
workers = 4
[cluster.inter_node]
bandwidth_gbps = 0.1
[compression]
method = "topk"
ratio = 0.01
[training]
epochs = 3
seed = 5
[optimizer]
lr = 0.02
momentum = 0.8
weight_decay = 0.0005
[data]
limit_train = 1000
)";
  const auto path = (dir / "t.toml").string();
  std::ofstream(path) << base;
  const auto cfg = load_train_config(path);
  REQUIRE(cfg.settings.epochs == 3);
  REQUIRE(cfg.settings.seed == 5);
  REQUIRE(cfg.settings.lr == 0.02);
  REQUIRE(cfg.settings.momentum == 0.8);
  REQUIRE(cfg.settings.weight_decay == 0.0005);
  REQUIRE(cfg.settings.limit_train == 1000);
  REQUIRE(cfg.settings.data_dir == std::string(kDefaultFashionMnistDir));
  REQUIRE(cfg.scenario.cluster.workers == 4);
  // the same file simulates
  REQUIRE(load_scenario(path).batch_per_worker == 32);

  using Catch::Matchers::Contains;
  REQUIRE_THROWS_WITH(load_train_config(path, {"optimizer.lr=-1"}), Contains("optimizer.lr") && Contains("> 0"));
  REQUIRE_THROWS_WITH(load_train_config(path, {"optimizer.momentum=1.0"}), Contains("optimizer.momentum"));
  REQUIRE_THROWS_WITH(load_train_config(path, {"training.epochs=0"}), Contains("training.epochs"));
  REQUIRE_THROWS_WITH(load_train_config(path, {"data.limit_train=2"}), Contains("data.limit_train"));
  REQUIRE_THROWS_WITH(load_train_config(path, {"data.dri=\"x\""}), Contains("data.dri"));
  REQUIRE_THROWS_WITH(load_train_config(path, {"model.name=resnet18"}), Contains("simplecnn"));
  REQUIRE(load_train_config(path, {"compression.momentum_correction=true"}).scenario.compression.momentum_correction);
  REQUIRE_THROWS_WITH(load_train_config(path, {"compression.error_feedback=false", "compression.momentum_correction=true"}),
                      Contains("compression.momentum_correction"));
  // simulate checks the training keys too
  REQUIRE_THROWS_WITH(load_scenario(path, {"optimizer.lr=0"}), Contains("optimizer.lr"));
}

TEST_CASE("training is deterministic - learns and keeps the replicas identical", "[train][run]") {
  const auto data = synthetic_data(400, 100);
  const auto cfg = small_config(2, std::string("topk"), 0.05, true);
  const auto a = train_inprocess(data, cfg, {});
  const auto b = train_inprocess(data, cfg, {}, 1);
  REQUIRE(a.result.replicas_identical);
  REQUIRE(a.params == b.params);  // rank 1 of a second run == rank 0 of the first
  REQUIRE(a.result.epochs.size() == 2);
  REQUIRE(a.result.global_steps == 2 * 13);  // 200 samples per rank, batch 16: 13 steps
  REQUIRE(a.result.epochs.back().test_accuracy > 0.6);  // chance is 0.1
  REQUIRE(a.result.epochs.back().train_loss < a.result.epochs.front().train_loss);
}

TEST_CASE("a resumed run ends with the same parameters as an uninterrupted one", "[train][run][checkpoint]") {
  const auto data = synthetic_data(400, 100);
  for (const int variant : {0, 1, 2}) {  // dense, Top-K + EF, Top-K + EF + momentum correction
    const bool ef = variant > 0;
    auto cfg = small_config(2, ef ? std::string("topk") : std::string("none"), 0.05, true);
    cfg.scenario.compression.momentum_correction = variant == 2;
    const auto whole = train_inprocess(data, cfg, {});

    const fs::path dir = fresh_dir("resume-" + std::to_string(variant));
    TrainerOptions stop;
    stop.checkpoint_dir = (dir / "first").string();
    stop.stop_after = 17;  // in the middle of epoch 2
    const auto first = train_inprocess(data, cfg, stop);
    REQUIRE(first.result.stopped);
    REQUIRE(first.result.global_steps == 17);

    TrainerOptions resume;
    resume.resume_dir = stop.checkpoint_dir;
    resume.checkpoint_dir = (dir / "second").string();
    for (int keep : {0, 1}) {
      const auto second = train_inprocess(data, cfg, resume, keep);
      REQUIRE_FALSE(second.result.stopped);
      REQUIRE(second.result.global_steps == whole.result.global_steps);
      REQUIRE(second.params == whole.params);
      REQUIRE(second.momentum == whole.momentum);
      if (keep == 0) REQUIRE(second.residual == whole.residual);
      if (ef) REQUIRE(std::any_of(second.residual.begin(), second.residual.end(), [](float v) { return v != 0; }));
    }
    // a checkpoint refuses another configuration
    auto other = cfg;
    other.settings.lr = 0.01;
    REQUIRE_THROWS_AS(train_inprocess(data, other, resume), InputError);
  }
}
