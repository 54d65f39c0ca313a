#!/bin/bash
cd /work/main
junit="$PWD/build/asan/ctest-junit.xml"
logs=build/asan/sanitizer-logs
rm -rf "$junit" "$logs"; mkdir -p "$logs"
rc=0
ctest --preset asan --output-junit "$junit" || rc=$?
echo "ctest rc=$rc"
ls -A "$logs"
tools/check-test-count.py "$junit" build/asan/tests/gcsim_tests build/asan/tests/gcsim_gpu_tests
echo done
