#!/usr/bin/env bash
# gcsim sweep end to end: configuration identity on --resume, a column per
# swept key, refused sweep files, output paths, the output lock, torn rows,
# --shard I/N and sweep merge (the shards joined equal the whole sweep).
# Usage: sweep_cli_test.sh path/to/gcsim   (run from the source root)
set -u
G=${1:?usage: sweep_cli_test.sh path/to/gcsim}
T=$(mktemp -d)
trap 'mountpoint -q "$T/ro" 2>/dev/null && umount "$T/ro"; rm -rf "$T"' EXIT
. "$(dirname "$0")/cli_helpers.sh"  # fail, expect_error

cp scenarios/h100-cluster.toml "$T/base.toml"
sed -i "s|^# profile:.*|profile = \"$PWD/scenarios/profiles/default.toml\"|" "$T/base.toml"
sweep_file() {  # sweep_file NAME AXES...: a sweep of $T/base.toml
  local f="$T/$1.toml"; shift
  printf 'base = "base.toml"\n[axes]\n' >"$f"
  for a in "$@"; do printf '%s\n' "$a" >>"$f"; done
}

# --- 1. --resume refuses rows of another configuration -----------------------------
sweep_file s1 '"cluster.workers" = [2, 4]' '"stragglers.cv" = [0.0, 0.1]'
$G sweep "$T/s1.toml" --out "$T/o1" >/dev/null 2>"$T/err" || fail "sweep s1: $(cat "$T/err")"
cp "$T/o1/results.csv" "$T/o1.keep"
sed -i 's/^latency_us = 6.2/latency_us = 50/' "$T/base.toml"
expect_error 2 "o1/results.csv:2: config_hash: row for point 0 was simulated with another configuration" -- \
  $G sweep "$T/s1.toml" --out "$T/o1" --resume
cmp -s "$T/o1/results.csv" "$T/o1.keep" || fail "a refused resume changed results.csv"
sed -i 's/^latency_us = 50/latency_us = 6.2/' "$T/base.toml"
sed -i 's/^bandwidth_gbps = 10.0/bandwidth_gbps =   1e1   # reformatted, same value/' "$T/base.toml"
$G sweep "$T/s1.toml" --out "$T/o1" --resume | grep -q "4 from an earlier run, 0 simulated" \
  || fail "a reformatted base file with the same values does not resume"

# --- 2. a column per swept key --------------------------------------------------------
sweep_file s2 '"cluster.inter_node.latency_us|collective.chunks" = [[5, 1], [9, 2]]' '"model.batch_per_worker" = [32]' \
  '"compute.efficiency" = [0.2]' '"stragglers.seed" = [3]'
$G sweep "$T/s2.toml" --out "$T/o2" >/dev/null 2>"$T/err" || fail "sweep s2: $(cat "$T/err")"
head -1 "$T/o2/results.csv" | grep -q '^point,model,workers,.*,busiest_link_utilization,cluster.inter_node.latency_us,collective.chunks,model.batch_per_worker,compute.efficiency,stragglers.seed,config_hash$' \
  || fail "axis columns: $(head -1 "$T/o2/results.csv")"
sed -n 3p "$T/o2/results.csv" | grep -qE ',9,2,32,0.2,3,[0-9a-f]{16}$' || fail "axis values: $(sed -n 3p "$T/o2/results.csv")"

# --- 3, 4, 6. refused sweep files: nothing written ---------------------------------------
sweep_file dup '"cluster.workers" = [2]' '"compression.ratio|cluster.workers" = [[0.1, 4]]'
expect_error 2 "dup.toml:4:1: compression.ratio\|cluster.workers: sets 'cluster.workers', which is already set in axis \"cluster.workers\" at .*dup.toml:3:1" -- \
  $G sweep "$T/dup.toml" --out "$T/odup"
sweep_file empty
expect_error 2 "empty.toml:2:1: axes: is empty" -- $G sweep "$T/empty.toml" --out "$T/oempty"
ten='[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]'
sweep_file big "\"cluster.workers\" = $ten" "\"training.iterations\" = $ten" "\"stragglers.seed\" = $ten" \
  "\"collective.chunks\" = $ten" "\"model.batch_per_worker\" = $ten" "\"training.bucket_mb\" = $ten"
