#!/usr/bin/env bash
# Fault test: SIGKILL a sweep at N random moments, resume each time, and
# compare the final results.csv with an uninterrupted run's, byte for byte.
#
#   tools/fault/sweep_kill_resume.sh GCSIM [N=20] [quick|full] [SEED]
#
# Each try starts a fresh sweep, kills it (kill -9) at a moment drawn
# uniformly from [0, the uninterrupted run's duration] (so kills land in
# validation, the first write, the appends and the final rewrite; a few land
# after the end on a faster run), then runs `--resume` to completion. Prints one line:
#   kill/resume: tries N, survived S, killed mid-run K (W with rows written), rows lost L, bytes differing B, temp files left F
# and exits 0 only if every try survived (resume exit 0, file identical).
set -u
G=$(realpath "${1:?usage: sweep_kill_resume.sh GCSIM [N] [quick|full] [SEED]}")
N=${2:-20}
SIZE=${3:-full}
SEED=${4:-$$}
. "$(dirname "$0")/sweep_common.sh"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
RANDOM=$SEED
if [ "$SIZE" = quick ]; then make_sweep "$T/sweep.toml" 1 2 4 8 16; else make_sweep "$T/sweep.toml" 1 2 4 8 16 32 64 128; fi
RUN=("$G" sweep "$T/sweep.toml" --jobs 2)

start=$(date +%s%N)
"${RUN[@]}" --out "$T/ref" >/dev/null 2>"$T/err" || { echo "kill/resume: the uninterrupted run failed: $(cat "$T/err")"; exit 1; }
dur_ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$dur_ms" -gt 0 ] || dur_ms=1

survived=0 mid=0 with_rows=0 lost=0 differ=0 temps=0
for i in $(seq 1 "$N"); do
  out="$T/run$i"
  at_ms=$(( (RANDOM * 32768 + RANDOM) % (dur_ms + 1) ))
  "${RUN[@]}" --out "$out" >/dev/null 2>"$T/err$i" &
  pid=$!
  sleep "$(printf '%d.%03d' $((at_ms / 1000)) $((at_ms % 1000)))"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  if [ $? -eq 137 ]; then   # 137 = killed; 0 = it had finished first
    mid=$((mid + 1))
    [ -e "$out/results.csv" ] && [ "$(wc -l <"$out/results.csv")" -gt 1 ] && with_rows=$((with_rows + 1))
  fi
  ok=1
  [ ! -e "$out/results.csv" ] || whole_rows "$out/results.csv" || true   # a torn last row is --resume's to drop
  if ! "${RUN[@]}" --out "$out" --resume >/dev/null 2>"$T/rerr$i"; then
    ok=0
    echo "try $i (kill at ${at_ms} ms): resume failed: $(cat "$T/rerr$i")" >&2
  fi
  l=$(rows_lost "$T/ref/results.csv" "$out/results.csv")
  d=$(bytes_differing "$T/ref/results.csv" "$out/results.csv")
  lost=$((lost + l)); differ=$((differ + d))
  [ "$l" -eq 0 ] && [ "$d" -eq 0 ] || { ok=0; echo "try $i (kill at ${at_ms} ms): $l rows lost, $d bytes differ" >&2; }
  temps=$((temps + $(find "$out" -name 'results.csv.tmp.*' | wc -l)))
  survived=$((survived + ok))
done
echo "kill/resume: tries $N, survived $survived, killed mid-run $mid ($with_rows with rows written), rows lost $lost, bytes differing $differ, temp files left $temps (uninterrupted run ${dur_ms} ms, seed $SEED)"
[ "$survived" -eq "$N" ]
