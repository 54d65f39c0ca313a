#!/usr/bin/env bash
# One long fuzzing run of one target (reports/fuzz-results.md): SECONDS of
# fuzzing in all, from its seed corpus, restarting after a finding so the
# whole time is spent; every finding is kept in BUILD/findings-long/<target>/.
# Needs the fuzz preset built and fuzz/make-corpus.sh run.
#   fuzz/long-run.sh TARGET [SECONDS=900]
# RUN_NAME (default long) names the run: BUILD/{corpus,findings,logs}-RUN_NAME/.
# Writes BUILD/logs-long/<target>.log (every segment's libFuzzer output) and
# prints one summary line: executions, exec/s, cov, ft, corpus, findings.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$src/build/fuzz}
t=$1
total=${2:-900}
bin=$build/fuzz/$t
run=${RUN_NAME:-long}
corpus=$build/corpus-$run/$t
findings=$build/findings-$run/$t
log=$build/logs-$run/$t.log
mkdir -p "$corpus" "$findings" "$(dirname "$log")"
: > "$log"
dict=()
case $t in *_loader) dict=(-dict="$src/fuzz/toml.dict") ;; esac
start=$(date +%s)
segments=0
while :; do
  left=$(( total - ($(date +%s) - start) ))
  [ "$left" -gt 5 ] || break
  segments=$((segments + 1))
  echo "=== segment $segments: ${left}s left" >> "$log"
  "$bin" -max_total_time="$left" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$findings/" "${dict[@]}" "$corpus" "$build/corpus/$t" >> "$log" 2>&1 || true
done
elapsed=$(( $(date +%s) - start ))
execs=$(awk '/^stat::number_of_executed_units/ {s += $NF} END {print s + 0}' "$log")
last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$last")
ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")
corp=$(sed -nE 's/.* corp: ([0-9]+\/[0-9]+[a-zA-Z]*).*/\1/p' <<<"$last")
nfind=$(find "$findings" -type f | wc -l)
echo "$t: seconds=$elapsed segments=$segments execs=$execs exec_per_s=$(( execs / (elapsed > 0 ? elapsed : 1) )) cov=$cov ft=$ft corpus=$corp findings=$nfind"
