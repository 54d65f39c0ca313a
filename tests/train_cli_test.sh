#!/usr/bin/env bash
# gcsim train end to end: real worker processes over real Gloo (TCP on
# loopback) on the real Fashion-MNIST files, for a few steps. Checks the
# run's files, bitwise resume from a checkpoint, one-line errors with exit 2
# and no output on bad input, and that a killed worker fails the run within
# the timeout instead of hanging. Usage: train_cli_test.sh path/to/gcsim
set -u
G=${1:?usage: train_cli_test.sh path/to/gcsim}
DATA=/usr/share/datasets/fashion-mnist
if [ ! -d "$DATA" ]; then echo "SKIP: $DATA missing (apt-get install dataset-fashion-mnist)"; exit 77; fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/cli_helpers.sh"  # fail, expect_error

S=scenarios/train/fashion-p4.toml
QUICK=(--set cluster.workers=2 --set data.limit_train=512 --set data.limit_test=500 --set training.epochs=2)

# --- 2 workers, 2 epochs of 8 steps, Top-K 1% with error feedback over Gloo ------
$G train $S "${QUICK[@]}" --out "$T/run" >"$T/sum.txt" 2>"$T/err" || fail "train: $(cat "$T/err")"
for f in summary.txt summary.json epochs.csv steps-rank0.csv steps-rank1.csv checkpoint/rank-0.ckpt checkpoint/rank-1.ckpt; do
  [ -s "$T/run/$f" ] || fail "run lacks $f"
done
[ "$(wc -l <"$T/run/epochs.csv")" -eq 3 ] || fail "epochs.csv: header + 2 epochs"
[ "$(wc -l <"$T/run/steps-rank1.csv")" -eq 17 ] || fail "steps-rank1.csv: header + 16 steps"
grep -q "replicas identical: yes" "$T/sum.txt" || fail "summary: replicas identical: $(cat "$T/sum.txt")"
grep -q '"backend": "gloo"' "$T/run/summary.json" || fail "ran over gloo"
grep -qE '"final_test_accuracy": 0\.[2-9]' "$T/run/summary.json" || fail "learned something in 16 steps: $(grep accuracy "$T/run/summary.json")"
# every step sent the same Top-K payload: 2 workers, per layer k = ceil(0.01 n) entries of 8 B (5 + 129 + 1883 + 13),
# and no byte counts (k is known on every rank)
awk -F, 'NR > 1 && $15 != 16240 { bad = 1 } END { exit bad }' "$T/run/steps-rank0.csv" \
  || fail "bytes per step: $(sed -n 2p "$T/run/steps-rank0.csv")"
[ ! -e "$T/run/.rendezvous" ] || fail "rendezvous store left behind"
ls -d "$T"/run.partial-* >/dev/null 2>&1 && fail "partial run directory left behind"

# --- stop after 5 steps, resume: bitwise the same parameters, momentum, residuals ---
$G train $S "${QUICK[@]}" --stop-after 5 --out "$T/a" >/dev/null 2>"$T/err" || fail "stop-after: $(cat "$T/err")"
grep -q "stopped early" "$T/a/summary.txt" || fail "summary says stopped early"
$G train $S "${QUICK[@]}" --resume "$T/a/checkpoint" --out "$T/b" >/dev/null 2>"$T/err" || fail "resume: $(cat "$T/err")"
for r in 0 1; do
  cmp -s "$T/run/checkpoint/rank-$r.ckpt" "$T/b/checkpoint/rank-$r.ckpt" || fail "resumed rank $r differs from the uninterrupted run"
done
expect_error 2 "different configuration" -- $G train $S "${QUICK[@]}" --set optimizer.lr=0.01 --resume "$T/a/checkpoint" --out "$T/c"
[ ! -e "$T/c" ] || fail "refused resume wrote a run"
expect_error 2 "cannot resume a PowerSGD run with warm_start" -- $G train $S "${QUICK[@]}" --set 'compression.method="powersgd"' --resume "$T/a/checkpoint" --out "$T/c"
[ ! -e "$T/c" ] || fail "refused PowerSGD resume wrote a run"

# --- every method of compress/ trains from the same scenario (threads, one short epoch) -----
M=(--set cluster.workers=2 --set data.limit_train=256 --set data.limit_test=200 --set training.epochs=1 --backend inprocess)
for m in none fp16 bf16 powersgd signsgd qsgd topk; do
  $G train $S "${M[@]}" --set "compression.method=\"$m\"" --out "$T/m-$m" >"$T/m.txt" 2>"$T/err" || fail "train $m: $(cat "$T/err")"
  grep -q "replicas identical: yes" "$T/m.txt" || fail "$m: replicas differ"
