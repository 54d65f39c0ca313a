#!/usr/bin/env bash
# The gcsim CLI end to end: exit codes, one-line errors naming where, no
# half-written or overwritten output. Usage: cli_test.sh path/to/gcsim
set -u
G=${1:?usage: cli_test.sh path/to/gcsim}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/cli_helpers.sh"  # fail, expect_error

# --- happy paths -------------------------------------------------------------
$G --version | grep -q '^gcsim [0-9]' || fail "--version"
$G --help | grep -q simulate || fail "--help"
for c in simulate sweep models report calibrate; do $G $c --help >/dev/null || fail "$c --help"; done
$G models | grep -qE '^resnet50 +25557032' || fail "models lists resnet50 with its parameter count"
$G models gpt2-small | grep -q 'h.11.mlp.c_proj' || fail "models NAME lists layers"
out=$($G simulate scenarios/seed/resnet50-1gbps.toml) || fail "simulate seed case"
echo "$out" | grep -qE 'iteration time +786.000 ms' || fail "seed case iteration time 786 ms: $out"
echo "$out" | grep -qE 'exposed communication +736.000 ms' || fail "seed case 736 ms"
json=$($G simulate scenarios/h100-cluster.toml --format json --set cluster.workers=64)
for k in iteration_time_s compute_s compression_s exposed_comm_s bytes_sent_per_worker efficiency_weak efficiency_strong speedup; do
  echo "$json" | grep -q "\"$k\": [0-9]" || fail "json key $k"
done
echo "$json" | grep -q '"workers": "64"' || fail "--set reached the scenario"
[ "$($G simulate scenarios/dgx-h100.toml --format csv | wc -l)" -eq 2 ] || fail "csv is header + one row"

# --- bad input: exit 2, one line, where and which key --------------------------
cat >"$T/bad.toml" <<'TOML'
[model]
name = "resnet50"
batch_per_worker = 32
[compute]
forward_backward_ms = 10
[cluster]
workers = 4
[cluster.inter_node]
bandwith_gbps = 10
TOML
expect_error 2 "bad.toml:9:1: cluster.inter_node.bandwith_gbps: unknown key, did you mean 'cluster.inter_node.bandwidth_gbps'" -- $G simulate "$T/bad.toml"
expect_error 2 "--set compression.ratio=2: compression.ratio: must be in \(0, 1\]" -- $G simulate scenarios/h100-cluster.toml --set compression.ratio=2
expect_error 2 "cannot open file" -- $G simulate "$T/nope.toml"
expect_error 2 "--format xml" -- $G simulate scenarios/h100-cluster.toml --format xml
expect_error 2 "unrecognised option|unrecognized option" -- $G simulate scenarios/h100-cluster.toml --wat
expect_error 2 "unknown command" -- $G simulat
expect_error 2 "unknown model, did you mean 'vgg16'" -- $G models vgg61

# --- outputs: atomic, never overwritten without asking --------------------------
$G simulate scenarios/h100-cluster.toml --format json --out "$T/r.json" || fail "simulate --out"
cp "$T/r.json" "$T/r.keep"
expect_error 2 "r.json: already exists; pass --force" -- $G simulate scenarios/dgx-h100.toml --out "$T/r.json"
cmp -s "$T/r.json" "$T/r.keep" || fail "existing --out file changed"
$G simulate scenarios/dgx-h100.toml --out "$T/r.json" --force || fail "--force"
expect_error 2 "bad.toml:9:1" -- $G simulate "$T/bad.toml" --out "$T/never.json"
[ ! -e "$T/never.json" ] || fail "bad input left an output file"

