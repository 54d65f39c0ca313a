#!/usr/bin/env bash
# Run a real training with --out on a small tmpfs, so the disk fills up at a
# different point each try (the first checkpoint, the second rank's, the
# rotation to rank-R.prev.ckpt, ...). A try survives when the run fails with
# one line on stderr saying the disk is full, leaves no half-written file, and
# -- when it kept a checkpoint -- --resume from it (off the tmpfs) ends exactly
# as an uninterrupted run. Needs root (mount); exit 77 without. Prints one
# line of counts; exit 0 only if every try survived.
# Usage: tools/fault/train_full_disk.sh [--sizes "1m 4m 6m 9m 11m"] path/to/gcsim
set -u
sizes="1m 3m 4m 6m 8m 9m 11m"
while [ $# -gt 1 ]; do
  case $1 in
    --sizes) sizes=$2; shift 2 ;;
    *) break ;;
  esac
done
G=$(realpath "${1:?usage: train_full_disk.sh [--sizes LIST] path/to/gcsim}")
cd "$(dirname "$0")/../.."
[ "$(id -u)" -eq 0 ] || { echo "SKIP: train_full_disk needs root (mount -t tmpfs)"; exit 77; }
T=$(mktemp -d)
mounted=()
cleanup() {
  local m
  for m in "${mounted[@]}"; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null; done
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
. tools/fault/train_common.sh
[ -d "$DATA" ] || { echo "SKIP: $DATA missing"; exit 77; }
mkdir "$T/probe"
if ! mount -t tmpfs -o size=1m tmpfs "$T/probe" 2>/dev/null; then echo "SKIP: cannot mount a tmpfs here"; exit 77; fi
umount "$T/probe"
EVERY=2

"$G" train "$S" "${RUN[@]}" --checkpoint-every $EVERY --out "$T/ref" >/dev/null 2>"$T/ref.err" \
  || { echo "train_full_disk: the uninterrupted run failed: $(cat "$T/ref.err")"; exit 1; }

tries=0 survived=0 resumed=0 half=0
for size in $sizes; do
  tries=$((tries + 1))
  m="$T/mnt-$size"
  mkdir "$m"
  mount -t tmpfs -o "size=$size" tmpfs "$m" || { echo "cannot mount tmpfs size=$size" >&2; continue; }
  mounted+=("$m")
  why=
  "$G" train "$S" "${RUN[@]}" --checkpoint-every $EVERY --timeout 5 --out "$m/run" >/dev/null 2>"$T/err-$size"
  rc=$?
  [ "$rc" -eq 0 ] && why="the run did not fill the disk (exit 0)"
  [ -z "$why" ] && [ "$rc" -ne 1 ] && [ "$rc" -ne 2 ] && why="exit $rc"
  # rank 0's progress (one line per epoch) may come before it; the error is one line, the last
  [ -z "$why" ] && [ "$(grep -c . "$T/err-$size")" -ne "$(($(grep -c '^epoch ' "$T/err-$size") + 1))" ] && why="error not one line"
  [ -z "$why" ] && ! tail -1 "$T/err-$size" | grep -q "^gcsim train: .*No space left on device" && why="does not say the disk is full"
  [ -e "$m/run" ] && why="${why:-wrote $m/run}"
  h=$(half_written "$m")
  half=$((half + h))
  [ -z "$why" ] && [ "$h" -ne 0 ] && why="$h bytes half-written"
  ck=$(resume_dir "$T/err-$size")
  if [ -z "$why" ] && [ -n "$ck" ]; then
    "$G" train "$S" "${RUN[@]}" --checkpoint-every $EVERY --resume "$ck" --out "$T/res-$size" >/dev/null 2>"$T/rerr" \
      || why="resume failed: $(cat "$T/rerr")"
    if [ -z "$why" ]; then diffs=$(same_run "$T/ref" "$T/res-$size") || why="resumed run differs:$diffs"; fi
    [ -z "$why" ] && resumed=$((resumed + 1))
  elif [ -z "$why" ] && ls -d "$m"/run.partial-* >/dev/null 2>&1; then
    why="left a partial directory without a checkpoint"
  fi
  if [ -z "$why" ]; then
    survived=$((survived + 1))
  else
    echo "tmpfs size=$size: $why ($(tail -1 "$T/err-$size"))" >&2
  fi
  umount "$m" && unset 'mounted[-1]'
done
echo "train_full_disk: $tries tries, $survived survived, $((tries - survived)) failed; $resumed resumed bit-identically from the checkpoint kept, $half bytes half-written"
[ "$survived" -eq "$tries" ]
