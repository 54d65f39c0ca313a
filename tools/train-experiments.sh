#!/usr/bin/env bash
# Runs the training experiments of reports/training.md: P = 4 SimpleCNN on
# Fashion-MNIST, dense vs Top-K with error feedback (rho 0.1, 0.01, 0.001) vs
# Top-K without error feedback (rho 0.001), and Top-K 1% with error feedback
# plus DGC's momentum correction, on unshaped loopback and on a
# 100 Mbit/s emulated network (tools/netem.sh, needs root), then calibrates the
# collectives there (gcsim calibrate collectives) and plots, with the simulator's
# predictions from the shipped and the calibrated profile.
#
#   tools/train-experiments.sh [OUT_DIR]      (default reports/training)
#
# Environment: GCSIM (binary, default build/release/gcsim), EPOCHS (loopback
# runs, default 10), SHAPED_EPOCHS (default 2), RATE_MBIT (default 100),
# ONLY (a space-separated subset of the run names below), SKIP_SHAPED=1,
# SKIP_LOOPBACK=1 (the shaped runs only), SKIP_CALIBRATE=1 with
# CALIBRATED=PROFILE.toml (predict with an earlier calibration, not a new one),
# SEED (N > 1: the seed-spread runs, loopback only, as
# OUT_DIR/seeds/loopback-NAME-seedN with --set training.seed=N).
# Existing run directories are kept and not re-run (delete one to redo it).
# A run that fails (a method that diverges: gcsim train stops at the first
# NaN/Inf gradient) leaves DIR.failed with gcsim's message instead of DIR;
# the script goes on with the next run and keeps the marker like a run.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-reports/training}
GCSIM=${GCSIM:-build/release/gcsim}
EPOCHS=${EPOCHS:-10}
SHAPED_EPOCHS=${SHAPED_EPOCHS:-2}
RATE_MBIT=${RATE_MBIT:-100}
SCENARIO=scenarios/train/fashion-p4.toml
SEED=${SEED:-1}
[ -x "$GCSIM" ] || { echo "train-experiments: $GCSIM not built (cmake --preset release && cmake --build build/release)" >&2; exit 2; }
mkdir -p "$OUT/runs"

