#!/usr/bin/env bash
# The whole CPU test suite (Catch2 cases, CLI, training over Gloo, plots)
# under AddressSanitizer + UndefinedBehaviorSanitizer (preset asan: CPU build,
# asserts on, -fno-sanitize-recover=all, no benchmarks). Any sanitizer report
# fails the test that triggered it: a sanitizer ends the process with exit code
# 86 (the preset's ASAN_OPTIONS/UBSAN_OPTIONS), which no test expects (gcsim exits
# 0, 1 or 2). ASan and LeakSanitizer reports also go to build/asan/sanitizer-logs/
# (log_path), so one in a process whose exit code a test does not check (a worker,
# a command expected to fail) still fails the run; GCC's UBSan ignores log_path,
# so for UB that case relies on the exit code. Then the same check as run-tests.sh that CTest ran every listed case.
# Run by .ci/run after tools/run-tests.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup-deps.sh
cmake --preset asan >/dev/null
cmake --build --preset asan
junit="$PWD/build/asan/ctest-junit.xml"
logs=build/asan/sanitizer-logs
rm -rf "$junit" "$logs"; mkdir -p "$logs"
rc=0
ctest --preset asan --output-junit "$junit" || rc=$?
if [ -n "$(ls -A "$logs")" ]; then
  echo "run-asan: sanitizer reports:" >&2
  for f in "$logs"/*; do echo "--- $f" >&2; cat "$f" >&2; done
  rc=1
fi
[ "$rc" -eq 0 ] || exit "$rc"
tools/check-test-count.py "$junit" build/asan/tests/gcsim_tests build/asan/tests/gcsim_gpu_tests
