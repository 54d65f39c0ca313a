// CPU-specific kernel tests: the fast backend ("cpu") at 1, 2, 3 and 7 threads
// against the reference, including sizes below the thread count; the radix
// select engine (kernels/cpu/radix_select.h) and the chunking under it on
// adversarial keys; DeviceInfo and host memory. The backend-independent
// contract is in kernel_contract_test.cpp.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "kernels/backend.h"
#include "kernels/buffer.h"
#include "kernels/cpu/parallel_chunks.h"
#include "kernels/cpu/radix_select.h"
#include "kernels/hash.h"
#include "kernels/magnitude_key.h"

namespace {

using gcsim::kernels::Backend;
using gcsim::kernels::Buffer;
using gcsim::kernels::Index;
using gcsim::kernels::magnitude_key;
namespace cpu = gcsim::kernels::cpu;

std::vector<float> gaussian_with_ties(std::size_t n, std::uint64_t seed, bool ties) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(n);
  for (float& v : x) v = ties ? std::round(2.0f * normal(rng)) : normal(rng);
  return x;
}

std::vector<std::uint32_t> sorted_keys(const std::vector<float>& v) {
  std::vector<std::uint32_t> k(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) k[i] = magnitude_key(v[i]);
  std::sort(k.begin(), k.end());
  return k;
}

bool valid_selection(const std::vector<float>& x, const std::vector<float>& values, const std::vector<Index>& idx) {
  for (std::size_t j = 0; j < idx.size(); ++j)
    if (idx[j] < 0 || static_cast<std::size_t>(idx[j]) >= x.size() || values[j] != x[static_cast<std::size_t>(idx[j])])
      return false;
  std::vector<Index> sorted = idx;
  std::sort(sorted.begin(), sorted.end());
  return std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end();
}

// Runs RadixSelect over `keys` in `chunks` chunks and returns the selected
// keys, sorted; empty when a slot in [0, k) was not filled exactly once.
std::vector<std::uint32_t> radix_top(const std::vector<std::uint32_t>& keys, std::size_t k, unsigned chunks) {
  cpu::RadixSelect select(chunks);
  const auto key = [&keys](std::size_t i) { return keys[i]; };
  select.histogram(keys.size(), key);
  std::vector<std::size_t> index_at(k, keys.size());
  std::size_t bad_slots = 0;
  select.select(k, key, [&](std::size_t i, std::size_t slot) {
    if (slot >= k || index_at[slot] != keys.size()) {
      ++bad_slots;
      return;
    }
    index_at[slot] = i;
  });
  std::vector<std::size_t> distinct = index_at;
  std::sort(distinct.begin(), distinct.end());
  if (bad_slots || std::adjacent_find(distinct.begin(), distinct.end()) != distinct.end() ||
      (k && distinct.back() >= keys.size()))
    return {};
  std::vector<std::uint32_t> chosen(k);
  for (std::size_t s = 0; s < k; ++s) chosen[s] = keys[index_at[s]];
  std::sort(chosen.begin(), chosen.end());
  return chosen;
}

std::vector<std::uint32_t> top_by_sort(std::vector<std::uint32_t> keys, std::size_t k) {
  std::sort(keys.begin(), keys.end());
  return {keys.end() - static_cast<std::ptrdiff_t>(k), keys.end()};
}

}  // namespace

