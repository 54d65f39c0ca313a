#!/usr/bin/env bash
# tools/profile_model.py on the CPU, end to end: for SimpleCNN and ResNet-18 at
# a small batch it writes a profile whose [layer_times.MODEL] has the zoo's
# layers and parameter counts layer by layer, whose per-layer times sum to
# within 15 % of the whole step it measured, and on which `gcsim simulate`
# (both backends) prices that step: compute = step_ms (+ the optimizer), twice
# that at twice the batch. Then its errors (one line, exit 2) and the loader's
# check of a tampered section. Skips (77) only where torch is not importable.
# Usage: profile_model_test.sh path/to/gcsim (from the source root)
set -u
G=${1:?usage: profile_model_test.sh path/to/gcsim}
G=$(realpath "$G")
SRC=$PWD
PY=/usr/bin/python3
PM="$PY $SRC/tools/profile_model.py"
BASE=$SRC/scenarios/profiles/default.toml
if ! $PY -c "import torch, torchvision" 2>/dev/null; then
  echo "SKIP: profile_model_test needs Debian's python3-torch and python3-torchvision"
  exit 77
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/cli_helpers.sh"  # fail, expect_error

# A one-worker scenario of MODEL at BATCH on PROFILE (a roofline named, which the measured layers replace).
scenario() {
  cat >"$4" <<EOF
name = "measured-$1"
profile = "$3"
[model]
name = "$1"
batch_per_worker = $2
[compute]
gpu = "H100-SXM"
[cluster]
workers = 1
[cluster.inter_node]
bandwidth_gbps = 10.0
latency_us = 5.0
[compression]
method = "none"
EOF
}

# check_profile MODEL PROFILE: the section against the zoo (gcsim models MODEL --csv), its sum
# against its step, the rest against the base profile; prints step_ms.
check_profile() {
  "$G" models "$1" --csv >"$T/zoo.csv" || { fail "gcsim models $1 --csv failed"; return; }
  $PY - "$1" "$2" "$T/zoo.csv" "$BASE" <<'EOF'
import sys, tomllib
model, path, zoo_csv, base = sys.argv[1:]
doc = tomllib.load(open(path, "rb"))
s = doc["layer_times"][model]
zoo = [line.split(",") for line in open(zoo_csv).read().split()[1:]]
bad = []
if len(s["names"]) != len(zoo):
    bad.append(f"{len(s['names'])} layers, the zoo {len(zoo)}")
for i, (name, _, params, _) in enumerate(zoo):
    if i < len(s["names"]) and (s["names"][i], s["params"][i]) != (name, int(params)):
        bad.append(f"layer {i}: {s['names'][i]} {s['params'][i]}, the zoo {name} {params}")
for key in ("forward_ms", "backward_ms"):
    if len(s[key]) != len(zoo) or min(s[key]) < 0:
        bad.append(f"{key}: {len(s[key])} entries, min {min(s[key])}")
total = sum(s["forward_ms"]) + sum(s["backward_ms"])
if not abs(total / s["step_ms"] - 1) <= 0.15:
    bad.append(f"per-layer sum {total:.4g} ms vs step {s['step_ms']:.4g} ms: {(total / s['step_ms'] - 1) * 100:+.1f} %")
others = {k: v for k, v in doc.items() if k != "layer_times"}
if others != tomllib.load(open(base, "rb")):
    bad.append("the base profile's tables changed")
if bad:
    print(f"{model}: " + "; ".join(bad), file=sys.stderr)
    sys.exit(1)
print(s["step_ms"])
print(f"{model}: step {s['step_ms']:.4g} ms, per-layer sum {total:.4g} ms ({(total / s['step_ms'] - 1) * 100:+.1f} %)",
      file=sys.stderr)
EOF
}

# within A B PCT: |A/B - 1| <= PCT %
within() { $PY -c "import sys; a, b, p = map(float, sys.argv[1:]); sys.exit(0 if abs(a / b - 1) <= p / 100 else 1)" "$@"; }

# simulated KEY of SCENARIO with BACKEND, in ms
simulated_ms() {
  "$G" simulate "$1" --backend "$2" --format json >"$T/sim.json" || { echo nan; return; }
  $PY -c "import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]] * 1e3)" "$T/sim.json" "$3"
}

