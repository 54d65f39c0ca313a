#include "sim/engine/engine.h"

#include <cassert>
#include <utility>

namespace gcsim {

void Engine::schedule(Time t, EventHandler* handler, std::uint64_t tag) {
  assert(t >= now_ && "an event cannot be scheduled in the past");
  heap_.push_back(Event{t, next_seq_++, handler, tag});
  sift_up(heap_.size() - 1);
}

void Engine::sift_up(std::size_t i) {
  const Event e = heap_[i];
  while (i > 0) {
    const std::size_t parent = (i - 1) / 2;
    if (!later(heap_[parent], e)) break;
    heap_[i] = heap_[parent];
    i = parent;
  }
  heap_[i] = e;
}

void Engine::sift_down(std::size_t i) {
  const std::size_t n = heap_.size();
  const Event e = heap_[i];
  for (;;) {
    std::size_t child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && later(heap_[child], heap_[child + 1])) ++child;
    if (!later(e, heap_[child])) break;
    heap_[i] = heap_[child];
    i = child;
  }
  heap_[i] = e;
}

void Engine::run() {
  while (!heap_.empty()) {
    const Event e = heap_.front();
    heap_.front() = heap_.back();
    heap_.pop_back();
    if (!heap_.empty()) sift_down(0);
    now_ = e.t;
    ++processed_;
    e.handler->on_event(e.tag);
  }
}

}  // namespace gcsim
