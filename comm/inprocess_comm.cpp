// In-process collectives for P threads (see inprocess_comm.h).
#include "comm/inprocess_comm.h"

#include "kernels/half.h"

#include <cstring>

namespace gcsim::comm {

InProcessHub::InProcessHub(int size, std::chrono::milliseconds timeout)
    : size_(size), timeout_(timeout), inputs_(size, nullptr), sizes_(size, 0) {
  if (size < 1) throw std::invalid_argument("InProcessHub: size must be >= 1");
}

void InProcessHub::arrive_and_wait(const char* op) {
  std::unique_lock lock(mu_);
  if (aborted_) throw CommError(std::string(op) + ": another rank failed");
  const std::uint64_t gen = generation_;
  if (++arrived_ == size_) {
    arrived_ = 0;
    ++generation_;
    cv_.notify_all();
    return;
  }
  const bool done = cv_.wait_for(lock, timeout_, [&] { return generation_ != gen || aborted_; });
  if (aborted_) throw CommError(std::string(op) + ": another rank failed");
  if (!done) {
    aborted_ = true;
    cv_.notify_all();
    throw CommError(std::string(op) + ": timed out after " + std::to_string(timeout_.count()) +
                    " ms waiting for the other ranks");
  }
}

void InProcessHub::abort() {
  std::lock_guard lock(mu_);
  aborted_ = true;
  cv_.notify_all();
}

InProcessComm::InProcessComm(std::shared_ptr<InProcessHub> hub, int rank) : hub_(std::move(hub)), rank_(rank) {
  if (rank < 0 || rank >= hub_->size()) throw std::invalid_argument("InProcessComm: rank out of range");
}

// Three phases: publish the input, read everyone's (into scratch, summed in
// rank order with `add`), write back.
template <class T, class Add>
void InProcessComm::allreduce_in_rank_order(T* data, std::size_t n, std::vector<T>& scratch, Add add) {
  const int p = size();
  hub_->inputs_[rank_] = data;
  hub_->sizes_[rank_] = n;
  hub_->arrive_and_wait("allreduce");
  for (int r = 0; r < p; ++r)
    if (hub_->sizes_[r] != n) throw CommError("allreduce: ranks passed different lengths");
  scratch.assign(static_cast<const T*>(hub_->inputs_[0]), static_cast<const T*>(hub_->inputs_[0]) + n);
  for (int r = 1; r < p; ++r) {
    const auto* in = static_cast<const T*>(hub_->inputs_[r]);
    for (std::size_t i = 0; i < n; ++i) scratch[i] = add(scratch[i], in[i]);
  }
  hub_->arrive_and_wait("allreduce");
  std::memcpy(data, scratch.data(), n * sizeof(T));
  hub_->arrive_and_wait("allreduce");
  bytes_sent_ += ring_allreduce_bytes(n, p, rank_, sizeof(T));
}

void InProcessComm::allreduce_sum(float* data, std::size_t n) {
  allreduce_in_rank_order(data, n, scratch_, [](float a, float b) { return a + b; });
}

// Each addition rounded in the format, as every partial sum of a ring is.
void InProcessComm::allreduce_sum_half(std::uint16_t* data, std::size_t n, kernels::HalfFormat format) {
  allreduce_in_rank_order(data, n, half_scratch_,
                          [format](std::uint16_t a, std::uint16_t b) { return kernels::half_sum(a, b, format); });
}

void InProcessComm::gather_posted(const std::vector<std::size_t>& counts, std::vector<std::uint8_t>& out) const {
  out.clear();
  for (std::size_t r = 0; r < counts.size(); ++r) {
    const auto* in = static_cast<const std::uint8_t*>(hub_->inputs_[r]);
    out.insert(out.end(), in, in + counts[r]);
  }
}

void InProcessComm::allgatherv(const void* data, std::size_t bytes, std::vector<std::uint8_t>& out,
                               std::vector<std::size_t>& counts) {
  const int p = size();
  hub_->inputs_[rank_] = data;
  hub_->sizes_[rank_] = bytes;
  hub_->arrive_and_wait("allgatherv");
  counts.assign(hub_->sizes_.begin(), hub_->sizes_.end());
  gather_posted(counts, out);
  hub_->arrive_and_wait("allgatherv");
  // Counted as GlooComm sends it: the byte counts (8 bytes per rank) first, then the bytes.
  bytes_sent_ += ring_allgather_bytes(std::vector<std::size_t>(p, sizeof(std::uint64_t)), rank_);
  bytes_sent_ += ring_allgather_bytes(counts, rank_);
}

void InProcessComm::allgatherv_known(const void* data, std::size_t bytes, const std::vector<std::size_t>& counts,
                                     std::vector<std::uint8_t>& out) {
  const int p = size();
  check_known_counts(bytes, counts);
  hub_->inputs_[rank_] = data;
  hub_->sizes_[rank_] = bytes;
  hub_->arrive_and_wait("allgatherv");
  // Every rank's promise checked against what the others really sent (Gloo
  // would read past or short of a part instead).
  bool agree = true;
  for (int r = 0; r < p; ++r) agree = agree && hub_->sizes_[r] == counts[r];
  out.clear();
  if (agree) gather_posted(counts, out);
  hub_->arrive_and_wait("allgatherv");
  if (!agree) throw std::logic_error("InProcessComm::allgatherv_known: a rank sent another size than counts says");
  bytes_sent_ += ring_allgather_bytes(counts, rank_);
}

void InProcessComm::barrier() { hub_->arrive_and_wait("barrier"); }

void InProcessComm::send(int peer, const void* data, std::size_t bytes) {
  check_peer("send", peer);
  if (bytes == 0) return;
  const auto* in = static_cast<const std::uint8_t*>(data);
  {
    std::lock_guard lock(hub_->mu_);
    if (hub_->aborted_) throw CommError("send: another rank failed");
    hub_->mail_[{rank_, peer}].emplace_back(in, in + bytes);
  }
  hub_->cv_.notify_all();
  bytes_sent_ += bytes;
}

void InProcessComm::recv(int peer, void* data, std::size_t bytes) {
  check_peer("recv", peer);
  if (bytes == 0) return;
  std::unique_lock lock(hub_->mu_);
  auto& box = hub_->mail_[{peer, rank_}];
  const bool came = hub_->cv_.wait_for(lock, hub_->timeout_, [&] { return !box.empty() || hub_->aborted_; });
  if (hub_->aborted_) throw CommError("recv: another rank failed");
  if (!came) {
    hub_->aborted_ = true;
    hub_->cv_.notify_all();
    throw CommError("recv from rank " + std::to_string(peer) + ": timed out after " +
                    std::to_string(hub_->timeout_.count()) + " ms");
  }
  std::vector<std::uint8_t> msg = std::move(box.front());
  box.pop_front();
  if (msg.size() != bytes)
    throw std::logic_error("InProcessComm::recv: rank " + std::to_string(peer) + " sent " + std::to_string(msg.size()) +
                           " bytes, " + std::to_string(bytes) + " expected");
  std::memcpy(data, msg.data(), bytes);
}

void InProcessComm::sendrecv(int to, const void* out, std::size_t out_bytes, int from, void* in,
                             std::size_t in_bytes) {
  send(to, out, out_bytes);
  recv(from, in, in_bytes);
}

}  // namespace gcsim::comm