P8="--set cluster.workers=8 --set model.batch_per_worker=16"
# Two nodes of two (netem.sh --gpus-per-node 2: a node's workers share its NIC and talk over loopback;
# the intra-node figures only feed the simulator's prediction)
N2X2="--set cluster.gpus_per_node=2 --set cluster.intra_node.bandwidth_gbps=10 --set cluster.intra_node.latency_us=20"
declare -A SETS=(
  [dense]="--set compression.method=none"
  [topk-ef-0.1]="--set compression.method=topk --set compression.ratio=0.1 --set compression.error_feedback=true"
  [topk-ef-0.01]="--set compression.method=topk --set compression.ratio=0.01 --set compression.error_feedback=true"
  [topk-ef-0.001]="--set compression.method=topk --set compression.ratio=0.001 --set compression.error_feedback=true"
  [topk-ef-mc-0.01]="--set compression.method=topk --set compression.ratio=0.01 --set compression.error_feedback=true --set compression.momentum_correction=true"
  [topk-noef-0.001]="--set compression.method=topk --set compression.ratio=0.001 --set compression.error_feedback=false"
  [topk-ef-0.001-warmup]="--set compression.method=topk --set compression.ratio=0.001 --set compression.warmup_epochs=4"
  [fp16]="--set compression.method=fp16"
  [bf16]="--set compression.method=bf16"
  [powersgd-r1]="--set compression.method=powersgd --set compression.rank=1"
  [powersgd-r2]="--set compression.method=powersgd --set compression.rank=2"
  [powersgd-r4]="--set compression.method=powersgd --set compression.rank=4"
  [powersgd-r1-noef]="--set compression.method=powersgd --set compression.rank=1 --set compression.error_feedback=false"
  [powersgd-r2-noef]="--set compression.method=powersgd --set compression.rank=2 --set compression.error_feedback=false"
  [powersgd-r4-noef]="--set compression.method=powersgd --set compression.rank=4 --set compression.error_feedback=false"
  [ef-signsgd]="--set compression.method=signsgd"
  [signsgd-majority]="--set compression.method=signsgd --set compression.majority_vote=true"
  [qsgd-8bit]="--set compression.method=qsgd --set compression.bits=8"
  [qsgd-4bit]="--set compression.method=qsgd --set compression.bits=4"
  [qsgd-2bit]="--set compression.method=qsgd --set compression.bits=2"
  [qsgd-4bit-d512]="--set compression.method=qsgd --set compression.bits=4 --set compression.chunk=512"
  [qsgd-2bit-d512]="--set compression.method=qsgd --set compression.bits=2 --set compression.chunk=512"
  [topk-ef-0.01-gtopk]="--set compression.method=topk --set compression.ratio=0.01 --set compression.exchange=gtopk"
  [topk-ef-0.01-sparse-allreduce]="--set compression.method=topk --set compression.ratio=0.01 --set compression.exchange=sparse-allreduce"
  # P = 8 (issue 13: where the exchanges part from allgather), the same global batch of 128
  [dense-p8]="$P8 --set compression.method=none"
  [topk-ef-0.01-p8]="$P8 --set compression.method=topk --set compression.ratio=0.01"
  [topk-ef-0.01-gtopk-p8]="$P8 --set compression.method=topk --set compression.ratio=0.01 --set compression.exchange=gtopk"
  [topk-ef-0.01-sparse-allreduce-p8]="$P8 --set compression.method=topk --set compression.ratio=0.01 --set compression.exchange=sparse-allreduce"
  [dense-2x2]="$N2X2 --set compression.method=none"
  [topk-ef-0.01-2x2]="$N2X2 --set compression.method=topk --set compression.ratio=0.01"
  [topk-ef-0.01-hierarchical-2x2]="$N2X2 --set compression.method=topk --set compression.ratio=0.01 --set compression.exchange=hierarchical"
)
# The methods practitioners compare against (issue 12): ONLY="$BASELINES" runs just those.
BASELINES="fp16 bf16 powersgd-r1 powersgd-r2 powersgd-r4 powersgd-r1-noef powersgd-r2-noef powersgd-r4-noef ef-signsgd signsgd-majority qsgd-8bit qsgd-4bit qsgd-2bit qsgd-4bit-d512 qsgd-2bit-d512 topk-ef-0.001-warmup"
# The sparse exchanges (issue 13): ONLY="$EXCHANGES".
EXCHANGES="topk-ef-0.01-gtopk topk-ef-0.01-sparse-allreduce dense-p8 topk-ef-0.01-p8 topk-ef-0.01-gtopk-p8 topk-ef-0.01-sparse-allreduce-p8 dense-2x2 topk-ef-0.01-2x2 topk-ef-0.01-hierarchical-2x2"
# A run's worker count and workers per node (netem.sh's namespaces).
workers_of() { case $1 in *-p8) echo 8 ;; *) echo 4 ;; esac; }
per_node_of() { case $1 in *-2x2) echo 2 ;; *) echo 1 ;; esac; }
NAMES=${ONLY:-"dense topk-ef-0.01 topk-ef-mc-0.01 topk-ef-0.1 topk-ef-0.001 topk-noef-0.001"}

for name in $NAMES; do
  [ -n "${SETS[$name]+x}" ] || { echo "train-experiments: no run named '$name'" >&2; exit 2; }
done

# Ranks 1..P-1 log the same steps as rank 0 but for their own timings: kept gzipped.
gzip_ranks() { for f in "$1"/steps-rank[1-9]*.csv; do [ -e "$f" ] && gzip -9 "$f"; done; return 0; }

# train DIR ARGS...: ARGS --out DIR (gcsim train, maybe under netem.sh); on
# failure DIR.failed holds its last error line. Its stderr is shown when it
# ends; with KEEP_LOG=FILE it is also kept there.
train() {
  local dir=$1 log rc=0
  shift
  log=$(mktemp)
  "$@" --out "$dir" 2>"$log" || rc=$?
  cat "$log" >&2
  [ -n "${KEEP_LOG:-}" ] && cp "$log" "$KEEP_LOG"
  if [ "$rc" = 0 ]; then
    gzip_ranks "$dir"
  else
    { echo "exit $rc: $*"; grep -v -e '^$' -e '^netem: ' "$log" | tail -1; } >"$dir.failed"
    echo "train-experiments: $dir failed (exit $rc), recorded in $dir.failed" >&2
  fi
  rm -f "$log"
}
done_already() { [ -d "$1" ] || [ -e "$1.failed" ]; }

