// The rank patterns of the point-to-point collectives: a binomial tree rooted
// at rank 0 (gTop-k's reduce and broadcast) and recursive doubling over the
// largest power of two with the extra ranks folded in (SparCML, halving-
// doubling). Both faces of those collectives walk them: the real exchanges
// (compress/exchange/) and the simulator's schedules and closed forms
// (sim/collectives/), so the two cannot drift apart.
#pragma once

#include <vector>

namespace gcsim::comm {

// ceil(log2(P)) for P >= 1.
inline int ceil_log2(int P) {
  int l = 0;
  while ((1 << l) < P) ++l;
  return l;
}

// The largest power of two <= P (P >= 1).
inline int floor_pow2(int P) {
  int p = 1;
  while (p * 2 <= P) p *= 2;
  return p;
}

// Rank r's part in round j (distance d = 2^j) of the binomial-tree reduce to
// rank 0: r mod 2d = d sends to r - d; r mod 2d = 0 receives from r + d when
// that rank exists.
enum class TreeRole { Sends, Receives, Idle };
inline TreeRole reduce_role(int r, int j, int P) {
  const int d = 1 << j;
  if (r % (2 * d) == d) return TreeRole::Sends;
  if (r % (2 * d) == 0 && r + d < P) return TreeRole::Receives;
  return TreeRole::Idle;
}

// The round a rank sends its reduce message in, and gets the broadcast back
// from r - 2^j: its lowest set bit. L = ceil_log2(P) for rank 0, which sends
// none.
inline int tree_round(int r, int L) {
  if (r == 0) return L;
  int j = 0;
  while (((r >> j) & 1) == 0) ++j;
  return j;
}

// The rounds j (children r + 2^j) a rank forwards the broadcast to, largest
// distance first: every round below its own.
inline std::vector<int> broadcast_children(int r, int L, int P) {
  std::vector<int> out;
  for (int j = tree_round(r, L) - 1; j >= 0; --j)
    if (r + (1 << j) < P) out.push_back(j);
  return out;
}

}  // namespace gcsim::comm
