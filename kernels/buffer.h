// Buffer<T>: n elements of T in a backend's device memory, released on scope exit.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "kernels/backend.h"

namespace gcsim::kernels {

template <class T>
class Buffer {
 public:
  Buffer() = default;
  Buffer(Backend& backend, std::size_t n)
      : backend_(&backend), data_(static_cast<T*>(n ? backend.allocate(n * sizeof(T)) : nullptr)), size_(n) {}
  // Allocates and uploads a copy of `host`.
  Buffer(Backend& backend, const std::vector<T>& host) : Buffer(backend, host.size()) { upload(host); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  Buffer(Buffer&& o) noexcept { swap(o); }
  Buffer& operator=(Buffer&& o) noexcept {
    Buffer(std::move(o)).swap(*this);
    return *this;
  }
  ~Buffer() {
    if (data_) backend_->release(data_);
  }

  T* data() { return data_; }
  const T* data() const { return data_; }
  std::size_t size() const { return size_; }

  void upload(const std::vector<T>& host) {
    if (!host.empty()) backend_->upload(data_, host.data(), host.size() * sizeof(T));
  }
  // The first `count` elements (all when count is omitted), copied to the host.
  std::vector<T> download(std::size_t count = static_cast<std::size_t>(-1)) const {
    const std::size_t m = count < size_ ? count : size_;
    std::vector<T> host(m);
    if (m) backend_->download(host.data(), data_, m * sizeof(T));
    return host;
  }
  void zero() {
    if (size_) backend_->fill_zero(data_, size_ * sizeof(T));
  }

 private:
  void swap(Buffer& o) noexcept {
    std::swap(backend_, o.backend_);
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
  }
  Backend* backend_ = nullptr;
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace gcsim::kernels
