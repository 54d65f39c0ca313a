#include "validate/host_check.h"

#include "kernels/backend.h"

namespace gcsim {

std::string this_cpu() { return kernels::make_backend("cpu", 1)->info().device; }

std::optional<std::string> kernel_cpu_mismatch(const Profile& p, const std::string& cpu) {
  const std::string marker = " (backend cpu";
  const auto at = p.device.find(marker);
  if (at == std::string::npos || cpu.empty() || p.device.find(cpu) != std::string::npos) return std::nullopt;
  // The kernels' device: what precedes the marker, after a collectives profile's "kernels: ".
  const std::string head = p.device.substr(0, at);
  const auto k = head.rfind("kernels: ");
  const std::string measured = k == std::string::npos ? head : head.substr(k + 9);
  return "profile " + p.source_path + ": its kernels were measured on " + measured + ", this host is " + cpu +
         ": the compression times it predicts are that CPU's (calibrate kernels here; reports/validation.md)";
}

}  // namespace gcsim