# --- des: backend choice, trace ---------------------------------------------------
$G simulate scenarios/h100-cluster.toml --set cluster.workers=4 --trace "$T/trace.json" >"$T/des.txt" || fail "des --trace"
grep -q "backend des" "$T/des.txt" || fail "des is not the default backend"
/usr/bin/python3 -c "
import json, sys
t = json.load(open(sys.argv[1]))['traceEvents']
names = {e['args']['name'] for e in t if e['ph'] == 'M' and e['name'] == 'process_name'}
assert {'worker 0', 'worker 3', 'collectives'} <= names, names
spans = [e for e in t if e['ph'] == 'X']
assert spans and all(e['dur'] >= 0 for e in spans)
" "$T/trace.json" || fail "trace is not a valid Chrome trace"
$G simulate scenarios/h100-cluster.toml --backend analytic | grep -q "backend analytic" || fail "--backend analytic"
expect_error 2 "--set stragglers.slow=\[\{rank=99, factor=2.0\}\]: stragglers.slow\[0\].rank: must be in" -- $G simulate scenarios/h100-cluster.toml --set "stragglers.slow=[{rank=99, factor=2.0}]"
expect_error 2 "--backend quantum: expected des or analytic" -- $G simulate scenarios/h100-cluster.toml --backend quantum
expect_error 2 "--trace: needs --backend des" -- $G simulate scenarios/h100-cluster.toml --backend analytic --trace "$T/t2.json"
cp "$T/trace.json" "$T/trace.keep"
expect_error 2 "trace.json: already exists" -- $G simulate scenarios/h100-cluster.toml --trace "$T/trace.json" --out "$T/new.txt"
cmp -s "$T/trace.json" "$T/trace.keep" || fail "existing trace changed"
[ ! -e "$T/new.txt" ] || fail "refused run wrote its --out file"

# --- sweeps ---------------------------------------------------------------------
cat >"$T/sw.toml" <<TOML
base = "$PWD/scenarios/h100-cluster.toml"
[axes]
"cluster.workers" = [1, 2, 8]
"compression.method" = ["none", "topk"]
TOML
$G sweep "$T/sw.toml" --out "$T/sw" --jobs 2 >"$T/log" 2>"$T/err" || fail "sweep: $(cat "$T/err")"
[ "$(wc -l <"$T/sw/results.csv")" -eq 7 ] || fail "sweep rows"
[ ! -s "$T/err" ] || fail "progress bar printed to a non-terminal: $(cat "$T/err")"
expect_error 2 "results.csv: already exists; pass --resume" -- $G sweep "$T/sw.toml" --out "$T/sw"
$G sweep "$T/sw.toml" --out "$T/sw" --resume | grep -q "6 from an earlier run, 0 simulated" || fail "resume of a finished sweep"
cat >"$T/swbad.toml" <<TOML
base = "$PWD/scenarios/h100-cluster.toml"
[axes]
"cluster.workers" = [2, 0]
TOML
expect_error 2 "swbad.toml:3:25 \(\[axes\] \"cluster.workers\"\): cluster.workers: must be >= 1" -- $G sweep "$T/swbad.toml" --out "$T/swbad"
[ ! -e "$T/swbad" ] || fail "bad sweep created its output directory"

# --- calibrate kernels ---------------------------------------------------------------
C="$G calibrate kernels --min-n 1e3 --max-n 1e4 --per-decade 1 --repeats 2 --warmup 0 --threads 2"
$C --out "$T/p.toml" --csv "$T/p.csv" >"$T/cal.txt" 2>"$T/err" || fail "calibrate: $(cat "$T/err")"
grep -q "^ef_topk " "$T/cal.txt" || fail "calibrate prints the fits: $(cat "$T/cal.txt")"
grep -q 'name = "calibrated-cpu"' "$T/p.toml" || fail "calibrated profile name"
# header + 6 selection ops x 2 sizes x 3 ratios + 8 ratio-free ops (cast, ef_sign, qsgd_quantize, dense_sum,
# and the host passes finite_check, scale, ef_add, ef_residual) x 2 sizes + 2 decode ops x 2 sizes x 2 part
# counts + 2 PowerSGD ops (matmul, orthogonalize) x 2 sizes x 2 ranks
[ "$(wc -l <"$T/p.csv")" -eq 69 ] || fail "calibrate csv: header + 6 x 2 x 3 + 8 x 2 + 2 x 2 x 2 + 2 x 2 x 2 rows"
grep -q "^\[kernels.ef_residual\]" "$T/p.toml" || fail "calibrated profile lacks the host passes"
grep -q "^\[kernels.qsgd_dequantize\]" "$T/p.toml" || fail "calibrated profile lacks the quantization ops"
$G simulate scenarios/h100-cluster.toml --set "profile=$T/p.toml" | grep -q "calibrated-cpu" \
  || fail "simulate reads the calibrated profile"
