#include "comm/tcp_store.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>

namespace gcsim::comm {

namespace {

bool write_all(int fd, const void* p, std::size_t n) {
  const auto* b = static_cast<const char*>(p);
  while (n > 0) {
    const ssize_t w = ::send(fd, b, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    b += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

bool read_all(int fd, void* p, std::size_t n) {
  auto* b = static_cast<char*>(p);
  while (n > 0) {
    const ssize_t r = ::recv(fd, b, n, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    b += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

bool write_u32(int fd, std::uint32_t v) {
  const unsigned char b[4] = {static_cast<unsigned char>(v), static_cast<unsigned char>(v >> 8),
                              static_cast<unsigned char>(v >> 16), static_cast<unsigned char>(v >> 24)};
  return write_all(fd, b, 4);
}

bool read_u32(int fd, std::uint32_t& v) {
  unsigned char b[4];
  if (!read_all(fd, b, 4)) return false;
  v = b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<std::uint32_t>(b[3]) << 24);
  return true;
}

constexpr std::uint32_t kMaxBytes = 64u << 20;  // a key or value longer than this is a corrupt request

// An address of host:port to bind or connect (IPv4 or IPv6).
addrinfo* resolve(const std::string& host, int port, bool passive) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  if (passive) hints.ai_flags = AI_PASSIVE;
  addrinfo* res = nullptr;
  const int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res);
  if (rc != 0) throw std::runtime_error("tcp store " + host + ":" + std::to_string(port) + ": " + gai_strerror(rc));
  return res;
}

}  // namespace

std::pair<std::string, int> parse_tcp_address(const std::string& text) {
  const std::string scheme = "tcp://";
  const auto fail = [&] {
    return std::invalid_argument(text + ": not a TCP address (tcp://HOST:PORT, PORT 1..65535)");
  };
  if (text.rfind(scheme, 0) != 0) throw fail();
  const std::string rest = text.substr(scheme.size());
  const auto colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0) throw fail();
  std::string host = rest.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string port = rest.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) throw fail();
  const int p = std::stoi(port);
  if (p < 1 || p > 65535) throw fail();
  return {host, p};
}

// ---- server ----------------------------------------------------------------------

TcpStoreServer::TcpStoreServer(const std::string& host, int port) {
  addrinfo* res = resolve(host, port, true);
  std::string why = "no address";
  for (addrinfo* a = res; a && listen_fd_ < 0; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, 128) == 0) {
      listen_fd_ = fd;
    } else {
      why = std::strerror(errno);
      ::close(fd);
    }
  }
  freeaddrinfo(res);
  if (listen_fd_ < 0)
    throw std::runtime_error("tcp store: cannot listen on " + host + ":" + std::to_string(port) + ": " + why);
  acceptor_ = std::thread([this] { accept_loop(); });
}

TcpStoreServer::~TcpStoreServer() {
  stopping_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  ::close(listen_fd_);
  acceptor_.join();
  {
    std::lock_guard lock(mu_);
    for (int fd : clients_) ::shutdown(fd, SHUT_RDWR);
  }
  for (auto& t : threads_) t.join();
  for (int fd : clients_) ::close(fd);
}

void TcpStoreServer::accept_loop() {
  while (!stopping_) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;  // closed: shutting down
    }
    std::lock_guard lock(mu_);
    clients_.push_back(fd);
    threads_.emplace_back([this, fd] { serve(fd); });
  }
}

void TcpStoreServer::serve(int fd) {
  for (;;) {
    char op = 0;
    std::uint32_t klen = 0;
    if (!read_all(fd, &op, 1) || !read_u32(fd, klen) || klen > kMaxBytes) return;
    std::string key(klen, '\0');
    if (!read_all(fd, key.data(), klen)) return;
    if (op == 'S') {
      std::uint32_t vlen = 0;
      if (!read_u32(fd, vlen) || vlen > kMaxBytes) return;
      std::vector<char> value(vlen);
      if (!read_all(fd, value.data(), vlen)) return;
      {
        std::lock_guard lock(mu_);
        keys_[key] = std::move(value);
      }
      const char ok = 1;
      if (!write_all(fd, &ok, 1)) return;
    } else if (op == 'G' || op == 'C') {
      std::vector<char> value;
      char found = 0;
      {
        std::lock_guard lock(mu_);
        const auto it = keys_.find(key);
        if (it != keys_.end()) {
          found = 1;
          if (op == 'G') value = it->second;
        }
      }
      if (!write_all(fd, &found, 1)) return;
      if (op == 'G' && found && (!write_u32(fd, static_cast<std::uint32_t>(value.size())) ||
                                 !write_all(fd, value.data(), value.size())))
        return;
    } else {
      return;  // not a request of ours
    }
  }
}

// ---- client ----------------------------------------------------------------------

TcpStore::TcpStore(const std::string& host, int port, std::chrono::milliseconds timeout)
    : where_(host + ":" + std::to_string(port)), timeout_(timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string why;
  while (fd_ < 0) {
    addrinfo* res = resolve(host, port, false);
    for (addrinfo* a = res; a && fd_ < 0; a = a->ai_next) {
      const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
      if (fd < 0) continue;
      if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
        const int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        fd_ = fd;
      } else {
        why = std::strerror(errno);
        ::close(fd);
      }
    }
    freeaddrinfo(res);
    if (fd_ >= 0) break;
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("tcp store " + where_ + ": cannot connect within " + std::to_string(timeout.count()) +
                               " ms (" + why + "; is rank 0 running?)");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

TcpStore::~TcpStore() {
  if (fd_ >= 0) ::close(fd_);
}

char TcpStore::request(char op, const std::string& key, const std::vector<char>* value, std::vector<char>* out) {
  bool ok = write_all(fd_, &op, 1) && write_u32(fd_, static_cast<std::uint32_t>(key.size())) &&
            write_all(fd_, key.data(), key.size());
  if (ok && value)
    ok = write_u32(fd_, static_cast<std::uint32_t>(value->size())) && write_all(fd_, value->data(), value->size());
  char reply = 0;
  ok = ok && read_all(fd_, &reply, 1);
  if (ok && op == 'G' && reply == 1) {
    std::uint32_t n = 0;
    ok = read_u32(fd_, n) && n <= kMaxBytes;
    if (ok) {
      out->resize(n);
      ok = read_all(fd_, out->data(), n);
    }
  }
  if (!ok) throw std::runtime_error("tcp store " + where_ + ": connection lost (rank 0 gone?)");
  return reply;
}

void TcpStore::set(const std::string& key, const std::vector<char>& data) { request('S', key, &data, nullptr); }

std::vector<char> TcpStore::get(const std::string& key) {
  wait({key}, timeout_);
  std::vector<char> out;
  if (request('G', key, nullptr, &out) != 1) throw std::runtime_error("tcp store " + where_ + ": key " + key + " vanished");
  return out;
}

void TcpStore::wait(const std::vector<std::string>& keys, const std::chrono::milliseconds& timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (const std::string& k : keys)
    while (request('C', k, nullptr, nullptr) != 1) {
      if (std::chrono::steady_clock::now() > deadline)
        throw std::runtime_error("tcp store " + where_ + ": wait timeout for key " + k);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

}  // namespace gcsim::comm
