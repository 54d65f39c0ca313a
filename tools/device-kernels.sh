#!/usr/bin/env bash
# The GPU half of reports/kernels.md, for a machine with an NVIDIA GPU, CUDA's
# driver and PyTorch but none of Debian's libraries.
#
#   tools/device-kernels.sh stage     # here: copy the Boost/toml++ .so files gcsim
#                                     # needs into build/release/lib (carry build/release)
#   tools/device-kernels.sh run       # there: GPU tests, CUDA kernel sweep, PyTorch peer,
#                                     # calibrate --device cuda; results into $OUT
set -euo pipefail
B=${BUILD:-build/release}
case "${1:-}" in
  stage)
    mkdir -p "$B/lib"
    ldd "$B/gcsim" | awk '/boost|toml/ {print $3}' | xargs -r cp -L -t "$B/lib"
    ls "$B/lib"
    ;;
  run)
    O=${OUT:-out/device}
    mkdir -p "$O"
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv >"$O/device.txt" || true
    rc=0
    "$B/tests/gcsim_gpu_tests" --durations yes >"$O/gpu-tests.txt" 2>&1 || rc=$?
    tail -3 "$O/gpu-tests.txt"
    "$B/benchmarks/kernels_cuda_benchmark" --out "$O/kernels_cuda.csv" || rc=$?
    python3 benchmarks/torch_ef_topk.py --out "$O/torch_ef_topk.csv" || rc=$?
    LD_LIBRARY_PATH="$B/lib:${LD_LIBRARY_PATH:-}" "$B/gcsim" calibrate kernels --device cuda --repeats 20 \
      --out "$O/h100-profile.toml" --csv "$O/h100-calibration.csv" || rc=$?
    exit "$rc"
    ;;
  *)
    echo "usage: tools/device-kernels.sh stage|run" >&2
    exit 2
    ;;
esac