cp "$T/p.toml" "$T/p.keep"
expect_error 2 "p.toml: already exists; pass --force" -- $C --out "$T/p.toml"
cmp -s "$T/p.toml" "$T/p.keep" || fail "existing profile changed"
expect_error 2 "--device tpu: expected cpu or cuda" -- $C --device tpu --out "$T/q.toml"
expect_error 2 "--ratios 0.1,2: '2' is not a ratio" -- $C --ratios 0.1,2 --out "$T/q.toml"
expect_error 2 "--cold-mib: must be between 0 and 8192" -- $C --cold-mib 9000 --out "$T/q.toml"
expect_error 2 "unknown target 'gpus' \(expected kernels or collectives\)" -- $G calibrate gpus --out "$T/q.toml"
expect_error 2 "--out: is required" -- $G calibrate kernels
if ! $G calibrate kernels --device cuda --help >/dev/null; then fail "calibrate --help"; fi
[ ! -e "$T/q.toml" ] || fail "refused calibrate wrote a profile"

# --- calibrate collectives: 2 worker processes over Gloo on loopback ------------------
CC="$G calibrate collectives --workers 2 --max-bytes 1024 --repeats 2 --warmup 1"
$CC --out "$T/c.toml" --csv "$T/c.csv" --nccl-tests-out "$T/c-nccl.txt" >"$T/cc.txt" 2>"$T/err" || fail "calibrate collectives: $(cat "$T/err")"
grep -qE "^ring: launch_us [0-9.]+  alpha_us [0-9.]+" "$T/cc.txt" || fail "calibrate collectives prints the fit: $(cat "$T/cc.txt")"
grep -q '^\[collective.ring.inter_node\]' "$T/c.toml" || fail "the Gloo fit is not in [collective.ring.inter_node]: $(cat "$T/c.toml")"
# the tables are nccl-tests': each reads back through --from-nccl-tests
awk -v d="$T" '/^# Collective test starting/ { n++ } { print > (d "/gloo-table-" n ".log") }' "$T/c-nccl.txt"
grep -q all_reduce_perf "$T/gloo-table-1.log" && grep -q all_gather_perf "$T/gloo-table-2.log" ||
  fail "--nccl-tests-out: want an all_reduce_perf then an all_gather_perf table: $(cat "$T/c-nccl.txt")"
$G calibrate collectives --from-nccl-tests "$T/gloo-table-1.log" "$T/gloo-table-2.log" --out "$T/c3.toml" >/dev/null 2>"$T/err" ||
  fail "gcsim's own nccl-tests tables do not fit back: $(cat "$T/err")"
grep -q 'name = "calibrated-collectives"' "$T/c.toml" || fail "collectives profile name"
[ "$(wc -l <"$T/c.csv")" -eq 21 ] || fail "collectives csv: header + 4 ops (allreduce, allgather, p2p_ring, allreduce_half) x 5 sizes: $(cat "$T/c.csv")"
grep -q '^\[collective.half.inter_node\]' "$T/c.toml" || fail "the fp16 allreduce's fit is not in [collective.half.inter_node]: $(cat "$T/c.toml")"
grep -qE "^half: alpha_us [0-9.]+ per step" "$T/cc.txt" || fail "half fit line: $(cat "$T/cc.txt")"
grep -q '^\[collective.p2p.inter_node\]' "$T/c.toml" || fail "the p2p ring's fit is not in [collective.p2p.inter_node]: $(cat "$T/c.toml")"
$G simulate scenarios/train/fashion-p4.toml --set "profile=$T/c.toml" | grep -q "calibrated-collectives" \
  || fail "simulate reads the collectives profile"
