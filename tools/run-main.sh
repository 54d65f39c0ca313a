#!/usr/bin/env bash
# The main job: install what is missing, build, run the default sweep with plots.
# Output: out/default/results.csv and out/default/plots/*.png. Re-running
# continues (--resume) rather than overwriting what is there.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release
build/release/gcsim sweep scenarios/sweeps/default.toml --out out/default --plot --resume
