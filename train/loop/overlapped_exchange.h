// Exchange that overlaps backward, as DDP's reducer does (Li et al., VLDB
// 2020, section 3.2.3): as soon as backward has filled a bucket, the bucket
// goes to a communication thread, which exchanges the buckets one after
// another in the order they became ready (the last layers' first), while
// backward goes on computing the earlier layers. finish() waits for the last
// one. This is what training.overlap = true means in `gcsim train`; the
// simulator's DES prices the same schedule (sim/des/training_sim.h).
//
// Only the communication thread touches the communicator between begin()
// and finish(), so the caller must make no collective call in between.
#pragma once

#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "train/loop/gradient_exchange.h"

namespace gcsim::train {

class OverlappedExchange {
 public:
  using Clock = GradientExchange::Clock;

  explicit OverlappedExchange(GradientExchange& exchange);
  ~OverlappedExchange();  // stops and joins the thread (after finish(), or abandoning a step)
  OverlappedExchange(const OverlappedExchange&) = delete;
  OverlappedExchange& operator=(const OverlappedExchange&) = delete;

  // A new step on `grads` (length total; it must stay valid until finish()).
  void begin(std::span<float> grads, std::uint64_t step, Clock::time_point step_start);
  // Backward has written the final gradient from flat offset `from` to the
  // end: every bucket that lies inside it and was not posted yet is posted,
  // the last one first.
  void ready_from(std::size_t from);
  // Posts what is left, waits for every bucket, rethrows what the thread
  // threw, and returns the step's stats; `timings` gets one entry per bucket
  // in the order they were exchanged.
  ExchangeStats finish(std::vector<BucketTiming>* timings = nullptr);

 private:
  void loop();

  GradientExchange& ex_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<BucketTiming> queue_;  // posted, in order; next_ indexes the first not yet exchanged
  std::size_t next_ = 0;
  std::size_t posted_below_ = 0;     // buckets [posted_below_, B) have been posted
  bool active_ = false, stop_ = false;
  std::span<float> grads_;
  std::uint64_t step_ = 0;
  Clock::time_point t0_{};
  ExchangeStats stats_;
  std::exception_ptr error_;
  std::thread thread_;
};

}  // namespace gcsim::train
