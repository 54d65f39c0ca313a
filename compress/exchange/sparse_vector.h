// A sparse vector over a bucket of n entries, as the sparse exchanges
// (gtopk.cpp, sparse_allreduce.cpp) merge and send it: sorted unique indices
// with their values, or, once that would cost more on the wire, all n values.
//
// On the wire it is kernels/wire_format.h's pairs (k values, then k indices)
// while sparse and n raw float32 once dense, so a message of exactly 4n bytes
// is dense: a sparse one is always shorter (make_dense_if_larger).
#pragma once

#include <cstddef>
#include <vector>

#include "kernels/backend.h"

namespace gcsim::compress {

struct SparseVector {
  std::size_t n = 0;
  bool dense = false;
  std::vector<kernels::Index> indices;  // sparse: sorted, unique
  std::vector<float> values;            // sparse: one per index; dense: n

  std::size_t nonzeros() const { return dense ? n : indices.size(); }
  std::size_t wire_bytes() const;
  void encode(kernels::Backend& kb, std::vector<std::byte>& out) const;
  // Throws kernels::WireFormatError on a length that is neither.
  static SparseVector decode(kernels::Backend& kb, const std::byte* wire, std::size_t bytes, std::size_t n);
  // All n values, missing entries +0 and present ones 0 + v (so a -0 becomes +0 either way).
  void to_dense();
  // Dense from here on when the pairs would be at least 4n bytes (SparCML's switch).
  void make_dense_if_larger();
  // g[indices] += values (or g += values): the vector into a dense buffer.
  void add_to(float* g) const;
};

// k pairs as a SparseVector (indices sorted; an index must not repeat).
SparseVector sorted_pairs(const float* values, const kernels::Index* indices, std::size_t k, std::size_t n);

// a + b, entry by entry: the union of the supports, dense when either is.
// Commutative bit for bit (merge(a, b) == merge(b, a)), so two ranks that
// merge each other's vectors hold the same bits.
SparseVector merge(const SparseVector& a, const SparseVector& b);

}  // namespace gcsim::compress
