// P ranks as P threads of one process: the collectives go through shared
// memory under a mutex and condition variable. For tests and quick runs; it
// checks the trainer's logic without sockets. Reductions add in rank order
// (((x0 + x1) + x2) + ...), so every rank gets bitwise the same result.
//
// A rank that throws or never arrives: the others' calls throw CommError
// after `timeout` (or at once when a rank called abort()).
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <utility>

#include "comm/communicator.h"

namespace gcsim::comm {

// State shared by the P ranks of one group.
class InProcessHub {
 public:
  InProcessHub(int size, std::chrono::milliseconds timeout);
  int size() const { return size_; }

 private:
  friend class InProcessComm;
  // Waits until all ranks have arrived at this generation of the barrier.
  void arrive_and_wait(const char* op);
  void abort();

  int size_;
  std::chrono::milliseconds timeout_;
  std::mutex mu_;
  std::condition_variable cv_;
  int arrived_ = 0;
  std::uint64_t generation_ = 0;
  bool aborted_ = false;
  std::vector<const void*> inputs_;
  std::vector<std::size_t> sizes_;
  // Point to point: the messages from rank a to rank b not yet received, in order.
  std::map<std::pair<int, int>, std::deque<std::vector<std::uint8_t>>> mail_;
};

class InProcessComm final : public Communicator {
 public:
  InProcessComm(std::shared_ptr<InProcessHub> hub, int rank);

  int rank() const override { return rank_; }
  int size() const override { return hub_->size(); }
  std::string name() const override { return "inprocess"; }
  void allreduce_sum(float* data, std::size_t n) override;
  void allreduce_sum_half(std::uint16_t* data, std::size_t n, kernels::HalfFormat format) override;
  void allgatherv(const void* data, std::size_t bytes, std::vector<std::uint8_t>& out,
                  std::vector<std::size_t>& counts) override;
  // Also checks every rank's counts against the sizes really sent.
  void allgatherv_known(const void* data, std::size_t bytes, const std::vector<std::size_t>& counts,
                        std::vector<std::uint8_t>& out) override;
  void barrier() override;
  // Buffered: send never waits; recv checks the size against what was sent.
  void send(int peer, const void* data, std::size_t bytes) override;
  void recv(int peer, void* data, std::size_t bytes) override;
  using Communicator::sendrecv;
  void sendrecv(int to, const void* out, std::size_t out_bytes, int from, void* in, std::size_t in_bytes) override;
  // Makes every rank's pending and future calls throw (a rank failed).
  void abort() { hub_->abort(); }

 private:
  // out = every rank's posted input, counts[r] bytes of rank r, in rank order
  // (between the two arrive_and_wait of an allgather).
  void gather_posted(const std::vector<std::size_t>& counts, std::vector<std::uint8_t>& out) const;
  std::shared_ptr<InProcessHub> hub_;
  int rank_;
  template <class T, class Add>
  void allreduce_in_rank_order(T* data, std::size_t n, std::vector<T>& scratch, Add add);

  std::vector<float> scratch_;
  std::vector<std::uint16_t> half_scratch_;
};

}  // namespace gcsim::comm
