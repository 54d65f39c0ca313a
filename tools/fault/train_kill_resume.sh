#!/usr/bin/env bash
# Kill one worker of a real training run (SIGKILL, a random rank at a random
# step), K tries. Each try survives when the run fails cleanly (exit 1, one
# line on stderr naming the killed rank), keeps its checkpoints and says where,
# and --resume from them ends exactly as an uninterrupted run: every rank's
# final checkpoint byte for byte, epochs.csv but for timing, the summary's
# figures. Prints one line of counts; exit 0 only if every try survived.
# Usage: tools/fault/train_kill_resume.sh [--tries K] [--seed N] path/to/gcsim
set -u
tries=10 seed=$$
while [ $# -gt 1 ]; do
  case $1 in
    --tries) tries=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    *) break ;;
  esac
done
G=$(realpath "${1:?usage: train_kill_resume.sh [--tries K] [--seed N] path/to/gcsim}")
cd "$(dirname "$0")/../.."
T=$(mktemp -d)
launcher=
cleanup() { [ -n "$launcher" ] && kill -KILL "$launcher" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
. tools/fault/train_common.sh
[ -d "$DATA" ] || { echo "SKIP: $DATA missing"; exit 77; }
RANDOM=$seed
EVERY=3   # --checkpoint-every

"$G" train "$S" "${RUN[@]}" --checkpoint-every $EVERY --out "$T/ref" >/dev/null 2>"$T/ref.err" \
  || { echo "train_kill_resume: the uninterrupted run failed: $(cat "$T/ref.err")"; exit 1; }

survived=0 lost_bytes=0 redone=0
for ((i = 1; i <= tries; i++)); do
  rank=$((RANDOM % WORKERS))
  at=$((EVERY + 1 + RANDOM % (STEPS - EVERY - 3)))   # after the first checkpoint, before the last step
  why=
  "$G" train "$S" "${RUN[@]}" --checkpoint-every $EVERY --timeout 5 --out "$T/k$i" >/dev/null 2>"$T/k$i.err" &
  launcher=$!
  for _ in $(seq 1 500); do f=$(ls "$T"/k$i.partial-*/steps-rank$rank.csv 2>/dev/null | head -1); [ -n "$f" ] && break; sleep 0.02; done
  if ! wait_lines "$f" $((at + 1)); then why="no step $at"; fi
  victim=$(worker_of $launcher $rank)
  [ -n "$victim" ] && kill -KILL "$victim"
  wait $launcher; rc=$?
  launcher=
  [ -z "$why" ] && [ "$rc" -ne 1 ] && why="exit $rc"
  # rank 0's progress (one line per epoch) may come before it; the error is one line, the last
  [ -z "$why" ] && [ "$(grep -c . "$T/k$i.err")" -ne "$(($(grep -c '^epoch ' "$T/k$i.err") + 1))" ] && why="error not one line"
  [ -z "$why" ] && ! tail -1 "$T/k$i.err" | grep -q "^gcsim train: rank $rank: was killed by signal" && why="does not name rank $rank"
  ck=$(resume_dir "$T/k$i.err")
  [ -z "$why" ] && [ -z "$ck" ] && why="no checkpoint kept"
  if [ -z "$why" ]; then
    lost_bytes=$((lost_bytes + $(half_written "$(dirname "$ck")")))
    done_steps=$(($(wc -l <"$f") - 1))
    redone=$((redone + done_steps - $(step_of "$ck")))
    "$G" train "$S" "${RUN[@]}" --checkpoint-every $EVERY --resume "$ck" --out "$T/r$i" >/dev/null 2>"$T/r$i.err" \
      || why="resume failed: $(cat "$T/r$i.err")"
  fi
  if [ -z "$why" ]; then
    diffs=$(same_run "$T/ref" "$T/r$i") || why="resumed run differs:$diffs"
  fi
  if [ -z "$why" ]; then
    survived=$((survived + 1))
  else
    echo "try $i (rank $rank killed at step $at): $why ($(tail -1 "$T/k$i.err"))" >&2
  fi
  rm -rf "$T/k$i".partial-* "$T/r$i"
done
echo "train_kill_resume: $tries tries, $survived survived, $((tries - survived)) failed; $lost_bytes bytes half-written, $redone steps redone after resume (checkpoint every $EVERY steps)"
[ "$survived" -eq "$tries" ]