if [ "$SEED" != 1 ]; then
  mkdir -p "$OUT/seeds"
  for name in $NAMES; do
    dir="$OUT/seeds/loopback-$name-seed$SEED"
    if done_already "$dir"; then echo "train-experiments: keeping $dir"; continue; fi
    echo "train-experiments: loopback $name seed $SEED ($EPOCHS epochs)"
    # shellcheck disable=SC2086
    train "$dir" "$GCSIM" train "$SCENARIO" ${SETS[$name]} --set training.seed="$SEED" --set training.epochs="$EPOCHS"
  done
  exit 0
fi

for name in $NAMES; do
  [ "${SKIP_LOOPBACK:-0}" = 1 ] && break
  dir="$OUT/runs/loopback-$name"
  if done_already "$dir"; then echo "train-experiments: keeping $dir"; continue; fi
  echo "train-experiments: loopback $name ($EPOCHS epochs)"
  # shellcheck disable=SC2086
  train "$dir" "$GCSIM" train "$SCENARIO" ${SETS[$name]} --set training.epochs="$EPOCHS"
done

if [ "${SKIP_SHAPED:-0}" != 1 ]; then
  for name in $NAMES; do
    dir="$OUT/runs/shaped${RATE_MBIT}-$name"
    if done_already "$dir"; then echo "train-experiments: keeping $dir"; continue; fi
    echo "train-experiments: ${RATE_MBIT} Mbit/s $name ($SHAPED_EPOCHS epochs)"
    # shellcheck disable=SC2086
    KEEP_LOG="$OUT/runs/shaped${RATE_MBIT}-$name.netem.log" train "$dir" tools/netem.sh --workers "$(workers_of "$name")" --gpus-per-node "$(per_node_of "$name")" --rate-mbit "$RATE_MBIT" \
      --stats "$OUT/runs/shaped${RATE_MBIT}-$name.netstats.csv" -- \
      "$GCSIM" train "$SCENARIO" ${SETS[$name]} --set training.epochs="$SHAPED_EPOCHS"
    [ -d "$dir" ] || rm -f "$OUT/runs/shaped${RATE_MBIT}-$name.netstats.csv" "$OUT/runs/shaped${RATE_MBIT}-$name.netem.log"
  done
fi

# The collectives where the runs ran, between 20 ms compute phases like a training step's
# (gcsim calibrate collectives); the shaped profile feeds the calibrated predictions.
C="$OUT/collectives"
mkdir -p "$C"
CAL=(calibrate collectives --workers 4 --repeats 30 --compute-ms 20 --base reports/kernels/cpu-profile.toml)
if [ "${SKIP_CALIBRATE:-0}" = 1 ]; then
  :
elif [ ! -e "$C/loopback-p4-compute20.toml" ]; then
  "$GCSIM" "${CAL[@]}" --out "$C/loopback-p4-compute20.toml" --csv "$C/loopback-p4-compute20.csv" \
    >"$C/loopback-p4-compute20.txt"
fi
if [ "${SKIP_SHAPED:-0}" != 1 ] && [ "${SKIP_CALIBRATE:-0}" != 1 ] && [ ! -e "$C/shaped${RATE_MBIT}-p4-compute20.toml" ]; then
  tools/netem.sh --workers 4 --rate-mbit "$RATE_MBIT" -- "$GCSIM" "${CAL[@]}" --rate-mbit "$RATE_MBIT" \
    --out "$C/shaped${RATE_MBIT}-p4-compute20.toml" --csv "$C/shaped${RATE_MBIT}-p4-compute20.csv" \
    >"$C/shaped${RATE_MBIT}-p4-compute20.txt" 2>&1
fi
PROFILE=()
CALIBRATED=${CALIBRATED:-$C/shaped${RATE_MBIT}-p4-compute20.toml}
[ -e "$CALIBRATED" ] && PROFILE=(--profile "$CALIBRATED")
/usr/bin/python3 tools/plot_training.py "$OUT" --gcsim "$GCSIM" "${PROFILE[@]}"
