#include "sim/des/chrome_trace.h"

#include <cstdio>

#include "sim/output/result_format.h"

namespace gcsim {

namespace {

std::string micros(double s) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4f", s * 1e6);
  return buf;
}

}  // namespace

void ChromeTrace::process_name(int pid, const std::string& name, int sort_index) {
  events_.push_back(R"({"ph":"M","name":"process_name","pid":)" + std::to_string(pid) + R"(,"args":{"name":")" +
                    json_escape(name) + "\"}}");
  events_.push_back(R"({"ph":"M","name":"process_sort_index","pid":)" + std::to_string(pid) +
                    R"(,"args":{"sort_index":)" + std::to_string(sort_index) + "}}");
}

void ChromeTrace::thread_name(int pid, int tid, const std::string& name) {
  events_.push_back(R"({"ph":"M","name":"thread_name","pid":)" + std::to_string(pid) + R"(,"tid":)" +
                    std::to_string(tid) + R"(,"args":{"name":")" + json_escape(name) + "\"}}");
}

void ChromeTrace::span(int pid, int tid, const std::string& name, const std::string& category, double start_s,
                       double end_s) {
  if (end_s < start_s) end_s = start_s;
  events_.push_back(R"({"ph":"X","name":")" + json_escape(name) + R"(","cat":")" + json_escape(category) + R"(","pid":)" +
                    std::to_string(pid) + R"(,"tid":)" + std::to_string(tid) + R"(,"ts":)" + micros(start_s) +
                    R"(,"dur":)" + micros(end_s - start_s) + "}");
  ++spans_;
}

std::string ChromeTrace::json() const {
  std::string o = "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n";
  for (std::size_t i = 0; i < events_.size(); ++i) {
    o += events_[i];
    o += (i + 1 < events_.size()) ? ",\n" : "\n";
  }
  o += "]}\n";
  return o;
}

}  // namespace gcsim
