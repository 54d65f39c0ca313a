#include "sweep/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace gcsim {

int default_jobs() { return std::max(1u, std::thread::hardware_concurrency()); }

void run_on_pool(std::size_t n, int jobs, const std::function<void(std::size_t)>& task) {
  const std::size_t threads = std::min<std::size_t>(n, static_cast<std::size_t>(jobs > 0 ? jobs : default_jobs()));
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr first;
  std::mutex mu;
  auto worker = [&] {
    while (!failed.load()) {
      const std::size_t i = next.fetch_add(1);
      if (i >= n) return;
      try {
        task(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu);
        if (!first) first = std::current_exception();
        failed = true;
      }
    }
  };
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& th : pool) th.join();
  if (first) std::rethrow_exception(first);
}

}  // namespace gcsim
