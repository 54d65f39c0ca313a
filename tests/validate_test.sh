#!/usr/bin/env bash
# gcsim validate end to end, as root on real network namespaces: a 3-point
# sweep (switch, two-level) and a 1-point one (fat-tree) of a small emulated model, measured
# through tools/netem.sh and gcsim train --sweep-point; results.csv rows with
# errors that say what the point measured (bytes exact), summary.txt, the
# plot, --resume measuring nothing again, --measured-from predicting again on
# the same measurements, one-line errors (exit 2) for bad flags and points that
# cannot be emulated, and no namespace left. Exit 77 (skip) without root or
# network namespaces. Usage: validate_test.sh path/to/gcsim (~40 s)
set -u
G=$(cd "$(dirname "${1:?usage: validate_test.sh path/to/gcsim}")" && pwd)/$(basename "$1")
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/cli_helpers.sh"  # fail, expect_error
cd "$ROOT"

if [ "$(id -u)" != 0 ]; then
  expect_error 2 "needs root" -- $G validate scenarios/validation/switch.toml --out "$T/x"
  echo "SKIP: the rest needs root"; exit 77
fi
ip netns add gcsim-vt-probe$$ 2>/dev/null || { echo "SKIP: no network namespaces here"; exit 77; }
ip netns del gcsim-vt-probe$$

cat >"$T/base.toml" <<TOML
name = "vt"
profile = "$ROOT/reports/validation/profile-shaped100-p4.toml"
[model]
name = "custom"
batch_per_worker = 8
layers = [{name = "a", params = 200000, forward_flops = 1e6}, {name = "b", params = 400000, forward_flops = 2e6},
          {name = "c", params = 100000, forward_flops = 1e6}]
[compute]
forward_backward_ms = 60
emulate = true
emulate_steps = 4
cores_per_host = 2
hosts = 1
[cluster]
workers = 4
[cluster.inter_node]
bandwidth_gbps = 0.2
latency_us = 50
[cluster.intra_node]
bandwidth_gbps = 10
latency_us = 20
[compression]
method = "topk"
ratio = 0.01
[training]
bucket_mb = 1
TOML
cat >"$T/sweep.toml" <<'TOML'
name = "vt"
base = "base.toml"
[axes]
"cluster.topology|cluster.gpus_per_node" = [["switch", 1], ["two-level", 2]]
TOML
cat >"$T/ft.toml" <<'TOML'
name = "vt-ft"
base = "base.toml"
[axes]
"cluster.topology" = ["fat-tree"]
"cluster.nodes_per_leaf" = [2]
"cluster.spines" = [1]
"cluster.oversubscription" = [2]
TOML

$G validate "$T/sweep.toml" --out "$T/v" >"$T/out" 2>"$T/err" || fail "validate: exit $?: $(tail -n 3 "$T/err")"
grep -q "^validation vt: 2 points, |step time error| median" "$T/out" || fail "summary line: $(cat "$T/out")"
$G validate "$T/ft.toml" --out "$T/ft" --no-plot --repeats 2 >"$T/out" 2>"$T/err" || fail "validate fat-tree: exit $?: $(tail -n 3 "$T/err")"
[ -s "$T/ft/runs/point-0.rep-2/steps-rank3.csv" ] && [ -s "$T/ft/runs/point-0.rep-2.log" ] ||
  fail "--repeats 2: the second run is missing: $(ls "$T/ft/runs")"
grep -q "fat-tree: 2 leaves of 2 (packed), one spine, 2:1" "$T/ft/runs/point-0.log" ||
  fail "the fat-tree point did not run on a fat-tree: $(head -n 3 "$T/ft/runs/point-0.log")"
[ ! -e "$T/ft/validation.png" ] || fail "--no-plot drew"
[ -s "$T/v/summary.txt" ] && [ -s "$T/v/validation.png" ] || fail "summary.txt or validation.png missing: $(ls "$T/v")"
python3 - "$T/v/results.csv" "$T/ft/results.csv" <<'PY' || fail "results.csv: see above"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1]))) + list(csv.DictReader(open(sys.argv[2])))
ok = len(rows) == 3
for r in rows:
    p, m = float(r["predicted_step_s"]), float(r["measured_step_s"])
    e = float(r["step_error"])
    ok &= m > 0.06 and p > 0.06                       # at least the slept compute
    ok &= abs(e - (p / m - 1)) < 1e-6
    ok &= float(r["bytes_error"]) == 0.0              # the trainer sends what the simulator prices
    ft = r["topology"] == "fat-tree"                  # measured twice (--repeats 2)
    ok &= r["measured_steps"] == ("4" if ft else "2")  # 4 steps, 2 left out, per run
    ok &= r["measured_repeats"] == ("2" if ft else "1")
    ok &= (float(r["measured_step_spread"]) > 0) == ft
    ok &= r["buckets"] == "3"                     # c | b | a at 1 MiB
    if not ok:
        print("bad row:", r)