TEST_CASE("fast cpu backend: every thread count selects what the reference selects", "[kernels]") {
  auto ref = gcsim::kernels::make_backend("cpu-reference");
  std::vector<std::unique_ptr<Backend>> fast;
  for (unsigned threads : {1u, 2u, 3u, 7u}) {
    fast.push_back(gcsim::kernels::make_backend("cpu", threads));
    REQUIRE(fast.back()->info().threads == threads);
  }
  const std::uint64_t seed = 3;
  auto hash_keys = [seed](const std::vector<Index>& idx) {
    std::vector<std::uint32_t> h;
    for (Index i : idx) h.push_back(gcsim::kernels::randomk_key(seed, static_cast<std::uint64_t>(i)));
    std::sort(h.begin(), h.end());
    return h;
  };
  for (std::size_t n : {1, 2, 3, 5, 6, 7, 8, 9, 1023, 70000, 300000})
    for (bool ties : {false, true}) {
      const std::vector<float> x = gaussian_with_ties(n, n * 10 + (ties ? 1 : 0), ties);
      for (std::size_t k : {std::size_t{1}, std::max<std::size_t>(1, n / 100), n / 2, n}) {
        // The reference's answers (its buffers are host memory).
        std::vector<float> ref_values(k), ref_tv(n);
        std::vector<Index> ref_indices(k), ref_ti(n);
        ref->topk(x.data(), n, k, ref_values.data(), ref_indices.data());
        const std::vector<std::uint32_t> ref_top = sorted_keys(ref_values);
        const auto rr = ref->threshold_topk(x.data(), n, k, n, {}, ref_tv.data(), ref_ti.data());
        ref_ti.resize(rr.selected);  // in index order
        ref->randomk(x.data(), n, k, seed, ref_values.data(), ref_indices.data());
        const std::vector<std::uint32_t> ref_random = hash_keys(ref_indices);

        for (auto& b : fast) {
          INFO(b->info().threads << " threads, n = " << n << ", k = " << k << (ties ? ", ties" : ""));
          Buffer<float> dx(*b, x), values(*b, k);
          Buffer<Index> indices(*b, k);
          b->topk(dx.data(), n, k, values.data(), indices.data());
          CHECK(valid_selection(x, values.download(), indices.download()));
          CHECK(sorted_keys(values.download()) == ref_top);

          // Error feedback from e = 0: the same magnitudes, the residual zero exactly where emitted.
          Buffer<float> e(*b, n);
          e.zero();
          b->ef_topk(dx.data(), e.data(), n, k, values.data(), indices.data());
          CHECK(sorted_keys(values.download()) == ref_top);
          std::vector<float> residual = e.download();
          std::size_t nonzero_emitted = 0;
          for (Index i : indices.download()) {
            nonzero_emitted += residual[static_cast<std::size_t>(i)] != 0.0f ? 1 : 0;
            residual[static_cast<std::size_t>(i)] = x[static_cast<std::size_t>(i)];
          }
          CHECK(nonzero_emitted == 0);
          CHECK(residual == x);

          // Uncapped, the threshold selection is unique: the same index set.
          Buffer<float> tv(*b, n);
          Buffer<Index> ti(*b, n);
          const auto r = b->threshold_topk(dx.data(), n, k, n, {}, tv.data(), ti.data());
          CHECK(r.threshold == rr.threshold);
          REQUIRE(r.selected == rr.selected);
          std::vector<Index> got = ti.download(r.selected);
          std::sort(got.begin(), got.end());
          CHECK(got == ref_ti);

          b->randomk(dx.data(), n, k, seed, values.data(), indices.data());
          CHECK(valid_selection(x, values.download(), indices.download()));
          CHECK(hash_keys(indices.download()) == ref_random);
        }
      }
    }
}

TEST_CASE("fast cpu backend: dense_sum gives the same bits at every thread count", "[kernels]") {
  const std::size_t n = 200003;
  std::vector<std::vector<float>> in;
  for (std::uint64_t s = 0; s < 4; ++s) in.push_back(gaussian_with_ties(n, 300 + s, false));
  auto ref = gcsim::kernels::make_backend("cpu-reference");
  std::vector<const float*> ptrs;
  for (const auto& v : in) ptrs.push_back(v.data());  // host memory is these backends' device memory
  std::vector<float> want(n);
  ref->dense_sum(ptrs.data(), ptrs.size(), want.data(), n);
  for (std::size_t i : {std::size_t{0}, n / 2, n - 1}) CHECK(want[i] == ((in[0][i] + in[1][i]) + in[2][i]) + in[3][i]);
  for (unsigned threads : {2u, 3u, 7u}) {
    auto fast = gcsim::kernels::make_backend("cpu", threads);
    std::vector<float> got(n, -1.0f);
    fast->dense_sum(ptrs.data(), ptrs.size(), got.data(), n);
    CHECK(got == want);
  }
}

TEST_CASE("radix select: the k largest keys - whatever the chunking", "[kernels]") {
  std::mt19937_64 rng(42);
  std::vector<std::vector<std::uint32_t>> cases;
  cases.push_back({7});
  cases.push_back({3, 3, 3});
  cases.push_back({0xffffffffu, 0u, 0xffffffffu, 1u, 0x80000000u});  // the top bin, bin 0
  std::vector<std::uint32_t> same_top(5000), same_mid(5000), spread(100000), equal(3000, 0x12345678u);
  for (auto& k : same_top) k = 0x3f800000u | static_cast<std::uint32_t>(rng() & 0x1fffff);  // one top bin
  for (auto& k : same_mid) k = 0x3f800400u | static_cast<std::uint32_t>(rng() & 0x3ff);     // one mid bin
  for (auto& k : spread) k = static_cast<std::uint32_t>(rng());
  cases.push_back(same_top);
  cases.push_back(same_mid);
  cases.push_back(spread);
  cases.push_back(equal);
  for (std::size_t c = 0; c < cases.size(); ++c) {
    const auto& keys = cases[c];
    const std::size_t n = keys.size();
    for (unsigned chunks : {1u, 2u, 7u})
      for (std::size_t k : {std::size_t{1}, n / 3 + 1, n - n / 7, n}) {
        if (k > n || k == 0) continue;
        INFO("case " << c << ", n = " << n << ", k = " << k << ", " << chunks << " chunks");
        CHECK(radix_top(keys, k, chunks) == top_by_sort(keys, k));
      }
  }
}