expect_error 2 'big.toml:2:1: axes: "cluster.workers" 10 x .* = 1000000 points, more than the limit of 100000' -- \
  $G sweep "$T/big.toml" --out "$T/obig"
# --- 7. a value that passes the loader but not the point's full validation -----------------
sweep_file inf '"cluster.inter_node.bandwidth_gbps" = [10, 1e308]'
expect_error 2 "inf.toml.*bandwidth_gbps" -- $G sweep "$T/inf.toml" --out "$T/oinf"
for d in odup oempty obig oinf; do [ ! -e "$T/$d" ] || fail "refused sweep $d created its output directory"; done

# --- 9. output paths ------------------------------------------------------------------------
sweep_file ok '"cluster.workers" = [1, 2]'
echo "keep me" >"$T/file"
expect_error 2 "file: --out: exists and is not a directory" -- $G sweep "$T/ok.toml" --out "$T/file"
expect_error 2 "file/sub: --out: cannot create the directory" -- $G sweep "$T/ok.toml" --out "$T/file/sub"
expect_error 2 "/proc/gcsim-sweep-test: --out: cannot create the directory" -- $G sweep "$T/ok.toml" --out /proc/gcsim-sweep-test
[ "$(cat "$T/file")" = "keep me" ] || fail "--out FILE changed the file"
# A directory this user cannot write into: read-only for root (a read-only tmpfs), mode 555 otherwise.
mkdir -p "$T/ro"
if [ "$(id -u)" -eq 0 ]; then
  if mount -t tmpfs -o ro,size=16k tmpfs "$T/ro" 2>/dev/null; then
    expect_error 2 "ro: --out: cannot write into the directory: Read-only file system" -- $G sweep "$T/ok.toml" --out "$T/ro"
    umount "$T/ro"
  fi
else
  chmod 555 "$T/ro"
  expect_error 2 "ro: --out: cannot write into the directory: Permission denied" -- $G sweep "$T/ok.toml" --out "$T/ro"
  chmod 755 "$T/ro"
fi

# --- 10. one sweep at a time per output directory -------------------------------------------
mkdir -p "$T/olock"
exec 9>"$T/olock/.lock"
flock -n 9 || fail "cannot take the test's lock"
expect_error 2 "olock: --out: another gcsim sweep is writing into this directory" -- $G sweep "$T/ok.toml" --out "$T/olock"
exec 9>&-
[ ! -e "$T/olock/results.csv" ] || fail "a refused sweep wrote results.csv"
$G sweep "$T/ok.toml" --out "$T/olock" >/dev/null || fail "sweep after the lock was released"

# --- 5. a torn last row is dropped by --resume --------------------------------------------
$G sweep "$T/s1.toml" --out "$T/o5" >/dev/null || fail "sweep s1 into o5"
cp "$T/o5/results.csv" "$T/o5.full"
head -c -40 "$T/o5.full" >"$T/o5/results.csv"              # cut mid-row, no newline
$G sweep "$T/s1.toml" --out "$T/o5" --resume | grep -q "3 from an earlier run, 1 simulated, a torn last row dropped" \
  || fail "resume of an unterminated row"
cmp -s "$T/o5/results.csv" "$T/o5.full" || fail "resumed file differs from the full run"
{ head -n 4 "$T/o5.full"; sed -n 5p "$T/o5.full" | cut -c1-50; } >"$T/o5/results.csv"   # cut, then a newline
$G sweep "$T/s1.toml" --out "$T/o5" --resume | grep -q "3 from an earlier run, 1 simulated, a torn last row dropped" \
  || fail "resume of a row with too few fields"
cmp -s "$T/o5/results.csv" "$T/o5.full" || fail "resumed file differs from the full run (short row)"

# --- 7. --shard I/N on several machines, then merge: byte for byte the whole sweep -------------
sweep_file s7 '"cluster.workers" = [2, 4, 8]' '"cluster.inter_node.bandwidth_gbps" = [10, 100]' \
  '"compression.method|compression.ratio" = [["none", 1.0], ["topk", 0.01]]'