print("topologies:", [r["topology"] for r in rows])
sys.exit(0 if ok and [r["topology"] for r in rows] == ["switch", "two-level", "fat-tree"] else 1)
PY
for i in 0 1; do
  [ -s "$T/v/runs/point-$i/buckets-compared.csv" ] && [ -s "$T/v/runs/point-$i/steps-rank3.csv" ] ||
    fail "point $i: run directory incomplete: $(ls "$T/v/runs/point-$i" 2>&1)"
done
grep -q "2 hosts of 2" "$T/v/runs/point-1.log" || fail "point 1 did not run on two nodes of 2: $(head -n 3 "$T/v/runs/point-1.log")"
[ -z "$(ip netns list | grep -E '^gcsim-v')" ] || fail "namespaces left: $(ip netns list)"

# --resume: every row kept, nothing measured again
cp "$T/v/results.csv" "$T/before.csv"
$G validate "$T/sweep.toml" --out "$T/v" --resume >"$T/out" 2>"$T/err" || fail "resume: $(tail -n 3 "$T/err")"
grep -q "2 from an earlier run, 0 measured" "$T/out" || fail "resume: $(cat "$T/out")"
cmp -s "$T/before.csv" "$T/v/results.csv" || fail "resume rewrote the rows"
expect_error 2 "already exists" -- $G validate "$T/sweep.toml" --out "$T/v"

# --measured-from: the same measurements, predicted again with the cores shared differently
sed -i 's/^cores_per_host = 2/cores_per_host = 1/' "$T/base.toml"
$G validate "$T/sweep.toml" --out "$T/w" --measured-from "$T/v" --no-plot >"$T/out" 2>"$T/err" ||
  fail "measured-from: $(tail -n 3 "$T/err")"
grep -q "2 from $T/v" "$T/out" || fail "measured-from: $(cat "$T/out")"
python3 - "$T/v/results.csv" "$T/w/results.csv" <<'PY' || fail "measured-from: the measurements differ or the predictions did not change"
import csv, sys
a, b = (list(csv.DictReader(open(f))) for f in sys.argv[1:3])
same = all(x["measured_step_s"] == y["measured_step_s"] for x, y in zip(a, b))
moved = all(float(y["predicted_compression_s"]) > float(x["predicted_compression_s"]) for x, y in zip(a, b))
sys.exit(0 if same and moved and len(a) == len(b) == 2 else 1)
PY
[ ! -e "$T/w/runs" ] || fail "measured-from ran measurements: $(ls "$T/w/runs")"
sed -i 's/"cluster.topology|/"cluster.workers" = [4]\n"cluster.topology|/' "$T/sweep.toml"
expect_error 2 "not this sweep" -- $G validate "$T/sweep.toml" --out "$T/w2" --measured-from "$T/w"

# bad input: one line, exit 2, nothing written
sed -i 's/^\[cluster\]$/[cluster]\ntopology = "ring"/' "$T/base.toml"
cat >"$T/ring.toml" <<'TOML'
name = "ring"
base = "base.toml"
[axes]
"cluster.workers" = [4]
TOML
expect_error 2 "point 0.*ring.*cannot be emulated" -- $G validate "$T/ring.toml" --out "$T/r"
[ ! -e "$T/r" ] || fail "a refused sweep wrote $T/r"
expect_error 2 "--warmup" -- $G validate "$T/sweep.toml" --out "$T/r" --warmup -1
expect_error 2 "--repeats 0.*1 to 100" -- $G validate "$T/sweep.toml" --out "$T/r" --repeats 0
expect_error 2 "--repeats --measured-from" -- $G validate "$T/sweep.toml" --out "$T/r" --repeats 2 --measured-from "$T/v"
expect_error 2 "--netem.*not an executable" -- $G validate "$T/sweep.toml" --out "$T/r" --netem /nonexistent

if [ "$fails" -gt 0 ]; then echo "validate_test: $fails failure(s)"; exit 1; fi
echo "validate_test: all passed"
