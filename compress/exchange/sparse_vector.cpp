#include "compress/exchange/sparse_vector.h"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "kernels/wire_format.h"

namespace gcsim::compress {

std::size_t SparseVector::wire_bytes() const {
  return dense ? 4 * n : kernels::wire_bytes(n, indices.size());
}

void SparseVector::encode(kernels::Backend& kb, std::vector<std::byte>& out) const {
  out.resize(wire_bytes());
  if (dense) {
    std::memcpy(out.data(), values.data(), 4 * n);
    return;
  }
  kb.pack(values.data(), indices.data(), indices.size(), n, out.data());
}

SparseVector SparseVector::decode(kernels::Backend& kb, const std::byte* wire, std::size_t bytes, std::size_t n) {
  SparseVector v;
  v.n = n;
  if (bytes == 4 * n && n > 0) {
    v.dense = true;
    v.values.resize(n);
    std::memcpy(v.values.data(), wire, bytes);
    return v;
  }
  const std::size_t k = kernels::wire_entry_count(bytes, n);
  v.values.resize(k);
  v.indices.resize(k);
  kb.unpack(wire, bytes, n, v.values.data(), v.indices.data());
  return v;
}

void SparseVector::to_dense() {
  if (dense) return;
  std::vector<float> d(n, 0.0f);
  for (std::size_t j = 0; j < indices.size(); ++j) d[static_cast<std::size_t>(indices[j])] += values[j];
  values = std::move(d);
  indices.clear();
  dense = true;
}

void SparseVector::make_dense_if_larger() {
  if (!dense && n > 0 && kernels::wire_bytes(n, indices.size()) >= 4 * n) to_dense();
}

void SparseVector::add_to(float* g) const {
  if (dense) {
    for (std::size_t i = 0; i < n; ++i) g[i] += values[i];
    return;
  }
  for (std::size_t j = 0; j < indices.size(); ++j) g[static_cast<std::size_t>(indices[j])] += values[j];
}

SparseVector sorted_pairs(const float* values, const kernels::Index* indices, std::size_t k, std::size_t n) {
  std::vector<std::size_t> order(k);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return indices[a] < indices[b]; });
  SparseVector v;
  v.n = n;
  v.indices.resize(k);
  v.values.resize(k);
  for (std::size_t j = 0; j < k; ++j) {
    v.indices[j] = indices[order[j]];
    v.values[j] = values[order[j]];
  }
  return v;
}

SparseVector merge(const SparseVector& a, const SparseVector& b) {
  SparseVector out;
  out.n = a.n;
  if (a.dense || b.dense) {
    const SparseVector& d = a.dense ? a : b;
    const SparseVector& o = a.dense ? b : a;
    out.dense = true;
    out.values = d.values;
    if (o.dense) {
      for (std::size_t i = 0; i < out.n; ++i) out.values[i] = d.values[i] + o.values[i];
    } else {
      for (std::size_t j = 0; j < o.indices.size(); ++j) {
        const auto i = static_cast<std::size_t>(o.indices[j]);
        out.values[i] = d.values[i] + o.values[j];
      }
    }
    return out;
  }
  out.indices.reserve(a.indices.size() + b.indices.size());
  out.values.reserve(a.indices.size() + b.indices.size());
  std::size_t i = 0, j = 0;
  while (i < a.indices.size() || j < b.indices.size()) {
    if (j == b.indices.size() || (i < a.indices.size() && a.indices[i] < b.indices[j])) {
      out.indices.push_back(a.indices[i]);
      out.values.push_back(a.values[i++]);
    } else if (i == a.indices.size() || b.indices[j] < a.indices[i]) {
      out.indices.push_back(b.indices[j]);
      out.values.push_back(b.values[j++]);
    } else {
      out.indices.push_back(a.indices[i]);
      out.values.push_back(a.values[i++] + b.values[j++]);
    }
  }
  return out;
}

}  // namespace gcsim::compress