$G sweep "$T/s7.toml" --backend analytic --out "$T/o7/all" >/dev/null 2>"$T/err" || fail "sweep s7: $(cat "$T/err")"
for i in 0 1 2 3 4; do
  $G sweep "$T/s7.toml" --backend analytic --shard $i/5 --out "$T/o7/s$i" >"$T/out" 2>"$T/err" || fail "shard $i: $(cat "$T/err")"
done
grep -q "12 points (shard 4/5: 2 of them; 0 from an earlier run, 2 simulated)" "$T/out" || fail "shard line: $(cat "$T/out")"
[ "$(tail -n +2 "$T/o7/s1/results.csv" | cut -d, -f1 | tr '\n' ,)" = "1,6,11," ] || fail "shard 1/5 ran $(cut -d, -f1 "$T/o7/s1/results.csv")"
$G sweep merge --out "$T/o7/m" "$T/o7/s3" "$T/o7/s0" "$T/o7/s4" "$T/o7/s1" "$T/o7/s2" >/dev/null 2>"$T/err" || fail "merge: $(cat "$T/err")"
cmp -s "$T/o7/all/results.csv" "$T/o7/m/results.csv" || fail "merged shards differ from the unsharded run"
# a shard resumes its own points only
$G sweep "$T/s7.toml" --backend analytic --shard 1/5 --out "$T/o7/s1" --resume | grep -q "3 from an earlier run, 0 simulated" ||
  fail "shard resume"
expect_error 2 "shard.txt: records shard 1/5, not this run.s" -- $G sweep "$T/s7.toml" --backend analytic --shard 2/5 --out "$T/o7/s1" --resume
expect_error 2 "--shard 5/5: expected I/N with 0 <= I < N" -- $G sweep "$T/s7.toml" --shard 5/5 --out "$T/o7/bad"
expect_error 2 "--shard 1: expected I/N" -- $G sweep "$T/s7.toml" --shard 1 --out "$T/o7/bad"
# merge refuses: a shard missing, one given twice, another sweep, a tampered or a missing row
expect_error 2 "shard 2/5 is missing" -- $G sweep merge --out "$T/o7/m2" "$T/o7/s0" "$T/o7/s1" "$T/o7/s3" "$T/o7/s4"
expect_error 2 "shard 1/5 is also" -- $G sweep merge --out "$T/o7/m2" "$T/o7/s0" "$T/o7/s1" "$T/o7/s1" "$T/o7/s2" "$T/o7/s3"
expect_error 2 "shard.txt: missing: not the output directory of a" -- $G sweep merge --out "$T/o7/m2" "$T/o7/all"
sweep_file s8 '"cluster.workers" = [2, 4]'
$G sweep "$T/s8.toml" --backend analytic --shard 0/5 --out "$T/o7/other" >/dev/null 2>&1 || fail "sweep s8"
expect_error 2 "comes from another sweep" -- $G sweep merge --out "$T/o7/m2" "$T/o7/s0" "$T/o7/other"
cp -r "$T/o7/s2" "$T/o7/t2"
sed -i -E '2s/[0-9a-f]{16}$/0000000000000000/' "$T/o7/t2/results.csv"
expect_error 2 "t2/results.csv:2: row for point 2 is not that point" -- \
  $G sweep merge --out "$T/o7/m2" "$T/o7/s0" "$T/o7/s1" "$T/o7/t2" "$T/o7/s3" "$T/o7/s4"
cp "$T/o7/s2/results.csv" "$T/o7/t2/results.csv"
sed -i '$d' "$T/o7/t2/results.csv"
expect_error 2 "t2: point 7 is missing \(an unfinished shard" -- \
  $G sweep merge --out "$T/o7/m2" "$T/o7/s0" "$T/o7/s1" "$T/o7/t2" "$T/o7/s3" "$T/o7/s4"
[ ! -e "$T/o7/m2/results.csv" ] || fail "a refused merge wrote results.csv"
expect_error 2 "m/results.csv: already exists; pass --force" -- $G sweep merge --out "$T/o7/m" "$T/o7/s0" "$T/o7/s1" "$T/o7/s2" "$T/o7/s3" "$T/o7/s4"

if [ "$fails" -ne 0 ]; then echo "$fails failure(s)"; exit 1; fi
echo "sweep cli tests passed"
