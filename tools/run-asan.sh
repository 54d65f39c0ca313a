#!/usr/bin/env bash
# The whole CPU test suite (Catch2 cases, CLI, training over Gloo, plots)
# under AddressSanitizer + UndefinedBehaviorSanitizer (preset asan: CPU build,
# asserts on, -fno-sanitize-recover=all, no benchmarks). Any sanitizer report
# fails the test that triggered it; then the same check as run-tests.sh that
# CTest ran every listed case. Run by .ci/run after tools/run-tests.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup-deps.sh
cmake --preset asan >/dev/null
cmake --build --preset asan
junit="$PWD/build/asan/ctest-junit.xml"
rm -f "$junit"
ctest --preset asan --output-junit "$junit"
tools/check-test-count.py "$junit" build/asan/tests/gcsim_tests build/asan/tests/gcsim_gpu_tests
