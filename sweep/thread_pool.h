// A fixed pool of worker threads that runs task(i) for i in [0, n), each index
// once, and rethrows the first exception after the others have stopped.
#pragma once

#include <cstddef>
#include <functional>

namespace gcsim {

// jobs <= 0 means all hardware threads.
void run_on_pool(std::size_t n, int jobs, const std::function<void(std::size_t)>& task);

int default_jobs();

}  // namespace gcsim
