#!/usr/bin/env bash
# Fault test: a sweep whose --out fills its disk. The output directory is a
# 64 KiB tmpfs (needs root; exits 77, "skipped", without it). The sweep must
# stop with one line on stderr naming results.csv and a nonzero exit, leave
# whole rows only (no torn row, no temporary file), and after the disk is
# grown `--resume` must complete to the same file as a run on a roomy disk.
#
#   tools/fault/sweep_full_disk.sh GCSIM [SIZE_KB=64]
#
# Prints one line:
#   full disk: stopped after R of P rows (exit X, one-line error E), torn rows T, temp files F, resumed C, bytes differing B
set -u
G=$(realpath "${1:?usage: sweep_full_disk.sh GCSIM [SIZE_KB]}")
KB=${2:-64}
. "$(dirname "$0")/sweep_common.sh"
[ "$(id -u)" -eq 0 ] || { echo "full disk: skipped (needs root to mount a tmpfs)"; exit 77; }
T=$(mktemp -d)
M="$T/small"
mkdir -p "$M"
cleanup() { mountpoint -q "$M" && umount "$M"; rm -rf "$T"; }
trap cleanup EXIT
mount -t tmpfs -o size=${KB}k tmpfs "$M" 2>"$T/err" || { echo "full disk: skipped (cannot mount a tmpfs: $(cat "$T/err"))"; exit 77; }

# The analytic backend: hundreds of rows in well under a second.
cat >"$T/sweep.toml" <<TOML
name = "full-disk"
base = "$FAULT_ROOT/scenarios/h100-cluster.toml"
[axes]
"cluster.workers" = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
"cluster.inter_node.bandwidth_gbps" = [1, 2, 5, 10, 25, 40, 100, 200, 400, 800]
"compression.method|compression.ratio" = [["none", 1.0], ["topk", 0.1], ["topk", 0.01], ["topk", 0.001]]
TOML
RUN=("$G" sweep "$T/sweep.toml" --backend analytic --jobs 2)
"${RUN[@]}" --out "$T/ref" >/dev/null 2>"$T/err" || { echo "full disk: the reference run failed: $(cat "$T/err")"; exit 1; }
points=$(($(wc -l <"$T/ref/results.csv") - 1))
[ "$(wc -c <"$T/ref/results.csv")" -gt $((KB * 1024)) ] || { echo "full disk: the sweep does not fill ${KB} KiB"; exit 1; }

"${RUN[@]}" --out "$M/out" >/dev/null 2>"$T/full.err"
rc=$?
oneline=0
[ "$(wc -l <"$T/full.err")" -eq 1 ] && grep -q "results.csv: cannot append a row: No space left on device" "$T/full.err" && oneline=1
[ "$oneline" -eq 1 ] || echo "the error is not one line naming results.csv: $(cat "$T/full.err")" >&2
rows=0 torn=0
if [ -e "$M/out/results.csv" ]; then
  rows=$(($(wc -l <"$M/out/results.csv") - 1))
  whole_rows "$M/out/results.csv" || torn=1
fi
temps=$(find "$M/out" -name 'results.csv.tmp.*' 2>/dev/null | wc -l)

# Make room, then resume.
mount -o remount,size=16m "$M"
resumed=0
"${RUN[@]}" --out "$M/out" --resume >/dev/null 2>"$T/resume.err" && resumed=1
[ "$resumed" -eq 1 ] || echo "resume after making room: $(cat "$T/resume.err")" >&2
differ=$(bytes_differing "$T/ref/results.csv" "$M/out/results.csv")

echo "full disk: stopped after $rows of $points rows (exit $rc, one-line error $oneline), torn rows $torn, temp files $temps, resumed $resumed, bytes differing $differ"
[ "$rc" -ne 0 ] && [ "$rows" -lt "$points" ] && [ "$oneline" -eq 1 ] && [ "$torn" -eq 0 ] && [ "$temps" -eq 0 ] &&
  [ "$resumed" -eq 1 ] && [ "$differ" -eq 0 ]
