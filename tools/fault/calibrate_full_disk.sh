#!/usr/bin/env bash
# Full disk for `gcsim calibrate kernels`: its --out and --csv on a tmpfs that
# is nearly full. The run must end with exit 1 or 2, one line on stderr naming
# the file (after calibrate's one progress line), and leave nothing behind (no profile, no CSV, no temp file), and
# the file that filled the disk must be untouched. Then, with room made, the
# same command must succeed. Needs root (mount); exits 77 without it.
# Usage: calibrate_full_disk.sh path/to/gcsim
set -u
G=$(readlink -f "${1:?usage: calibrate_full_disk.sh path/to/gcsim}")
[ "$(id -u)" -eq 0 ] || { echo "calibrate_full_disk: needs root (mount), skipped"; exit 77; }
T=$(mktemp -d)
D="$T/disk"
mkdir "$D"
cleanup() { umount "$D" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
mount -t tmpfs -o size=64k tmpfs "$D" || { echo "calibrate_full_disk: cannot mount tmpfs, skipped"; exit 77; }
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
tries=0

small=(--ops topk --min-n 1000 --max-n 1000 --ratios 0.1 --repeats 1 --warmup 0 --threads 1)
for leave in 0 100 1000; do
  for what in profile csv; do
    tries=$((tries + 1))
    rm -f "$D"/*
    # fill the disk, leaving about $leave bytes
    dd if=/dev/zero of="$D/filler" bs=1k count=64 2>/dev/null
    if [ "$leave" -gt 0 ]; then truncate -s -"$leave" "$D/filler" 2>/dev/null || true; fi
    sum=$(md5sum <"$D/filler")
    if [ "$what" = profile ]; then
      "$G" calibrate kernels --out "$D/p.toml" "${small[@]}" >"$T/out" 2>"$T/err"; rc=$?
    else
      "$G" calibrate kernels --out "$D/p.toml" --csv "$D/m.csv" "${small[@]}" >"$T/out" 2>"$T/err"; rc=$?
    fi
    left=$(ls "$D" | grep -v '^filler$' | tr '\n' ' ')
    if [ "$rc" -eq 0 ] && [ -s "$D/p.toml" ] && grep -q '^\[' "$D/p.toml"; then
      :  # it fitted: fine, as long as it is whole (checked below)
    elif [ "$rc" -ne 1 ] && [ "$rc" -ne 2 ]; then
      fail "leave=$leave $what: exit $rc ($(head -c 300 "$T/err"))"
    else
      [ "$(grep -c '^gcsim calibrate kernels: ' "$T/err")" -eq 1 ] || fail "leave=$leave $what: not one error line: $(cat "$T/err")"
      tail -n 1 "$T/err" | grep -q "^gcsim calibrate kernels: .*No space left" ||
        fail "leave=$leave $what: the last line does not say the disk is full: $(cat "$T/err")"
      [ -z "$left" ] || fail "leave=$leave $what: left $left"
    fi
    [ "$(md5sum <"$D/filler")" = "$sum" ] || fail "leave=$leave $what: the filler changed"
    if [ -e "$D/p.toml" ]; then
      "$G" simulate scenarios/h100-cluster.toml --set profile="$D/p.toml" >/dev/null 2>&1 ||
        fail "leave=$leave $what: the profile left behind does not load"
    fi
  done
done
# with room, it works
rm -f "$D"/*
"$G" calibrate kernels --out "$D/p.toml" --csv "$D/m.csv" "${small[@]}" >/dev/null 2>"$T/err" ||
  fail "with room: $(cat "$T/err")"
echo "calibrate_full_disk: $tries tries, $((tries - fails)) survived, $fails failed"
[ "$fails" -eq 0 ]
