#!/usr/bin/env bash
# Rebuilds every profile of the validation sweeps (scenarios/validation/,
# reports/validation.md) from the measurements kept beside them, measuring
# nothing: `gcsim calibrate collectives --refit` on each CSV, on top of the
# one-thread kernel profile.
#   loopback-pP.csv           P processes on loopback: the two-level nodes' intra-node figures
#   profile-shapedR-pP.csv    P processes on a switch shaped to R Mbit/s (tools/netem.sh)
#   p2p-two-level-pPgG-R.csv  gcsim's own sendrecv rings (p2p_ring) between the nodes of a two-level
#                             cluster at R (local rank l of every node; G rings share each NIC)
#   p2p-two-level-pPgG-intra.csv  the same inside its nodes (all nodes at once, over their loopbacks)
#   p2p-shapedR-pP.csv        one p2p ring of all P on the switch (recursive doubling, gTop-k's tree)
#   half-shapedR-pP.csv       fp16's ring allreduce (allreduce_half) of P on the switch: [collective.half]
#   fabric/uplinkU-pP.csv     P processes on a fat-tree of leaves of 2, 4:1, packed: one flow each way through
#                             every uplink, shaped to U Mbit/s (the NICs at 4U / 2): the links between switches
# and writes
#   profile-shapedR-pP.toml           a switch or fat-tree of P one-GPU nodes at R: inter from shapedR-pP,
#                                     intra from loopback-pP, [collective.p2p] from p2p-shapedR-pP and
#                                     [collective.half] from half-shapedR-pP where measured
#   profile-two-level-pPgG-R.toml     two-level: inter from the M = P / G ports of shapedR-pM, intra from loopback-pP,
#                                     [collective.p2p] from p2p-two-level-pPgG-{R,intra}
#   profile-fat-tree-pP-ovX.toml      fat-tree at 100 Mbit/s, X:1: shaped100-pP, and the links between switches
#                                     (fabric_efficiency) from fabric/uplinkU-pP, U = 2 x 100 / X their rate
# Usage: tools/validation_profiles.sh [GCSIM] [DIR]   (defaults: build/release/gcsim, reports/validation)
set -euo pipefail
B=${1:-build/release/gcsim}
V=${2:-reports/validation}
K=$V/cpu-kernels-1thread.toml
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
refit() {  # workers csv rate base out [extra]
  "$B" calibrate collectives --workers "$1" --refit "$2" --rate-mbit "$3" --base "$4" --out "$5" --force "${@:6}" >/dev/null
}
for P in 4 8 16; do
  refit "$P" "$V/loopback-p$P.csv" 10000 "$K" "$tmp/lo-p$P.toml" --link-class intra
done
base_of() { if [ -f "$tmp/lo-p$1.toml" ]; then echo "$tmp/lo-p$1.toml"; else echo "$K"; fi; }
for R in 50 100 200 400; do
  for P in 2 4 8 16; do
    csv=$V/profile-shaped$R-p$P.csv
    [ -f "$csv" ] || continue
    refit "$P" "$csv" "$R" "$(base_of "$P")" "$V/profile-shaped$R-p$P.toml"
    if [ -f "$V/p2p-shaped$R-p$P.csv" ]; then
      refit "$P" "$V/p2p-shaped$R-p$P.csv" "$R" "$V/profile-shaped$R-p$P.toml" "$tmp/p2p.toml"
      mv "$tmp/p2p.toml" "$V/profile-shaped$R-p$P.toml"
    fi
    if [ -f "$V/half-shaped$R-p$P.csv" ]; then
      refit "$P" "$V/half-shaped$R-p$P.csv" "$R" "$V/profile-shaped$R-p$P.toml" "$tmp/half.toml"
      mv "$tmp/half.toml" "$V/profile-shaped$R-p$P.toml"
    fi
    echo "wrote $V/profile-shaped$R-p$P.toml"
  done
done
for PG in 4:2 8:2 8:4 16:2 16:4; do
  P=${PG%%:*} G=${PG##*:}
  M=$((P / G))
  for R in 100 200; do
    out=$V/profile-two-level-p${P}g$G-$R.toml
    refit "$M" "$V/profile-shaped$R-p$M.csv" "$R" "$(base_of "$P")" "$out"
    refit "$P" "$V/p2p-two-level-p${P}g$G-$R.csv" "$R" "$out" "$tmp/p2p-inter.toml"
    refit "$P" "$V/p2p-two-level-p${P}g$G-intra.csv" 10000 "$tmp/p2p-inter.toml" "$out" --link-class intra
    echo "wrote $V/profile-two-level-p${P}g$G-$R.toml"
  done
done
for P in 4 8 16; do
  for X in 2 4; do
    U=$((200 / X))
    out=$V/profile-fat-tree-p$P-ov$X.toml
    refit "$P" "$V/fabric/uplink$U-p$P.csv" "$U" "$V/profile-shaped100-p$P.toml" "$out" --link-class fabric
    echo "wrote $out"
  done
done