ls -d /tmp/gcsim-calibrate-* >/dev/null 2>&1 && fail "calibrate collectives left its temporary directory"
# --refit: the same fit from the saved measurements, without measuring
$G calibrate collectives --workers 2 --refit "$T/c.csv" --out "$T/c2.toml" >/dev/null 2>"$T/err" || fail "refit: $(cat "$T/err")"
[ "$(grep -E '^(launch|alpha)_us' "$T/c.toml")" = "$(grep -E '^(launch|alpha)_us' "$T/c2.toml")" ] \
  || fail "refit gives another fit: $(grep _us "$T/c.toml" "$T/c2.toml")"
printf 'op,bytes,wire_bytes,median_s,min_s,max_s,spread,repeats\nallreduce,4,4,abc,1,1,0,2\n' >"$T/bad.csv"
expect_error 2 "bad.csv:2: a field is not a number" -- $G calibrate collectives --workers 2 --refit "$T/bad.csv" --out "$T/q.toml"
cp "$T/c.toml" "$T/c.keep"
expect_error 2 "c.toml: already exists; pass --force" -- $CC --out "$T/c.toml"
cmp -s "$T/c.toml" "$T/c.keep" || fail "existing collectives profile changed"
expect_error 2 "--workers: must be between 2 and 1024" -- $G calibrate collectives --workers 1 --out "$T/q.toml"
expect_error 2 "--compute-ms: must be in \[0, 60000\]" -- $G calibrate collectives --compute-ms -1 --out "$T/q.toml"
expect_error 2 "--hosts: lists 1 addresses for 2 workers" -- $CC --hosts 127.0.0.1 --out "$T/q.toml"
expect_error 2 "--min-bytes/--max-bytes: need at least two sizes" -- $G calibrate collectives --max-bytes 8 --out "$T/q.toml"
expect_error 2 "--collectives: the gloo backend times allreduce, allgather, p2p_ring and allreduce_half" -- $CC --collectives reduce_scatter --out "$T/q.toml"
expect_error 2 "--link-class: must be intra, inter or fabric" -- $CC --link-class middle --out "$T/q.toml"
# p2p_ring alone over nodes of 2 (4 ranks: 2 rings of 2 between the nodes): only [collective.p2p] is
# written, the base's [collective] defaults stay; its CSV refits to the same figures
$G calibrate collectives --max-bytes 1024 --repeats 2 --warmup 1 --workers 4 --node-size 2 --collectives p2p_ring --rate-mbit 1000 --out "$T/p2p.toml" --csv "$T/p2p.csv" \
  >"$T/p2p.txt" 2>"$T/err" || fail "calibrate collectives p2p_ring: $(cat "$T/err")"
grep -qE "^p2p: alpha_us [0-9.]+ per step .*rings of 2, 2 per link" "$T/p2p.txt" || fail "p2p fit line: $(cat "$T/p2p.txt")"
grep -q '^\[collective.p2p.inter_node\]' "$T/p2p.toml" || fail "no [collective.p2p.inter_node]: $(cat "$T/p2p.toml")"
grep -q '^\[collective.ring' "$T/p2p.toml" && fail "a p2p-only calibration wrote ring figures: $(cat "$T/p2p.toml")"
[ "$(grep -E '^launch_us = ' "$T/p2p.toml" | head -1)" = "$(grep -E '^launch_us = ' scenarios/profiles/default.toml | head -1)" ] ||
  fail "a p2p-only calibration changed the base's launch_us"
$G calibrate collectives --workers 4 --refit "$T/p2p.csv" --rate-mbit 1000 --out "$T/p2p2.toml" >/dev/null 2>"$T/err" || fail "p2p refit: $(cat "$T/err")"
[ "$(sed -n '/collective.p2p.inter_node/,/^$/p' "$T/p2p.toml" | grep -v fitted_from)" = \
  "$(sed -n '/collective.p2p.inter_node/,/^$/p' "$T/p2p2.toml" | grep -v fitted_from)" ] || fail "the p2p refit gives another fit"
