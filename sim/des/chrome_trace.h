// A Chrome trace (the JSON "Trace Event Format", which Perfetto's UI and
// chrome://tracing open): complete events ("ph": "X") on named processes and
// threads. Times are given in seconds and written in microseconds.
#pragma once

#include <string>
#include <vector>

namespace gcsim {

class ChromeTrace {
 public:
  void process_name(int pid, const std::string& name, int sort_index);
  void thread_name(int pid, int tid, const std::string& name);
  void span(int pid, int tid, const std::string& name, const std::string& category, double start_s, double end_s);
  std::size_t spans() const { return spans_; }
  std::string json() const;

 private:
  std::vector<std::string> events_;
  std::size_t spans_ = 0;
};

}  // namespace gcsim
