#!/usr/bin/env bash
# gcsim train under faults and hostile input: real worker processes over real
# Gloo on the real Fashion-MNIST files, a few steps each. Checks that bad
# --hosts / --exec-prefix / --out / model keys / batch sizes are one line and
# exit 2; that a failed run keeps its checkpoints and says how to resume;
# that SIGKILL of the launcher takes its workers with it; that a SIGSTOPped
# worker is named promptly; that a resumed run's logs continue the model's;
# and (reduced) the fault scripts of tools/fault/.
# Usage: train_fault_test.sh path/to/gcsim
set -u
G=${1:?usage: train_fault_test.sh path/to/gcsim}
G=$(realpath "$G")
DATA=/usr/share/datasets/fashion-mnist
if [ ! -d "$DATA" ]; then echo "SKIP: $DATA missing (apt-get install dataset-fashion-mnist)"; exit 77; fi
T=$(mktemp -d)
cleanup() {
  # no worker of ours may outlive the test
  local pids
  pids=$(pgrep -f -- "--run-dir $T/")
  [ -n "$pids" ] && kill -KILL $pids 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT
. "$(dirname "$0")/cli_helpers.sh"  # fail, expect_error
nothing_written() {  # nothing_written DIR: neither DIR nor DIR.partial-*
  [ ! -e "$1" ] || fail "refused run wrote $1"
  ls -d "$1".partial-* >/dev/null 2>&1 && fail "refused run left $(ls -d "$1".partial-*)"
}
# wait_steps GLOB N: until the first file matching GLOB has N lines (at most 30 s)
wait_steps() {
  local f
  for _ in $(seq 1 600); do
    f=$(ls $1 2>/dev/null | head -1)
    [ -n "$f" ] && [ "$(wc -l <"$f")" -ge "$2" ] && return 0
    sleep 0.05
  done
  return 1
}
worker_pid() {  # worker_pid LAUNCHER RANK
  pgrep -P "$1" -f -- "--worker-rank $2" | head -1
}

S=scenarios/train/fashion-p4.toml
QUICK=(--set cluster.workers=2 --set data.limit_train=256 --set data.limit_test=100 --set training.epochs=1)
LONG=(--set cluster.workers=2 --set data.limit_train=20000 --set data.limit_test=100 --set training.epochs=1)

# --- 1. an address Gloo cannot use is refused before any worker starts ---------
expect_error 2 "^gcsim train: --hosts: .*'bogus\.\.x'" -- $G train $S "${QUICK[@]}" --hosts 127.0.0.1,bogus..x --out "$T/h"
nothing_written "$T/h"
expect_error 2 "^gcsim train: --hosts: .*'300\.1\.1\.1'" -- $G train $S "${QUICK[@]}" --hosts 300.1.1.1,127.0.0.1 --out "$T/h"
nothing_written "$T/h"

expect_error 2 "^gcsim train: --hosts: .*'192\.0\.2\.1' \(rank 1\) is not an address of this machine" -- \
  $G train $S "${QUICK[@]}" --hosts 127.0.0.1,192.0.2.1 --out "$T/h"
nothing_written "$T/h"

# --- 7. model keys train cannot honour ------------------------------------------
expect_error 2 "model\.params: .*gcsim train" -- $G train $S "${QUICK[@]}" --set model.params=1000 --out "$T/m"
expect_error 2 "model\.forward_flops: .*gcsim train" -- $G train $S "${QUICK[@]}" --set model.forward_flops=1e9 --out "$T/m"
nothing_written "$T/m"

# --- 8. an --out that cannot be created: exit 2, one line naming it --------------
expect_error 2 "^gcsim train: --out /proc/gcsim-nope: " -- $G train $S "${QUICK[@]}" --out /proc/gcsim-nope

# --- 9. a batch this machine cannot hold: refused before any allocation ---------
expect_error 2 "model\.batch_per_worker: .*memory" -- $G train $S "${QUICK[@]}" --set model.batch_per_worker=1000000 --out "$T/b"
nothing_written "$T/b"

# --- 4. an --exec-prefix that does not run the worker ----------------------------
expect_error 2 "^gcsim train: --exec-prefix: rank [0-3] \(.true.\) exited with code 0 without running the worker" -- \
  $G train $S "${QUICK[@]}" --set cluster.workers=4 --exec-prefix true --out "$T/e"
nothing_written "$T/e"
expect_error 2 "^gcsim train: --exec-prefix: cannot run /nonexistent/gcsim-prefix: " -- \
  $G train $S "${QUICK[@]}" --set cluster.workers=4 --exec-prefix /nonexistent/gcsim-prefix --out "$T/e"
nothing_written "$T/e"
expect_error 2 "^gcsim train: --exec-prefix: rank [0-3] .*exited with code 2 without running the worker: ls: " -- \
  $G train $S "${QUICK[@]}" --set cluster.workers=4 --exec-prefix "ls /nonexistent/dir" --out "$T/e"
nothing_written "$T/e"
# a prefix that runs the worker is fine
$G train $S "${QUICK[@]}" --exec-prefix "env GCSIM_RANK={rank}" --out "$T/env" >/dev/null 2>"$T/err" \
  || fail "--exec-prefix env: $(cat "$T/err")"

# --- 3. SIGKILL of the launcher takes the workers with it -------------------------
$G train $S "${LONG[@]}" --out "$T/pk" >/dev/null 2>&1 &
launcher=$!
wait_steps "$T/pk.partial-*/steps-rank1.csv" 3 || fail "launcher kill: no steps"
[ -n "$(worker_pid $launcher 1)" ] || fail "launcher kill: no workers"
kill -9 $launcher
wait $launcher 2>/dev/null
gone=no
for _ in $(seq 1 50); do
  if ! pgrep -f -- "--run-dir $T/pk.partial-" >/dev/null; then gone=yes; break; fi
  sleep 0.1
done
[ "$gone" = yes ] || fail "workers survived SIGKILL of their launcher: $(pgrep -af -- "--run-dir $T/pk.partial-")"

# --- 5. a stopped worker is named within seconds, not after 2 x --timeout ---------
$G train $S "${LONG[@]}" --out "$T/st" >/dev/null 2>"$T/sterr" &
launcher=$!
wait_steps "$T/st.partial-*/steps-rank1.csv" 3 || fail "stop: no steps"
victim=$(worker_pid $launcher 1)
start=$(date +%s)
kill -STOP "$victim"
wait $launcher; rc=$?
took=$(($(date +%s) - start))
[ "$rc" -eq 1 ] || fail "stopped worker: exit $rc, want 1 ($(cat "$T/sterr"))"
[ "$took" -le 20 ] || fail "stopped worker: reported after $took s"
[ "$(wc -l <"$T/sterr")" -eq 1 ] || fail "stopped worker: stderr is not one line: $(cat "$T/sterr")"
grep -q "^gcsim train: rank 1: .*stopped" "$T/sterr" || fail "stopped worker: stderr $(cat "$T/sterr")"
kill -KILL "$victim" 2>/dev/null

# --- 2. a failed run keeps its checkpoints and says how to resume -----------------
$G train $S "${LONG[@]}" --checkpoint-every 2 --timeout 5 --out "$T/k" >/dev/null 2>"$T/kerr" &
launcher=$!
wait_steps "$T/k.partial-*/steps-rank1.csv" 6 || fail "kill: no steps"
kill -9 "$(worker_pid $launcher 1)"
wait $launcher; rc=$?
[ "$rc" -eq 1 ] || fail "killed worker: exit $rc ($(cat "$T/kerr"))"
[ "$(wc -l <"$T/kerr")" -eq 1 ] || fail "killed worker: stderr is not one line: $(cat "$T/kerr")"
grep -q "rank 1: was killed by signal" "$T/kerr" || fail "killed worker: stderr $(cat "$T/kerr")"
ck=$(sed -n 's/.*--resume \([^ ;)]*\).*/\1/p' "$T/kerr")
[ -n "$ck" ] && [ -s "$ck/rank-0.ckpt" ] && [ -s "$ck/rank-1.ckpt" ] || fail "killed worker: no checkpoint kept ($(cat "$T/kerr"))"
# it resumes (--stop-after 0: stop at once, where the checkpoint is)
$G train $S "${LONG[@]}" --resume "$ck" --stop-after 0 --out "$T/k2" >/dev/null 2>"$T/err" || fail "resume the kept checkpoint: $(cat "$T/err")"
[ ! -e "$T/k" ] || fail "failed run wrote its output directory"
[ ! -e "$(dirname "$ck")/.rendezvous" ] || fail "failed run left its rendezvous store"

# an interrupted run keeps its checkpoint too, and only what is worth keeping
$G train $S "${LONG[@]}" --checkpoint-every 2 --out "$T/int" >/dev/null 2>"$T/ierr" &
launcher=$!
wait_steps "$T/int.partial-*/steps-rank1.csv" 6 || fail "interrupt: no steps"
kill -INT $launcher
wait $launcher; rc=$?
[ "$rc" -eq 130 ] || fail "interrupted: exit $rc ($(cat "$T/ierr"))"
ck=$(sed -n 's/.*--resume \([^ ;)]*\).*/\1/p' "$T/ierr")
[ -n "$ck" ] && [ -s "$ck/rank-1.ckpt" ] || fail "interrupted: no checkpoint kept ($(cat "$T/ierr"))"
[ -n "$ck" ] && [ "$(ls "$(dirname "$ck")" | tr '\n' ' ')" = "buckets-rank0.csv buckets-rank1.csv checkpoint epochs.csv steps-rank0.csv steps-rank1.csv " ] \
  || fail "interrupted: kept $(ls "$(dirname "$ck")" | tr '\n' ' ')"

# --- 6. a resumed run's logs continue the model's --------------------------------
R2=(--set cluster.workers=2 --set data.limit_train=512 --set data.limit_test=100 --set training.epochs=3)
$G train $S "${R2[@]}" --out "$T/whole" >/dev/null 2>"$T/err" || fail "whole: $(cat "$T/err")"
$G train $S "${R2[@]}" --stop-after 12 --out "$T/part" >/dev/null 2>"$T/err" || fail "part: $(cat "$T/err")"
$G train $S "${R2[@]}" --resume "$T/part/checkpoint" --out "$T/rest" >"$T/rest.txt" 2>"$T/err" || fail "rest: $(cat "$T/err")"
strip_time() { cut -d, -f1-6,8- "$1"; }  # epochs.csv without epoch_s
[ "$(strip_time "$T/whole/epochs.csv")" = "$(strip_time "$T/rest/epochs.csv")" ] \
  || fail "resumed epochs.csv differs: $(diff <(strip_time "$T/whole/epochs.csv") <(strip_time "$T/rest/epochs.csv"))"
for key in epochs_run global_steps final_test_accuracy best_test_accuracy final_test_loss bytes_sent_rank0; do
  a=$(grep "\"$key\"" "$T/whole/summary.json"); b=$(grep "\"$key\"" "$T/rest/summary.json")
  [ "$a" = "$b" ] || fail "resumed summary: $a vs $b"
done
grep -q "progress        3 of 3 epochs, 24 steps" "$T/rest.txt" || fail "resumed progress: $(grep progress "$T/rest.txt")"
for r in 0 1; do
  cmp -s "$T/whole/checkpoint/rank-$r.ckpt" "$T/rest/checkpoint/rank-$r.ckpt" || fail "resumed rank $r checkpoint differs"
  [ "$(cut -d, -f1-6 "$T/whole/steps-rank$r.csv")" = "$(cut -d, -f1-6 "$T/rest/steps-rank$r.csv")" ] \
    || fail "resumed steps-rank$r.csv does not continue the first part's"
done

if [ "$fails" -ne 0 ]; then echo "$fails failure(s)"; exit 1; fi
echo "train fault tests passed"
