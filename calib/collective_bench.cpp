#include "calib/collective_bench.h"

#include <stdexcept>

namespace gcsim::calib {

const std::vector<std::string>& all_collectives() {
  static const std::vector<std::string> ops = {coll::allreduce, coll::allgather, coll::reduce_scatter, coll::broadcast};
  return ops;
}

const std::vector<std::string>& all_ops() {
  static const std::vector<std::string> ops = [] {
    std::vector<std::string> o = all_collectives();
    o.push_back(coll::p2p_ring);
    o.push_back(coll::allreduce_half);
    return o;
  }();
  return ops;
}

void check_collective(const std::string& op) {
  for (const auto& o : all_ops())
    if (o == op) return;
  throw std::invalid_argument("unknown collective '" + op + "' (want allreduce, allgather, reduce_scatter, broadcast, p2p_ring or allreduce_half)");
}

double wire_bytes(const std::string& op, std::size_t bytes, int p) {
  check_collective(op);
  const double b = static_cast<double>(bytes);
  if (op == coll::allreduce || op == coll::allreduce_half) return 2.0 * (p - 1) / p * b;
  if (op == coll::broadcast) return b;
  return (p - 1.0) * b;  // allgather, reduce_scatter, p2p_ring: P-1 parts
}

std::size_t nccl_tests_size(const std::string& op, std::size_t bytes, int p) {
  check_collective(op);
  return op == coll::allgather || op == coll::reduce_scatter || op == coll::p2p_ring ? bytes * static_cast<std::size_t>(p) : bytes;
}

double bus_factor(const std::string& op, int p) {
  check_collective(op);
  if (op == coll::allreduce || op == coll::allreduce_half) return 2.0 * (p - 1) / p;
  if (op == coll::broadcast) return 1.0;
  return (p - 1.0) / p;
}

}  // namespace gcsim::calib
