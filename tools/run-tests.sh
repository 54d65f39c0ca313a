#!/usr/bin/env bash
# The whole test suite: install what is missing, build, run CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release
ctest --preset release
