// The overlapped exchange (see overlapped_exchange.h).
#include "train/loop/overlapped_exchange.h"

#include <stdexcept>

namespace gcsim::train {

OverlappedExchange::OverlappedExchange(GradientExchange& exchange)
    : ex_(exchange), posted_below_(exchange.buckets()), thread_([this] { loop(); }) {}

OverlappedExchange::~OverlappedExchange() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void OverlappedExchange::begin(std::span<float> grads, std::uint64_t step, Clock::time_point step_start) {
  std::lock_guard<std::mutex> lock(mu_);
  if (active_) throw std::logic_error("OverlappedExchange: begin() before the last step's finish()");
  queue_.clear();
  next_ = 0;
  posted_below_ = ex_.buckets();
  grads_ = grads;
  step_ = step;
  t0_ = step_start;
  stats_ = ExchangeStats{};
  error_ = nullptr;
  active_ = true;
}

void OverlappedExchange::ready_from(std::size_t from) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!active_) throw std::logic_error("OverlappedExchange: ready_from() outside a step");
    const double now = std::chrono::duration<double>(Clock::now() - t0_).count();
    while (posted_below_ > 0 && ex_.bucket_offset(posted_below_ - 1) >= from) {
      --posted_below_;
      BucketTiming t;
      t.bucket = posted_below_;
      t.ready_s = now;
      queue_.push_back(t);
    }
  }
  cv_.notify_all();
}

ExchangeStats OverlappedExchange::finish(std::vector<BucketTiming>* timings) {
  ready_from(0);
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return next_ == queue_.size() || error_; });
  // After an error the thread takes nothing more from the queue.
  active_ = false;
  if (error_) std::rethrow_exception(error_);
  if (timings) *timings = queue_;
  return std::move(stats_);
}

void OverlappedExchange::loop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || (active_ && !error_ && next_ < queue_.size()); });
    if (stop_) return;
    const std::size_t i = next_;
    BucketTiming t = queue_[i];
    lock.unlock();
    std::exception_ptr err;
    ExchangeStats st;
    try {
      ex_.exchange_bucket(t.bucket, grads_, step_, st, t, t0_);
    } catch (...) {
      err = std::current_exception();
    }
    lock.lock();
    stats_.compress_s += st.compress_s;
    stats_.communicate_s += st.communicate_s;
    stats_.decompress_s += st.decompress_s;
    stats_.bytes_sent += st.bytes_sent;
    stats_.entries_sent += st.entries_sent;
    for (auto& m : st.merges) stats_.merges.push_back(m);
    queue_[i] = t;
    if (err) {
      error_ = err;
    } else {
      ++next_;
    }
    cv_.notify_all();
  }
}

}  // namespace gcsim::train
