# Helpers for the sweep fault-injection scripts (sourced; not run by itself).
# Each script builds its sweep in a temporary directory from the shipped base
# scenario, so it can run from anywhere inside the source tree.

FAULT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# make_sweep FILE WORKERS...: a DES sweep of the shipped h100 cluster over
# P x 4 bandwidths x {dense, Top-K 1%}, $FAULT_ITERATIONS (default 5)
# iterations per point with 10 % stragglers, so that a point takes a while.
# The dense points use the tree allreduce in 8 chunks: its schedule runs
# message by message, where a ring's would be computed at once
# (sim/collectives/fast_ring.h) and the sweep would end before it could be
# raced or killed.
make_sweep() {
  local f=$1; shift
  local ws; ws=$(IFS=,; echo "$*")
  cat >"$f" <<TOML
name = "fault"
base = "$FAULT_ROOT/scenarios/h100-cluster.toml"
[axes]
"cluster.workers" = [$ws]
"cluster.inter_node.bandwidth_gbps" = [1, 10, 25, 100]
"compression.method|compression.ratio|collective.algorithm|collective.chunks" = [["none", 1.0, "tree", 8], ["topk", 0.01, "ring", 1]]
"training.iterations|stragglers.cv" = [[${FAULT_ITERATIONS:-5}, 0.1]]
TOML
}

# bytes_differing A B: bytes at which the files differ, plus their size difference.
bytes_differing() {
  local a=$1 b=$2
  [ -e "$b" ] || { wc -c <"$a"; return; }
  local diff sa sb
  diff=$(cmp -l "$a" "$b" 2>/dev/null | wc -l)
  sa=$(wc -c <"$a"); sb=$(wc -c <"$b")
  echo $((diff + (sa > sb ? sa - sb : sb - sa)))
}

# rows_lost REFERENCE FILE: reference rows (lines) that FILE lacks.
rows_lost() {
  local a=$1 b=$2
  [ -e "$b" ] || { tail -n +2 "$a" | wc -l; return; }
  comm -23 <(tail -n +2 "$a" | sort) <(tail -n +2 "$b" | sort) | wc -l
}

# whole_rows FILE: 0 when every line ends in a newline and has the header's field count
# (the sweep's values hold no quoted commas).
whole_rows() {
  local f=$1
  [ -s "$f" ] || return 0
  [ "$(tail -c 1 "$f" | od -An -c | tr -d ' ')" = '\n' ] || return 1
  awk -F, 'NR == 1 { n = NF } NF != n { bad = 1 } END { exit bad }' "$f"
}