# --link-class fabric: only efficiencies, the base's overheads stay
$G calibrate collectives --workers 2 --refit "$T/c.csv" --link-class fabric --rate-mbit 1000 --out "$T/fab.toml" >/dev/null 2>"$T/err" ||
  fail "fabric refit: $(cat "$T/err")"
grep -q '^fabric_efficiency = ' "$T/fab.toml" && grep -q '^\[collective.ring.fabric\]' "$T/fab.toml" ||
  fail "a fabric calibration writes fabric_efficiency and [collective.ring.fabric]: $(cat "$T/fab.toml")"
sed -n '/collective.ring.fabric/,/^$/p' "$T/fab.toml" | grep -q alpha_us && fail "a fabric calibration wrote an alpha"
for k in launch_us alpha_us; do
  [ "$(grep -E "^$k = " "$T/fab.toml" | head -1)" = "$(grep -E "^$k = " scenarios/profiles/default.toml | head -1)" ] ||
    fail "a fabric calibration changed the base's $k"
done
expect_error 2 "--node-size: 4 workers are not nodes of 3 ranks" -- $G calibrate collectives --workers 4 --node-size 3 --out "$T/q.toml"
expect_error 2 "--node-size: p2p_ring's rings would have one rank" -- $G calibrate collectives --workers 4 --node-size 4 --out "$T/q.toml"
expect_error 2 "--collectives: p2p_ring is gcsim's own ring over Gloo" -- $G calibrate collectives --backend nccl --collectives p2p_ring --out "$T/q.toml"
expect_error 2 "--collectives: allreduce_half is Gloo's ring with gcsim's half sum" -- $G calibrate collectives --backend nccl --collectives allreduce_half --out "$T/q.toml"
# allreduce_half alone: only [collective.half] is written, the ring's figures stay the base's
$G calibrate collectives --max-bytes 1024 --repeats 2 --warmup 1 --workers 2 --collectives allreduce_half --rate-mbit 1000 --out "$T/half.toml" \
  >"$T/half.txt" 2>"$T/err" || fail "calibrate collectives allreduce_half: $(cat "$T/err")"
grep -q '^\[collective.half.inter_node\]' "$T/half.toml" || fail "no [collective.half.inter_node]: $(cat "$T/half.toml")"
grep -q '^\[collective.ring' "$T/half.toml" && fail "a half-only calibration wrote ring figures: $(cat "$T/half.toml")"
grep -q 'notes = "\[collective.half\] measured' "$T/half.toml" || fail "a half-only calibration's notes: $(grep notes "$T/half.toml")"
expect_error 2 "--backend: must be gloo or nccl" -- $CC --backend mpi --out "$T/q.toml"
# --backend nccl: documented; on this GPU-less machine it says why it cannot run, and writes nothing
$G calibrate collectives --backend nccl --help | grep -q "NCCL_ALGO/NCCL_PROTO" || fail "--backend nccl --help"
expect_error 2 "--variants: unknown variant 'Bogus'" -- $G calibrate collectives --backend nccl --variants Ring,Bogus --out "$T/q.toml"
expect_error 2 "--workers: is for --backend gloo" -- $G calibrate collectives --backend nccl --workers 4 --out "$T/q.toml"
expect_error 2 "--backend nccl: " -- $G calibrate collectives --backend nccl --out "$T/q.toml" --csv "$T/q.csv"
[ ! -e "$T/q.toml" ] && [ ! -e "$T/q.csv" ] || fail "refused calibrate collectives wrote a profile"

