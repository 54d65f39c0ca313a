#!/usr/bin/env bash
# The whole test suite: install what is missing, build, run CTest, then check
# that CTest ran every Catch2 case the test binaries list (each as its own entry).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release
junit="$PWD/build/release/ctest-junit.xml"
rm -f "$junit"
ctest --preset release --output-junit "$junit"
tools/check-test-count.py "$junit" build/release/tests/gcsim_tests build/release/tests/gcsim_gpu_tests
