// A Gloo rendezvous store over TCP, for ranks on hosts without a shared
// filesystem (gcsim train --rendezvous tcp://HOST:PORT): rank 0 serves the
// keys at HOST:PORT (TcpStoreServer, one thread per client), and every rank,
// rank 0 too, sets and reads them through a TcpStore client.
//
// Wire: a request is one byte ('S' set, 'G' get, 'C' check), a 4-byte
// little-endian key length and the key; 'S' adds a 4-byte value length and
// the value. Replies: 'S' one byte 1; 'G' one byte (1 found, 0 not yet) then,
// when found, a 4-byte length and the value; 'C' one byte. get and wait poll
// every 10 ms until the key is there or the timeout passes, and a client
// retries its connection for as long, so ranks may start in any order.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gloo/rendezvous/store.h>

namespace gcsim::comm {

// "tcp://HOST:PORT" -> (HOST, PORT); throws std::invalid_argument naming the text.
std::pair<std::string, int> parse_tcp_address(const std::string& text);

class TcpStoreServer {
 public:
  // Listens on host:port (throws std::runtime_error when it cannot bind).
  TcpStoreServer(const std::string& host, int port);
  ~TcpStoreServer();
  TcpStoreServer(const TcpStoreServer&) = delete;
  TcpStoreServer& operator=(const TcpStoreServer&) = delete;

 private:
  void accept_loop();
  void serve(int fd);

  int listen_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::map<std::string, std::vector<char>> keys_;
  std::vector<int> clients_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

class TcpStore final : public gloo::rendezvous::Store {
 public:
  // Connects to host:port, retrying until `timeout` (throws std::runtime_error after it).
  TcpStore(const std::string& host, int port, std::chrono::milliseconds timeout);
  ~TcpStore() override;

  void set(const std::string& key, const std::vector<char>& data) override;
  std::vector<char> get(const std::string& key) override;
  void wait(const std::vector<std::string>& keys) override { wait(keys, timeout_); }
  void wait(const std::vector<std::string>& keys, const std::chrono::milliseconds& timeout) override;

 private:
  // Sends a request, returns the reply's first byte (and the value for 'G').
  char request(char op, const std::string& key, const std::vector<char>* value, std::vector<char>* out);

  int fd_ = -1;
  std::string where_;
  std::chrono::milliseconds timeout_;
};

}  // namespace gcsim::comm