done
bytes() { tail -1 "$T/m-$1/epochs.csv" | cut -d, -f8; }
[ "$(( $(bytes none) ))" -eq "$(( 2 * $(bytes fp16) ))" ] || fail "fp16 sends half of dense: $(bytes fp16) vs $(bytes none)"
[ "$(bytes bf16)" = "$(bytes fp16)" ] || fail "bf16 sends what fp16 sends"
for m in powersgd signsgd qsgd; do
  [ "$(bytes "$m")" -lt "$(bytes fp16)" ] || fail "$m sends less than fp16 at P = 2: $(bytes "$m")"
done

# --- the sparse exchanges over real Gloo processes: P = 3 (not a power of two) -----
X=(--set cluster.workers=3 --set data.limit_train=384 --set data.limit_test=300 --set training.epochs=1)
for e in gtopk sparse-allreduce; do
  $G train $S "${X[@]}" --set "compression.exchange=\"$e\"" --out "$T/x-$e" >"$T/x.txt" 2>"$T/err" || fail "train exchange $e: $(cat "$T/err")"
  grep -q "replicas identical: yes" "$T/x.txt" || fail "exchange $e: replicas differ"
  grep -q "\"variant\": \"topk 1% $e-exchange" "$T/x-$e/summary.json" || fail "exchange $e: $(grep variant "$T/x-$e/summary.json")"
done
# Rank 0 (epochs.csv's bytes) is gtopk's root: it sends the broadcast, 2 messages of k pairs per step;
# in the sparse allreduce it sends the 2- and then the 3-rank sum, almost 2k and 3k pairs.
xbytes() { tail -1 "$T/x-$1/epochs.csv" | cut -d, -f8; }
# The sparse allreduce's measured fill-in: rank 0 merges the hand-off (2 ranks) then round 0 (3 ranks), every step.
F="$T/x-sparse-allreduce/fill-in.csv"
[ "$(head -1 "$F")" = "global_step,bucket,n,k,ranks,nonzeros,dense" ] || fail "fill-in.csv header: $(head -1 "$F")"
[ "$(awk -F, 'NR > 1 && $5 == 3' "$F" | wc -l)" = "$(awk -F, 'NR > 1 && $5 == 2' "$F" | wc -l)" ] || fail "fill-in.csv: a 2- and a 3-rank merge per step"
awk -F, 'NR > 1 && ($6 < $4 || $6 > $5 * $4) { exit 1 }' "$F" || fail "fill-in.csv: nonzeros outside [k, ranks k]"
[ ! -e "$T/x-gtopk/fill-in.csv" ] || fail "gtopk wrote a fill-in.csv"
# The hierarchical exchange: P = 4 as 2 nodes of 2 (reduce-scatter and allgather between a node's 2 processes)
H=(--set cluster.workers=4 --set cluster.gpus_per_node=2 --set cluster.intra_node.bandwidth_gbps=100
   --set cluster.intra_node.latency_us=1 --set data.limit_train=512 --set data.limit_test=300 --set training.epochs=1)
# (through an exec prefix that records {rank} and {node}: rank / gpus_per_node, as tools/netem.sh --gpus-per-node uses it)
printf '#!/bin/sh\necho "$1 $2" >>"%s/nodes"\nshift 2\nexec "$@"\n' "$T" >"$T/record.sh"
chmod +x "$T/record.sh"
$G train $S "${H[@]}" --set 'compression.exchange="hierarchical"' --exec-prefix "$T/record.sh {rank} {node}" \
  --out "$T/x-hier" >"$T/x.txt" 2>"$T/err" || fail "train hierarchical: $(cat "$T/err")"
[ "$(sort "$T/nodes" | tr '\n' ,)" = "0 0,1 0,2 1,3 1," ] || fail "exec prefix {node}: $(cat "$T/nodes")"
grep -q "replicas identical: yes" "$T/x.txt" || fail "hierarchical: replicas differ"
grep -q '"variant": "topk 1% hierarchical-exchange' "$T/x-hier/summary.json" || fail "hierarchical: $(grep variant "$T/x-hier/summary.json")"
expect_error 2 "exchange: \"hierarchical\" needs a two-level cluster" -- $G train $S --set 'compression.exchange="hierarchical"' --out "$T/x-no"
[ "$(xbytes gtopk)" -lt "$(xbytes sparse-allreduce)" ] || fail "gtopk sends less than the sparse allreduce"
# exchange = "auto": the simulator's choice for this cluster, named, then trained
$G train $S "${X[@]}" --set 'compression.exchange="auto"' --out "$T/x-auto" >"$T/x.txt" 2>"$T/err" || fail "train exchange auto: $(cat "$T/err")"
grep -q "^auto  .*exchange" "$T/x.txt" || fail "auto: no choice printed: $(head -3 "$T/x.txt")"
grep -q '"auto_choice": ".*ms' "$T/x-auto/summary.json" || fail "auto: summary lacks the choice"
expect_error 2 "exchange: \"gtopk\" needs every rank to send the same k" -- \
  $G train $S "${X[@]}" --set 'compression.method="threshold"' --set 'compression.exchange="gtopk"' --out "$T/x-bad"