# --- calibrate collectives --from-nccl-tests: a profile from nccl-tests logs (8 ranks) ----------
python3 - "$T" <<'PY'
import sys
t = sys.argv[1]
P, launch, alpha, bw = 8, 20e-6, 5e-6, 40e9
for op, name in (("sum", "all_reduce_perf"), ("none", "all_gather_perf")):
    with open(f"{t}/{name}.log", "w") as f:
        f.write(f"# Collective test starting: {name}\n# nThread 1 nGpus 8 minBytes 8 maxBytes 1073741824\n#\n# Using devices\n")
        for r in range(P):
            f.write(f"#  Rank {r:2d} Group  0 Pid  {100 + r} on node0 device {r:2d} [0x{16 + r:02x}] NVIDIA H100\n")
        f.write("#       size         count      type   redop    root     time   algbw   busbw #wrong     time   algbw   busbw #wrong\n")
        size = 64
        while size <= 1 << 30:
            if op == "sum":
                us = 1e6 * (launch + 2 * (P - 1) * alpha + 2 * (P - 1) / P * size / bw)
            else:
                us = 1e6 * (launch + (P - 1) * alpha + (P - 1) * size / P / bw)
            a = size / us / 1e3
            f.write(f"{size:12d} {size // 4:12d}     float {op:>6s}      -1 {us:8.2f} {a:6.2f} {a:6.2f}      0 {us:8.2f} {a:6.2f} {a:6.2f}      0\n")
            size *= 4
PY
$G calibrate collectives --from-nccl-tests "$T/all_reduce_perf.log" "$T/all_gather_perf.log" --out "$T/n.toml" >"$T/n.txt" 2>"$T/err" ||
  fail "calibrate collectives --from-nccl-tests: $(cat "$T/err")"
grep -qE "^ring: launch_us 2[0-9]\.[0-9]  alpha_us [45]\.[0-9]+  achieved 3[0-9]{5} Mbit/s" "$T/n.txt" ||
  fail "--from-nccl-tests fit (want launch ~20 us, alpha ~5 us, 320000 Mbit/s): $(tail -n 2 "$T/n.txt")"
grep -q "8 ranks, the nccl-tests logs" "$T/n.toml" || fail "--from-nccl-tests: the profile does not say where it came from"
# the allgather on its own, and with a rate each family's efficiency curve over the sizes of the bandwidth regime
grep -qE "^allgather: alpha_us [45]\.[0-9]+ per step  achieved 3[0-9]{5} Mbit/s" "$T/n.txt" ||
  fail "--from-nccl-tests: the allgather's own fit (want alpha ~5 us, 320000 Mbit/s): $(cat "$T/n.txt")"
grep -q '^\[collective.allgather.inter_node\]' "$T/n.toml" || fail "no [collective.allgather.inter_node]: $(cat "$T/n.toml")"
grep -q '^curve' "$T/n.toml" && fail "a curve without --rate-mbit: $(grep curve "$T/n.toml")"
$G calibrate collectives --from-nccl-tests "$T/all_reduce_perf.log" "$T/all_gather_perf.log" --rate-mbit 400000 --out "$T/n5.toml" \
  >/dev/null 2>"$T/err" || fail "--from-nccl-tests --rate-mbit: $(cat "$T/err")"
[ "$(grep -c '^curve = \[{bytes = ' "$T/n5.toml")" -eq 2 ] || fail "want a ring and an allgather curve: $(grep -n curve "$T/n5.toml")"
grep '^curve' "$T/n5.toml" | grep -qE 'efficiency = 0\.(79|8)' || fail "the curves' efficiency is 320000 / 400000: $(grep curve "$T/n5.toml")"
expect_error 2 "all_gather_perf" -- $G calibrate collectives --from-nccl-tests "$T/all_reduce_perf.log" --out "$T/n2.toml"
expect_error 2 "logs have 8 ranks" -- $G calibrate collectives --from-nccl-tests "$T/all_reduce_perf.log" "$T/all_gather_perf.log" --workers 4 --out "$T/n3.toml"
printf 'garbage\n' >"$T/bad.log"
expect_error 2 "bad.log:1" -- $G calibrate collectives --from-nccl-tests "$T/bad.log" --out "$T/n4.toml"
[ ! -e "$T/n2.toml" ] && [ ! -e "$T/n3.toml" ] && [ ! -e "$T/n4.toml" ] || fail "a refused --from-nccl-tests wrote a profile"

if [ "$fails" -ne 0 ]; then echo "$fails failure(s)"; exit 1; fi
echo "cli tests passed"
