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
# ONLY (a space-separated subset of the run names below), SKIP_SHAPED=1.
# Existing run directories are kept and not re-run (delete one to redo it).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-reports/training}
GCSIM=${GCSIM:-build/release/gcsim}
EPOCHS=${EPOCHS:-10}
SHAPED_EPOCHS=${SHAPED_EPOCHS:-2}
RATE_MBIT=${RATE_MBIT:-100}
SCENARIO=scenarios/train/fashion-p4.toml
[ -x "$GCSIM" ] || { echo "train-experiments: $GCSIM not built (cmake --preset release && cmake --build build/release)" >&2; exit 2; }
mkdir -p "$OUT/runs"

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
)
# The methods practitioners compare against (issue 12): ONLY="$BASELINES" runs just those.
BASELINES="fp16 bf16 powersgd-r1 powersgd-r2 powersgd-r4 powersgd-r1-noef powersgd-r2-noef powersgd-r4-noef ef-signsgd signsgd-majority qsgd-8bit qsgd-4bit qsgd-2bit topk-ef-0.001-warmup"
NAMES=${ONLY:-"dense topk-ef-0.01 topk-ef-mc-0.01 topk-ef-0.1 topk-ef-0.001 topk-noef-0.001"}

for name in $NAMES; do
  dir="$OUT/runs/loopback-$name"
  if [ -d "$dir" ]; then echo "train-experiments: keeping $dir"; continue; fi
  echo "train-experiments: loopback $name ($EPOCHS epochs)"
  # shellcheck disable=SC2086
  "$GCSIM" train "$SCENARIO" ${SETS[$name]} --set training.epochs="$EPOCHS" --out "$dir"
done

if [ "${SKIP_SHAPED:-0}" != 1 ]; then
  for name in $NAMES; do
    dir="$OUT/runs/shaped${RATE_MBIT}-$name"
    if [ -d "$dir" ]; then echo "train-experiments: keeping $dir"; continue; fi
    echo "train-experiments: ${RATE_MBIT} Mbit/s $name ($SHAPED_EPOCHS epochs)"
    # shellcheck disable=SC2086
    tools/netem.sh --workers 4 --rate-mbit "$RATE_MBIT" --stats "$OUT/runs/shaped${RATE_MBIT}-$name.netstats.csv" -- \
      "$GCSIM" train "$SCENARIO" ${SETS[$name]} --set training.epochs="$SHAPED_EPOCHS" --out "$dir" \
      2> >(tee "$OUT/runs/shaped${RATE_MBIT}-$name.netem.log" >&2)
  done
fi

# The collectives where the runs ran, between 20 ms compute phases like a training step's
# (gcsim calibrate collectives); the shaped profile feeds the calibrated predictions.
C="$OUT/collectives"
mkdir -p "$C"
CAL=(calibrate collectives --workers 4 --repeats 30 --compute-ms 20 --base reports/kernels/cpu-profile.toml)
if [ ! -e "$C/loopback-p4-compute20.toml" ]; then
  "$GCSIM" "${CAL[@]}" --out "$C/loopback-p4-compute20.toml" --csv "$C/loopback-p4-compute20.csv" \
    >"$C/loopback-p4-compute20.txt"
fi
if [ "${SKIP_SHAPED:-0}" != 1 ] && [ ! -e "$C/shaped${RATE_MBIT}-p4-compute20.toml" ]; then
  tools/netem.sh --workers 4 --rate-mbit "$RATE_MBIT" -- "$GCSIM" "${CAL[@]}" --rate-mbit "$RATE_MBIT" \
    --out "$C/shaped${RATE_MBIT}-p4-compute20.toml" --csv "$C/shaped${RATE_MBIT}-p4-compute20.csv" \
    >"$C/shaped${RATE_MBIT}-p4-compute20.txt" 2>&1
fi
PROFILE=()
[ -e "$C/shaped${RATE_MBIT}-p4-compute20.toml" ] && PROFILE=(--profile "$C/shaped${RATE_MBIT}-p4-compute20.toml")
/usr/bin/python3 tools/plot_training.py "$OUT" --gcsim "$GCSIM" "${PROFILE[@]}"