# --- 1. SimpleCNN and ResNet-18 on the CPU: zoo layers, sum, simulate ------------------
# model batch repeats warmup. Steps of tens of ms or more, so that a busy
# machine's time slices (a few ms) even out within a pass.
for spec in "simplecnn 64 20 3" "resnet18 2 8 1"; do
  read -r m b r w <<<"$spec"
  if ! $PM --model $m --batch $b --repeats $r --warmup $w --threads 1 --gcsim "$G" --into "$BASE" \
       --out "$T/$m.toml" >"$T/$m.log" 2>&1; then
    fail "profile_model.py --model $m: $(cat "$T/$m.log")"; continue
  fi
  cat "$T/$m.log"
  step=$(check_profile $m "$T/$m.toml") || { fail "$m: the written profile"; continue; }
  scenario $m $b "$T/$m.toml" "$T/$m-scenario.toml"
  scenario $m $((2 * b)) "$T/$m.toml" "$T/$m-scenario-2x.toml"
  for backend in des analytic; do
    fb=$(simulated_ms "$T/$m-scenario.toml" $backend forward_s)
    bb=$(simulated_ms "$T/$m-scenario.toml" $backend backward_s)
    sim=$($PY -c "import sys; print(float(sys.argv[1]) + float(sys.argv[2]))" "$fb" "$bb")
    within "$sim" "$step" 2 || fail "$m $backend: simulated forward + backward $sim ms, measured step $step ms"
    opt=$(simulated_ms "$T/$m-scenario.toml" $backend optimizer_s)
    compute=$(simulated_ms "$T/$m-scenario.toml" $backend compute_s)
    within "$compute" "$($PY -c "import sys; print(float(sys.argv[1]) + float(sys.argv[2]))" "$step" "$opt")" 2 ||
      fail "$m $backend: simulated compute $compute ms, measured step $step ms + optimizer $opt ms"
    f2=$(simulated_ms "$T/$m-scenario-2x.toml" $backend forward_s)
    b2=$(simulated_ms "$T/$m-scenario-2x.toml" $backend backward_s)
    within "$($PY -c "import sys; print(float(sys.argv[1]) + float(sys.argv[2]))" "$f2" "$b2")" \
      "$($PY -c "import sys; print(2 * float(sys.argv[1]))" "$step")" 2 ||
      fail "$m $backend: at twice the batch, forward + backward $f2 + $b2 ms, not twice $step ms"
  done
  echo "$m: gcsim simulate reproduces the measured step ($step ms)"
done

# --- 2. --into a profile that has a section: added beside it, replaced in place --------
if [ -f "$T/simplecnn.toml" ]; then
  $PM --model simplecnn --batch 4 --repeats 3 --warmup 1 --threads 1 --gcsim "$G" --into "$T/simplecnn.toml" \
    --out "$T/both.toml" >"$T/log" 2>&1 || fail "--into a profile with the section: $(cat "$T/log")"
  $PY - "$T/both.toml" "$T/simplecnn.toml" <<'EOF' || fail "--into did not replace the section in place"
import sys, tomllib
new, old = (tomllib.load(open(p, "rb")) for p in sys.argv[1:])
assert new["layer_times"]["simplecnn"]["batch"] == 4, new["layer_times"]["simplecnn"]["batch"]
assert old["layer_times"]["simplecnn"]["batch"] == 64
new.pop("layer_times"); old.pop("layer_times")
assert new == old
EOF
  [ "$(grep -c '^\[layer_times.simplecnn\]' "$T/both.toml")" -eq 1 ] || fail "the section is not there once"
fi

# --- 3. bad input: one line, exit 2, nothing written --------------------------------
pm_error() {  # like expect_error, for the script's "profile_model.py:" prefix
  local pat=$1; shift
  "$@" >"$T/out" 2>"$T/err"; local got=$?
  [ "$got" -eq 2 ] || fail "$* -> exit $got, want 2 ($(cat "$T/err"))"
  [ "$(wc -l <"$T/err")" -eq 1 ] || fail "$* -> stderr is not one line: $(cat "$T/err")"
  grep -qE -- "^profile_model.py: .*$pat" "$T/err" || fail "$* -> stderr '$(cat "$T/err")' does not match '$pat'"
}
echo keep >"$T/exists.toml"
pm_error "exists.toml: exists \(use --force" $PM --model simplecnn --batch 1 --gcsim "$G" --out "$T/exists.toml"
[ "$(cat "$T/exists.toml")" = keep ] || fail "an existing --out was overwritten without --force"
pm_error "--model resnet19: unknown model" $PM --model resnet19 --batch 1 --gcsim "$G" --out "$T/new.toml"
pm_error "--batch 0: must be >= 1" $PM --model simplecnn --batch 0 --gcsim "$G" --out "$T/new.toml"
pm_error "--device tpu: expected cpu or cuda" $PM --model simplecnn --batch 1 --device tpu --gcsim "$G" --out "$T/new.toml"
pm_error "--into $T/missing.toml: not a file" $PM --model simplecnn --batch 1 --gcsim "$G" --into "$T/missing.toml" \
  --out "$T/new.toml"
pm_error "required: --out" $PM --model simplecnn --batch 1 --gcsim "$G"
pm_error "--out $T/no/such.toml: directory" $PM --model simplecnn --batch 1 --gcsim "$G" --out "$T/no/such.toml"
[ -e "$T/new.toml" ] && fail "a failed run wrote --out"
ls -a "$T" | grep -q '\.tmp$' && fail "a temporary file was left behind: $(ls -a "$T")"

# --- 4. the loader checks the section against the zoo -------------------------------
expect_error 2 "^gcsim models: --csv: needs a model NAME" -- "$G" models --csv
total=$("$G" models resnet50 --csv | awk -F, 'NR > 1 { n += $3 } END { print n }')
[ "$total" = 25557032 ] || fail "gcsim models resnet50 --csv sums to $total parameters, not 25557032"
if [ -f "$T/resnet18.toml" ]; then
  sed 's/^params = \[9408, /params = [9409, /' "$T/resnet18.toml" >"$T/tampered.toml"
  cmp -s "$T/resnet18.toml" "$T/tampered.toml" && fail "the tampering did not apply"
  scenario resnet18 2 "$T/tampered.toml" "$T/tampered-scenario.toml"
  expect_error 2 "tampered.toml:[0-9]+:[0-9]+: layer_times.resnet18.params\[0\]: 9409 parameters, the zoo's conv1 has 9408" \
    -- "$G" simulate "$T/tampered-scenario.toml"
fi

[ $fails -eq 0 ] && echo "profile_model_test: all passed"
[ $fails -eq 0 ]
