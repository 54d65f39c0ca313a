// The "cpu" backend's PowerSGD matrix kernels (Vogels, Karimireddy and Jaggi,
// "PowerSGD: Practical Low-Rank Gradient Compression for Distributed
// Optimization", NeurIPS 2019; semantics in kernels/backend.h). Plain C++ that
// GCC vectorizes (no BLAS): fp32 accumulation, blocked for the cache, split
// over the backend's threads (kernels/cpu/parallel_chunks.h).
//
//   matmul     C = A B: B is packed transposed (r x m, small), then every C
//              entry is a dot product of two contiguous rows, computed by a
//              2 x 4 register tile with 4 lanes over k-blocks of 1024 (each
//              block's partial sum is added to C: blocked summation); rows of
//              A are streamed whole while B^T fits in L2 (512 KB).
//   matmul_tn  C = A^T B: one pass down the rows of A; row p adds B[p][j] times
//              A's row segment into a transposed tile of C (axpy over
//              contiguous columns), with partial sums per 256 rows.
//   matmul_nt  C = A B^T: B is packed transposed, then each row segment of C
//              is r axpys over L1-resident segments.
//   orthogonalize  modified Gram-Schmidt on a column-major copy of P (so the
//              dots and axpys run over contiguous memory), one thread per chunk
//              of rows for the whole call: per column i each chunk forms
//              ||col_i||^2 and col_i . col_j (j > i) over its rows, a
//              std::barrier, then every chunk sums the partials in chunk order
//              and updates its rows: col_i /= s, col_j -= ((col_i . col_j) / s)
//              col_i, s = ||col_i|| + epsilon, which is the hook's update
//              written with the dot of the unnormalized column.
//
// The matmuls split over output rows, so their bits do not depend on the
// thread count; orthogonalize's partial sums do (within the tolerance).
// orthogonalize_batched gives each thread whole matrices (one thread each).
#include <algorithm>
#include <barrier>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <optional>
#include <vector>

#include "kernels/cpu/lowrank.h"
#include "kernels/cpu/parallel_chunks.h"