[ ! -e "$T/x-bad" ] || fail "refused gtopk wrote a run"

# --- in-process backend: the same training, threads instead of processes ----------
$G train $S "${QUICK[@]}" --backend inprocess --out "$T/ip" >/dev/null 2>"$T/err" || fail "inprocess: $(cat "$T/err")"
grep -q '"backend": "inprocess"' "$T/ip/summary.json" || fail "ran in-process"

grep -q '"device": "cpu' "$T/ip/summary.json" || fail "summary names the device: $(grep device "$T/ip/summary.json")"

# --- --device cuda: a short run on a GPU machine; elsewhere one line, exit 2 -------
if nvidia-smi -L >/dev/null 2>&1; then
  $G train $S "${QUICK[@]}" --device cuda --out "$T/gpu" >/dev/null 2>"$T/err" || fail "--device cuda: $(cat "$T/err")"
  grep -q '"device": "cuda:' "$T/gpu/summary.json" || fail "--device cuda: summary $(grep device "$T/gpu/summary.json")"
  grep -q "replicas identical: yes" "$T/gpu/summary.txt" || fail "--device cuda: replicas differ"
else
  expect_error 2 "^gcsim train: --device cuda: " -- $G train $S "${QUICK[@]}" --device cuda --out "$T/x"
  [ ! -e "$T/x" ] || fail "--device cuda without a GPU wrote $T/x"
fi
expect_error 2 "--device tpu: must be cpu or cuda" -- $G train $S "${QUICK[@]}" --device tpu --out "$T/x"

# --- --comm: gloo always; nccl needs --device cuda, NCCL and a GPU per rank ---------
expect_error 2 "^gcsim train: --comm bogus: must be auto, gloo or nccl$" -- $G train $S "${QUICK[@]}" --comm bogus --out "$T/x"
expect_error 2 "^gcsim train: --comm nccl: needs --device cuda" -- $G train $S "${QUICK[@]}" --comm nccl --out "$T/x"
expect_error 2 "^gcsim train: --comm nccl: needs worker processes" -- \
  $G train $S "${QUICK[@]}" --backend inprocess --comm nccl --device cuda --out "$T/x"
expect_error 2 "^gcsim train: --comm nccl: needs --device cuda" -- \
  $G train $S "${QUICK[@]}" --rendezvous "$T" --rank 0 --world-size 2 --comm nccl --out "$T/x"
GPUS=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU' || true)
if [ "$GPUS" -ge 2 ]; then  # 2 ranks, a GPU each: auto takes NCCL
  $G train $S "${QUICK[@]}" --device cuda --out "$T/nccl" >/dev/null 2>"$T/err" || fail "--device cuda over nccl: $(cat "$T/err")"
  grep -q '"backend": "nccl"' "$T/nccl/summary.json" || fail "auto with 2 GPUs: $(grep backend "$T/nccl/summary.json")"
  grep -q "replicas identical: yes" "$T/nccl/summary.txt" || fail "nccl: replicas differ"
elif [ "$GPUS" -eq 1 ]; then  # 2 ranks on 1 GPU: NCCL cannot, auto stays on gloo
  expect_error 2 "^gcsim train: --comm nccl: 2 ranks on this host but 1 GPU " -- \
    $G train $S "${QUICK[@]}" --device cuda --comm nccl --out "$T/x"
else
  expect_error 2 "^gcsim train: --comm nccl: NCCL cannot be used here: " -- \
    $G train $S "${QUICK[@]}" --device cuda --comm nccl --out "$T/x"
  expect_error 2 "^gcsim train: --comm nccl: NCCL cannot be used here: " -- \
    $G train $S "${QUICK[@]}" --device cuda --rendezvous "$T" --rank 0 --world-size 2 --comm nccl --out "$T/x"
fi
[ ! -e "$T/x" ] || fail "a refused --comm wrote $T/x"
ls -d "$T"/x.partial-* >/dev/null 2>&1 && fail "a refused --comm left a partial run directory"

