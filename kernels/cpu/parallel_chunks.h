// Fork-join over contiguous chunks of [0, n) for the CPU backends: chunk c runs
// on its own std::thread (chunk 0 on the caller's), and one chunk spawns none.
#pragma once

#include <cstddef>
#include <exception>
#include <thread>
#include <utility>
#include <vector>

namespace gcsim::kernels::cpu {

// [begin, end) of chunk c when n entries are split into `chunks` near-equal parts.
inline std::pair<std::size_t, std::size_t> chunk_range(std::size_t n, unsigned chunks, unsigned c) {
  const std::size_t base = n / chunks, extra = n % chunks;
  const std::size_t begin = c * base + (c < extra ? c : extra);
  return {begin, begin + base + (c < extra ? 1 : 0)};
}

// The number of chunks worth running for n entries on `threads` threads: no
// chunk smaller than min_chunk (thread start-up would cost more than it saves).
inline unsigned chunks_for(std::size_t n, unsigned threads, std::size_t min_chunk = std::size_t{1} << 15) {
  const std::size_t useful = n / min_chunk;
  if (useful <= 1 || threads <= 1) return 1;
  return useful < threads ? static_cast<unsigned>(useful) : threads;
}

// Calls fn(c) for every c in [0, chunks) and waits; rethrows the first
// exception a chunk threw, after all chunks have finished.
template <class Fn>
void parallel_chunks(unsigned chunks, Fn&& fn) {
  if (chunks <= 1) {
    if (chunks == 1) fn(0u);
    return;
  }
  std::vector<std::exception_ptr> errors(chunks);
  auto guarded = [&](unsigned c) {
    try {
      fn(c);
    } catch (...) {
      errors[c] = std::current_exception();
    }
  };
  {
    std::vector<std::jthread> workers;
    workers.reserve(chunks - 1);
    for (unsigned c = 1; c < chunks; ++c) workers.emplace_back(guarded, c);
    guarded(0u);
  }  // the jthreads join here
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace gcsim::kernels::cpu
