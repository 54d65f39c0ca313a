#include "sim/collectives/tree_schedule.h"

namespace gcsim {

namespace {
int to_rank(int tree, int pos, int P) { return tree == 0 ? pos : P - 1 - pos; }
}  // namespace

int tree_parent(int tree, int r, int P) {
  const int pos = to_rank(tree, r, P);  // the mapping is its own inverse
  return pos == 0 ? -1 : to_rank(tree, (pos - 1) / 2, P);
}

std::vector<int> tree_children(int tree, int r, int P) {
  const int pos = to_rank(tree, r, P);
  std::vector<int> out;
  for (int c = 2 * pos + 1; c <= 2 * pos + 2; ++c)
    if (c < P) out.push_back(to_rank(tree, c, P));
  return out;
}

namespace {

class TreeSchedule final : public CollectiveSchedule {
 public:
  TreeSchedule(const ScheduleContext& ctx, int P, double bytes, int chunks)
      : CollectiveSchedule(ctx.engine, ctx.network, P, ctx.alpha),
        piece_(bytes / 2.0 / chunks),
        chunks_(chunks),
        from_children_(2 * static_cast<std::size_t>(P) * chunks, 0),
        pieces_done_(P, 0) {
    set_phase_names({"reduce", "broadcast"});
    for (int t = 0; t < 2; ++t) {
      parent_[t].resize(P);
      children_[t].resize(P);
      for (int r = 0; r < P; ++r) {
        parent_[t][r] = tree_parent(t, r, P);
        children_[t][r] = tree_children(t, r, P);
      }
    }
  }
  std::string name() const override { return "tree"; }

 private:
  static std::uint64_t encode(int tree, bool down, int chunk) {
    return (static_cast<std::uint64_t>(tree) << 40) | (static_cast<std::uint64_t>(down) << 32) |
           static_cast<std::uint64_t>(chunk);
  }

  void begin(Time t) override {
    for (int tr = 0; tr < 2; ++tr)
      for (int r = 0; r < ranks(); ++r)
        if (children_[tr][r].empty())
          for (int c = 0; c < chunks_; ++c) reduced(tr, r, c, t);
  }

  // Rank r holds the reduction of piece c of its subtree.
  void reduced(int tr, int r, int c, Time t) {
    const int parent = parent_[tr][r];
    if (parent >= 0) {
      send(r, parent, piece_, t, encode(tr, false, c), 0);
    } else {
      have_result(tr, r, c, t);
    }
  }

  // Rank r holds the final piece c of tree tr: pass it down.
  void have_result(int tr, int r, int c, Time t) {
    for (int child : children_[tr][r]) send(r, child, piece_, t, encode(tr, true, c), 1);
    if (++pieces_done_[r] == 2 * chunks_) finish_rank(r, t);
  }

  void on_receive(int /*src*/, int dst, std::uint64_t msg, Time arrival) override {
    const int tr = static_cast<int>(msg >> 40);
    const bool down = ((msg >> 32) & 0xff) != 0;
    const int c = static_cast<int>(msg & 0xffffffffULL);
    if (down) {
      have_result(tr, dst, c, arrival);
      return;
    }
    int& n = from_children_[(static_cast<std::size_t>(tr) * ranks() + dst) * chunks_ + c];
    if (++n == static_cast<int>(children_[tr][dst].size())) reduced(tr, dst, c, arrival);
  }

  double piece_;
  int chunks_;
  std::vector<int> parent_[2];
  std::vector<std::vector<int>> children_[2];
  std::vector<int> from_children_;
  std::vector<int> pieces_done_;
};

}  // namespace

std::unique_ptr<CollectiveSchedule> tree_allreduce_schedule(const ScheduleContext& ctx, int P, double bytes,
                                                            int chunks) {
  return std::make_unique<TreeSchedule>(ctx, P, bytes, chunks);
}

}  // namespace gcsim