# --- bad input: exit 2, one line, nothing written ---------------------------------
cp -r "$T/run/summary.txt" "$T/keep.txt"
expect_error 2 "already exists" -- $G train $S "${QUICK[@]}" --out "$T/run"
cmp -s "$T/run/summary.txt" "$T/keep.txt" || fail "existing run changed"
expect_error 2 "nowhere.*(not a directory|no such)" -- $G train $S "${QUICK[@]}" --set data.dir=\"$T/nowhere\" --out "$T/x"
mkdir "$T/cut"
cp "$DATA"/*.gz "$T/cut/"
head -c 100000 "$DATA/train-images-idx3-ubyte.gz" >"$T/cut/train-images-idx3-ubyte.gz"
expect_error 2 "train-images-idx3-ubyte.gz: .*truncated" -- $G train $S "${QUICK[@]}" --set data.dir=\"$T/cut\" --out "$T/x"
expect_error 2 "optimizer.lr: must be > 0" -- $G train $S --set optimizer.lr=0 --out "$T/x"
expect_error 2 "--hosts: lists 1 addresses for 2 workers" -- $G train $S "${QUICK[@]}" --hosts 127.0.0.1 --out "$T/x"
expect_error 2 "--out: is required" -- $G train $S
# training that diverges: NaN gradients are refused, named by step and layer, in one line
expect_error 2 "rank [01]: step [0-9]+: gradient of .*non-finite.*lower \[optimizer\] lr" -- \
  $G train $S "${QUICK[@]}" --set optimizer.lr=1e6 --set compression.method=none --out "$T/x"
[ ! -e "$T/x" ] || fail "refused run wrote $T/x"

# --- a worker killed mid-run: the run fails within the timeout, nothing left ------
$G train $S --set cluster.workers=2 --set data.limit_train=20000 --timeout 5 --out "$T/k" >/dev/null 2>"$T/kerr" &
launcher=$!
for _ in $(seq 1 300); do
  f=$(ls "$T"/k.partial-*/steps-rank1.csv 2>/dev/null | head -1)
  [ -n "$f" ] && [ "$(wc -l <"$f")" -ge 3 ] && break
  sleep 0.1
done
victim=$(pgrep -P "$launcher" -f -- "--worker-rank 1" | head -1)
if [ -z "$victim" ]; then fail "no rank-1 worker to kill"; kill "$launcher"; else
  start=$(date +%s)
  kill -9 "$victim"
  wait "$launcher"; rc=$?
  took=$(($(date +%s) - start))
  [ "$rc" -eq 1 ] || fail "killed worker: exit $rc, want 1 ($(cat "$T/kerr"))"
  [ "$took" -le 12 ] || fail "killed worker: the run took $took s to fail (timeout 5 s)"
  grep -q "rank 1: was killed by signal" "$T/kerr" || fail "killed worker: stderr $(cat "$T/kerr")"
  [ ! -e "$T/k" ] || fail "failed run wrote its output directory"
  ls -d "$T"/k.partial-* >/dev/null 2>&1 && fail "failed run left its partial directory"
fi

# --- emulated compute: ResNet-18's real gradient sizes, 3 workers over Gloo, sleeps for compute ------
E=(--set model.name=resnet18 --set compute.emulate=true --set compute.emulate_steps=3 --set cluster.workers=3
   --set compute.forward_backward_ms=50 --set training.overlap=true --set compression.granularity=bucket)
$G train $S "${E[@]}" --out "$T/emu" >"$T/out" 2>"$T/err" || fail "emulated run: $(tail -n 3 "$T/err")"
grep -q "emulated compute: resnet18 (11689512 parameters)" "$T/out" || fail "emulated run: summary $(cat "$T/out")"
grep -q "3 steps of emulated compute (no model: no accuracy)" "$T/out" || fail "emulated run: progress line"
grep -q "replicas identical: yes" "$T/out" || fail "emulated run: the ranks' averages differ"
[ "$(wc -l <"$T/emu/buckets-rank2.csv")" = 7 ] || fail "emulated run: want 3 steps x 2 buckets in buckets-rank2.csv"
[ ! -e "$T/emu/checkpoint" ] || [ -z "$(ls "$T/emu/checkpoint")" ] || fail "emulated run wrote checkpoints"
expect_error 2 "--stop-after: does not apply to a run with compute.emulate" -- $G train $S "${E[@]}" --stop-after 1 --out "$T/emu2"
expect_error 2 "model.name.*simplecnn.*compute.emulate = true" -- $G train $S --set model.name=resnet18 --out "$T/emu3"
[ ! -e "$T/emu2" ] && [ ! -e "$T/emu3" ] || fail "a refused emulated run wrote its directory"

if [ "$fails" -ne 0 ]; then echo "$fails failure(s)"; exit 1; fi
echo "train cli tests passed"