TEST_CASE("radix select: histogram bookkeeping", "[kernels]") {
  const std::vector<float> x = {1.0f,
                                std::numeric_limits<float>::quiet_NaN(),
                                -std::numeric_limits<float>::infinity(),
                                -0.0f,
                                3.0e38f,
                                std::numeric_limits<float>::infinity(),
                                2.0f};
  cpu::RadixSelect select(3);
  select.histogram(x.size(), [&x](std::size_t i) { return magnitude_key(x[i]); });
  CHECK(select.count_at_least(gcsim::kernels::kInfKey) == 3);
  CHECK(select.count_at_least(0) == x.size());

  cpu::TopHistogram h{};
  h[5] = 10;
  h[9] = 3;
  h[2047] = 1;
  const cpu::Boundary b = cpu::find_boundary(h, 6);
  CHECK(b.bin == 5);
  CHECK(b.above == 4);
  CHECK(b.need == 2);
  CHECK(cpu::find_boundary(h, 1).bin == 2047);
  CHECK(cpu::find_boundary(h, 4).bin == 9);

  // Ties at the k-th key: 4 keys above it, and two of its three copies to take.
  const std::vector<std::uint32_t> keys = {0x00200005u, 0x00200009u, 0x00200009u, 0x00200009u, 0x002fffffu,
                                           0x00200401u, 0x00200010u, 0x00200401u, 0x00200001u};
  const cpu::KthKey kth = cpu::find_kth(keys.data(), keys.size(), 6);
  CHECK(kth.key == 0x00200009u);
  CHECK(kth.ties == 2);
}

TEST_CASE("parallel chunks: cover 0..n-1 once and pass exceptions on", "[kernels]") {
  for (std::size_t n : {0, 1, 6, 7, 8, 1000003})
    for (unsigned chunks : {1u, 2u, 3u, 7u}) {
      std::size_t next = 0;
      for (unsigned c = 0; c < chunks; ++c) {
        const auto [begin, end] = cpu::chunk_range(n, chunks, c);
        CHECK(begin == next);
        CHECK(end >= begin);
        CHECK(end - begin <= n / chunks + 1);
        next = end;
      }
      CHECK(next == n);
    }
  std::vector<std::atomic<int>> runs(7);
  cpu::parallel_chunks(7, [&](unsigned c) { ++runs[c]; });
  for (auto& r : runs) CHECK(r.load() == 1);
  CHECK_THROWS_AS(cpu::parallel_chunks(4,
                                       [](unsigned c) {
                                         if (c == 2) throw std::runtime_error("chunk 2");
                                       }),
                  std::runtime_error);
  CHECK(cpu::chunks_for(1000, 8) == 1);
  CHECK(cpu::chunks_for(std::size_t{1} << 24, 8) == 8);
  CHECK(cpu::chunks_for(std::size_t{1} << 24, 1) == 1);
}

TEST_CASE("cpu backends: DeviceInfo - threads and host memory", "[kernels]") {
  auto ref = gcsim::kernels::make_backend("cpu-reference");
  auto fast = gcsim::kernels::make_backend("cpu", 3);
  auto all = gcsim::kernels::make_backend("cpu", 0);
  CHECK(ref->info().backend == "cpu-reference");
  CHECK(ref->info().threads == 1);
  CHECK(fast->info().backend == "cpu");
  CHECK(fast->info().threads == 3);
  CHECK(all->info().threads == std::max(1u, std::thread::hardware_concurrency()));
  for (Backend* b : {ref.get(), fast.get()}) {
    const auto info = b->info();
    CHECK_FALSE(info.device.empty());
    CHECK_FALSE(info.runtime.empty());
    CHECK(info.driver.empty());
    for (std::size_t bytes : {1, 3, 64, 1000}) {
      void* p = b->allocate(bytes);
      CHECK(reinterpret_cast<std::uintptr_t>(p) % 64 == 0);
      b->release(p);
    }
  }
  CHECK_THROWS_AS(gcsim::kernels::make_backend("gpu"), std::invalid_argument);
  if (!gcsim::kernels::cuda_device_available())
    CHECK_THROWS_AS(gcsim::kernels::make_backend("cuda"), std::runtime_error);
}
