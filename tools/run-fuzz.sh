#!/usr/bin/env bash
# Builds the libFuzzer targets (preset "fuzz": clang 14, ASan + UBSan), builds
# their seed corpora (fuzz/make-corpus.sh), replays the saved regressions
# (tests/fuzz-regressions/<target>/) and then fuzzes each target briefly.
# Fails on any finding: a crash, a sanitizer report, an exception other than
# the reader's error, a timeout, a leak or running out of memory.
#
#   tools/run-fuzz.sh                      # every target, FUZZ_TIME=8 s each (about a minute)
#   FUZZ_TIME=900 tools/run-fuzz.sh wire_unpack idx_reader
#
# Findings are written to build/fuzz/findings/<target>/ (crash-*, timeout-*,
# leak-*, oom-*); the corpus each run grows is kept in build/fuzz/corpus-run/.
# To turn one into a regression test: copy it to tests/fuzz-regressions/<target>/
# (tests/fuzz_regression_test.cpp replays that folder).
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
build=$src/build/fuzz
all_targets=(scenario_loader sweep_loader profile_loader train_loader idx_reader wire_unpack checkpoint_reader)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
fuzz_time=${FUZZ_TIME:-8}

# ---- dependencies: the project's, and clang 14 with its libFuzzer runtime ----
tools/setup-deps.sh clang-14 libclang-rt-14-dev

# ---- build, corpora ----
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz
fuzz/make-corpus.sh "$build"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
summary=()
for t in "${targets[@]}"; do
  bin=$build/fuzz/$t
  [ -x "$bin" ] || { echo "run-fuzz: no target $t (expected one of: ${all_targets[*]})" >&2; exit 2; }
  findings=$build/findings/$t
  corpus=$build/corpus-run/$t
  log=$build/logs/$t.log
  rm -rf "$findings"
  mkdir -p "$findings" "$corpus" "$(dirname "$log")"
  dict=()
  case $t in *_loader) dict=(-dict="$src/fuzz/toml.dict") ;; esac

  # 1. The saved regressions, under the sanitizers (.pending: fix not landed yet).
  mapfile -t regressions < <(find "$src/tests/fuzz-regressions/$t" -type f -not -name '*.pending' 2>/dev/null | LC_ALL=C sort)
  if [ ${#regressions[@]} -gt 0 ]; then
    if ! "$bin" -timeout=10 -rss_limit_mb=2048 "${regressions[@]}" >"$log.regressions" 2>&1; then
      echo "run-fuzz: $t: a saved regression fails again (see $log.regressions)" >&2
      tail -n 30 "$log.regressions" >&2
      status=1; summary+=("$t: REGRESSION"); continue
    fi
  fi

  # 2. Fuzz, from the seeds plus what earlier runs found.
  echo "run-fuzz: $t for ${fuzz_time}s"
  rc=0
  "$bin" -max_total_time="$fuzz_time" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$findings/" "${dict[@]}" "$corpus" "$build/corpus/$t" >"$log" 2>&1 || rc=$?
  last=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
  if [ $rc -ne 0 ]; then
    echo "run-fuzz: $t: FINDING (exit $rc); input in $findings/, log $log" >&2
    grep -E 'ERROR|SUMMARY|what\(\)|runtime error|Test unit written' "$log" | head -n 20 >&2 || tail -n 5 "$log" >&2
    status=1; summary+=("$t: FINDING (exit $rc)")
  else
    summary+=("$t: ok  ${last}")
  fi
done

echo "run-fuzz: summary"
printf '  %s\n' "${summary[@]}"
exit $status