namespace gcsim::kernels::cpu {
namespace {

constexpr int kLanes = 4;               // independent partial sums per dot product (one SSE register)
constexpr std::size_t kDotBlock = 1024;  // k-block of matmul (4 KB per row)
constexpr std::size_t kRowBlock = 256;   // rows of A per partial sum in matmul_tn
constexpr std::size_t kColBlock = 1024;  // C row segment of matmul_nt

// Chunks for `rows` rows of `work_per_row` multiply-adds each: at least 2^18
// multiply-adds per thread, or a thread costs more to start than it saves.
unsigned row_chunks(std::size_t rows, std::size_t work_per_row, unsigned threads) {
  const std::size_t per_row = std::max<std::size_t>(work_per_row, 1);
  const std::size_t min_rows = std::max<std::size_t>(1, (std::size_t{1} << 18) / per_row);
  return chunks_for(rows, threads, min_rows);
}

// Bt (r x m) = B^T for B (m x r).
std::vector<float> transposed(const float* B, std::size_t m, std::size_t r) {
  std::vector<float> t(m * r);
  for (std::size_t p = 0; p < m; ++p)
    for (std::size_t j = 0; j < r; ++j) t[j * m + p] = B[p * r + j];
  return t;
}

// c[x][y] (+)= a_x . b_y over len entries for MR rows a (stride lda) and NR rows b (stride ldb).
template <int MR, int NR>
void dot_tile(const float* a, std::size_t lda, const float* b, std::size_t ldb, std::size_t len, float* c,
              std::size_t ldc, bool accumulate) {
  float acc[MR][NR][kLanes] = {};
  std::size_t p = 0;
  for (; p + kLanes <= len; p += kLanes)
    for (int x = 0; x < MR; ++x)
      for (int y = 0; y < NR; ++y)
        for (int l = 0; l < kLanes; ++l) acc[x][y][l] += a[x * lda + p + l] * b[y * ldb + p + l];
  for (int x = 0; x < MR; ++x)
    for (int y = 0; y < NR; ++y) {
      float s = (acc[x][y][0] + acc[x][y][1]) + (acc[x][y][2] + acc[x][y][3]);
      for (std::size_t q = p; q < len; ++q) s += a[x * lda + q] * b[y * ldb + q];
      float& out = c[x * ldc + y];
      out = accumulate ? out + s : s;
    }
}

template <int MR>
void dot_row_tiles(const float* a, std::size_t lda, const float* bt, std::size_t ldb, std::size_t r, std::size_t len,
                   float* c, std::size_t ldc, bool accumulate) {
  std::size_t j = 0;
  for (; j + 4 <= r; j += 4) dot_tile<MR, 4>(a, lda, bt + j * ldb, ldb, len, c + j, ldc, accumulate);
  switch (r - j) {
    case 3:
      dot_tile<MR, 3>(a, lda, bt + j * ldb, ldb, len, c + j, ldc, accumulate);
      break;
    case 2:
      dot_tile<MR, 2>(a, lda, bt + j * ldb, ldb, len, c + j, ldc, accumulate);
      break;
    case 1:
      dot_tile<MR, 1>(a, lda, bt + j * ldb, ldb, len, c + j, ldc, accumulate);
      break;
    default:
      break;
  }
}

// a . b over len entries: 8 lanes within blocks of 4096, the block sums added in order.
float blocked_dot(const float* a, const float* b, std::size_t len) {
  constexpr int kDotLanes = 8;
  constexpr std::size_t kBlock = 4096;
  float total = 0.0f;
  for (std::size_t b0 = 0; b0 < len; b0 += kBlock) {
    const std::size_t b1 = std::min(len, b0 + kBlock);
    float acc[kDotLanes] = {};
    std::size_t p = b0;
    for (; p + kDotLanes <= b1; p += kDotLanes)
      for (int l = 0; l < kDotLanes; ++l) acc[l] += a[p + l] * b[p + l];
    float s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (; p < b1; ++p) s += a[p] * b[p];
    total += s;
  }
  return total;
}

// Rows [begin, end) of P (n x r, row-major) to and from the column-major copy
// cols; a compile-time r lets GCC vectorize the strided side with shuffles.
template <std::size_t R>
void to_columns(const float* P, float* cols, std::size_t n, std::size_t begin, std::size_t end) {
  for (std::size_t k = begin; k < end; ++k)
    for (std::size_t j = 0; j < R; ++j) cols[j * n + k] = P[k * R + j];
}
template <std::size_t R>
void from_columns(float* P, const float* cols, std::size_t n, std::size_t begin, std::size_t end) {
  for (std::size_t k = begin; k < end; ++k)
    for (std::size_t j = 0; j < R; ++j) P[k * R + j] = cols[j * n + k];
}
void transpose_rows(float* P, float* cols, std::size_t n, std::size_t r, std::size_t begin, std::size_t end,
                    bool to_cols) {
  switch (r) {
    case 2:
      return to_cols ? to_columns<2>(P, cols, n, begin, end) : from_columns<2>(P, cols, n, begin, end);
    case 3:
      return to_cols ? to_columns<3>(P, cols, n, begin, end) : from_columns<3>(P, cols, n, begin, end);
    case 4:
      return to_cols ? to_columns<4>(P, cols, n, begin, end) : from_columns<4>(P, cols, n, begin, end);
    default:
      break;
  }
  for (std::size_t j = 0; j < r; ++j)
    for (std::size_t k = begin; k < end; ++k) {
      if (to_cols)
        cols[j * n + k] = P[k * r + j];
      else
        P[k * r + j] = cols[j * n + k];
    }
}

}  // namespace

void fast_matmul(const float* A, const float* B, float* C, std::size_t n, std::size_t m, std::size_t r,
                 unsigned threads) {
  if (n == 0 || r == 0) return;
  if (m == 0) {
    std::memset(C, 0, n * r * sizeof(float));
    return;
  }
  // r < 4 runs the full 2 x 4 tile on B^T padded with zero rows into a
  // 4-column scratch C (the narrow tiles vectorize worse than the wasted
  // multiplies cost: the loop is bound by reading A); the padding columns are
  // dropped, so they cannot carry a NaN into C.
  const std::size_t rp = std::max<std::size_t>(r, 4);
  std::vector<float> bt = transposed(B, m, r);
  bt.resize(rp * m, 0.0f);
  std::vector<float> narrow(r < 4 ? n * rp : 0);
  float* const out = r < 4 ? narrow.data() : C;
  const unsigned chunks = row_chunks(n, m * r, threads);
  // Rows i, i+1 over k-block [p0, p0 + len): out (+)= their dots with every row of Bt.
  const auto block = [&](std::size_t i, std::size_t rows, std::size_t p0) {
    const std::size_t len = std::min(kDotBlock, m - p0);
    if (rows == 2)
      dot_row_tiles<2>(A + i * m + p0, m, bt.data() + p0, m, rp, len, out + i * rp, rp, p0 != 0);
    else
      dot_row_tiles<1>(A + i * m + p0, m, bt.data() + p0, m, rp, len, out + i * rp, rp, p0 != 0);
  };
  // When Bt fits in L2 (PowerSGD's Q: m r floats), each pair of rows of A is
  // streamed start to end; otherwise the k-blocks go outermost, so a block of
  // Bt stays in cache while every row passes it.
  const bool bt_in_l2 = m * r * sizeof(float) <= (std::size_t{512} << 10);
  parallel_chunks(chunks, [&](unsigned c) {
    const auto [begin, end] = chunk_range(n, chunks, c);
    if (bt_in_l2) {
      for (std::size_t i = begin; i < end; i += 2)
        for (std::size_t p0 = 0; p0 < m; p0 += kDotBlock) block(i, std::min<std::size_t>(2, end - i), p0);
    } else {
      for (std::size_t p0 = 0; p0 < m; p0 += kDotBlock)
        for (std::size_t i = begin; i < end; i += 2) block(i, std::min<std::size_t>(2, end - i), p0);
    }
    if (r < 4)
      for (std::size_t i = begin; i < end; ++i)
        for (std::size_t j = 0; j < r; ++j) C[i * r + j] = narrow[i * rp + j];
  });
}

void fast_matmul_tn(const float* A, const float* B, float* C, std::size_t n, std::size_t m, std::size_t r,
                    unsigned threads) {
  if (m == 0 || r == 0) return;
  if (n == 0) {
    std::memset(C, 0, m * r * sizeof(float));
    return;
  }
  // Column block of A: the tile and the partial tile (r x block each) stay in L1/L2.
  const std::size_t block = std::clamp<std::size_t>(8192 / r / 16 * 16, 64, 1024);
  const unsigned chunks = row_chunks(m, n * r, threads);
  parallel_chunks(chunks, [&](unsigned c) {
    const auto [begin, end] = chunk_range(m, chunks, c);
    std::vector<float> tile(r * block), part(r * block);
    for (std::size_t i0 = begin; i0 < end; i0 += block) {
      const std::size_t w = std::min(block, end - i0);
      std::fill(tile.begin(), tile.end(), 0.0f);
      for (std::size_t p0 = 0; p0 < n; p0 += kRowBlock) {
        const std::size_t p1 = std::min(n, p0 + kRowBlock);
        std::fill(part.begin(), part.end(), 0.0f);
        for (std::size_t p = p0; p < p1; ++p) {
          const float* a = A + p * m + i0;
          for (std::size_t j = 0; j < r; ++j) {
            const float b = B[p * r + j];
            float* t = part.data() + j * block;
            for (std::size_t x = 0; x < w; ++x) t[x] += b * a[x];
          }
        }
        for (std::size_t e = 0; e < r * block; ++e) tile[e] += part[e];
      }
      for (std::size_t x = 0; x < w; ++x)
        for (std::size_t j = 0; j < r; ++j) C[(i0 + x) * r + j] = tile[j * block + x];
    }
  });
}

void fast_matmul_nt(const float* A, const float* B, float* C, std::size_t n, std::size_t m, std::size_t r,
                    unsigned threads) {
  if (n == 0 || m == 0) return;
  if (r == 0) {
    std::memset(C, 0, n * m * sizeof(float));
    return;
  }
  const std::vector<float> bt = transposed(B, m, r);
  const unsigned chunks = row_chunks(n, m * r, threads);
  parallel_chunks(chunks, [&](unsigned c) {
    const auto [begin, end] = chunk_range(n, chunks, c);
    for (std::size_t i = begin; i < end; ++i) {
      const float* a = A + i * r;
      for (std::size_t j0 = 0; j0 < m; j0 += kColBlock) {
        const std::size_t w = std::min(kColBlock, m - j0);
        float* out = C + i * m + j0;
        const float a0 = a[0];
        const float* b0 = bt.data() + j0;
        for (std::size_t x = 0; x < w; ++x) out[x] = a0 * b0[x];
        for (std::size_t p = 1; p < r; ++p) {
          const float ap = a[p];
          const float* bp = bt.data() + p * m + j0;
          for (std::size_t x = 0; x < w; ++x) out[x] += ap * bp[x];
        }
      }
    }
  });
}

void fast_orthogonalize(float* P, std::size_t n, std::size_t r, float epsilon, unsigned threads) {
  if (r == 0 || n == 0) return;
  const unsigned chunks = chunks_for(n, threads, std::max<std::size_t>(1, (std::size_t{1} << 15) / r));
  // Column-major copy: column j at cols + j n, so dots and axpys are contiguous
  // (r = 1 is its own column-major form: P is used in place).
  std::vector<float> copy(r == 1 ? 0 : n * r);
  float* const cols = r == 1 ? P : copy.data();
  // partial[(step parity, chunk)] holds r sums over the chunk's rows: slot t is
  // col_i . col_{i+t} (slot 0 ||col_i||^2). Two sets, so a chunk may write step
  // i+1's while another still reads step i's: one barrier per step.
  std::vector<float> partial(2 * static_cast<std::size_t>(chunks) * r);
  std::vector<float> totals(static_cast<std::size_t>(chunks) * r);  // each chunk's copy of the reduced sums
  std::optional<std::barrier<>> sync;  // one chunk needs none (and its futex calls cost microseconds)
  if (chunks > 1) sync.emplace(static_cast<std::ptrdiff_t>(chunks));
  parallel_chunks(chunks, [&](unsigned c) {
    const auto [begin, end] = chunk_range(n, chunks, c);
    const std::size_t len = end - begin;
    if (r > 1) transpose_rows(P, cols, n, r, begin, end, true);
    float* total = totals.data() + static_cast<std::size_t>(c) * r;
    for (std::size_t i = 0; i < r; ++i) {
      const std::size_t count = r - i;  // sums of this step
      float* col_i = cols + i * n + begin;
      float* mine = partial.data() + ((i & 1) * chunks + c) * r;
      for (std::size_t t = 0; t < count; ++t) mine[t] = blocked_dot(col_i, col_i + t * n, len);
      if (sync) sync->arrive_and_wait();
      for (std::size_t t = 0; t < count; ++t) {
        float sum = 0.0f;
        for (unsigned from = 0; from < chunks; ++from) sum += partial[((i & 1) * chunks + from) * r + t];
        total[t] = sum;
      }
      const float scale = std::sqrt(total[0]) + epsilon;
      for (std::size_t x = 0; x < len; ++x) col_i[x] = col_i[x] / scale;  // 0 / 0 = NaN for a zero column, epsilon 0
      for (std::size_t t = 1; t < count; ++t) {
        const float coef = total[t] / scale;  // col_i' . col_{i+t}
        float* col_j = col_i + t * n;
        for (std::size_t x = 0; x < len; ++x) col_j[x] -= coef * col_i[x];
      }
    }
    if (r > 1) transpose_rows(P, cols, n, r, begin, end, false);
  });
}

void fast_orthogonalize_batched(const MatrixRef* matrices, std::size_t count, float epsilon, unsigned threads) {
  std::vector<std::size_t> before(count + 1, 0);  // elements of the matrices before b
  for (std::size_t b = 0; b < count; ++b) before[b + 1] = before[b] + matrices[b].rows * matrices[b].cols;
  const std::size_t total = before[count];
  if (total == 0) return;
  const auto chunks = static_cast<unsigned>(std::min<std::size_t>(chunks_for(total, threads), count));  // >= 1
  // Chunk c takes the matrices that start in its share [c total / chunks, (c + 1) total / chunks).
  __extension__ using Wide = unsigned __int128;
  parallel_chunks(chunks, [&](unsigned c) {
    for (std::size_t b = 0; b < count; ++b)
      if (static_cast<std::size_t>(static_cast<Wide>(before[b]) * chunks / total) == c)
        fast_orthogonalize(matrices[b].data, matrices[b].rows, matrices[b].cols, epsilon, 1);
  });
}

}  // namespace gcsim::kernels::cpu
