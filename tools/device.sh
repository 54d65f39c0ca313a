#!/usr/bin/env bash
# The GPU half of the reports (reports/kernels.md, reports/training.md), for a
# machine with an NVIDIA GPU, CUDA's driver and PyTorch but none of Debian's
# libraries and no Fashion-MNIST.
#
#   tools/device.sh stage   # here, after building build/release with CUDA: a
#                           # self-contained bundle in build/device (carry it):
#                           #   bin/   gcsim, gcsim_gpu_tests, kernels_cuda_benchmark
#                           #   lib/   the shared libraries they need, except glibc's
#                           #   data/  Debian's Fashion-MNIST files
#   tools/device.sh run     # there: GPU tests, CUDA kernel sweep, PyTorch peer,
#                           # calibrate --device cuda, GPU training runs; into $OUT
#
# To fit the 64 MiB a device call may carry, lib/libopenblas.so.0 is Debian's
# reference BLAS (netlib, 0.4 MB, with CBLAS) under OpenBLAS's name instead of
# OpenBLAS (35 MB): on the device the model runs on cuBLAS, and the CPU model
# only serves as the GPU tests' reference, where speed does not matter. CPU
# timings taken from the bundle are therefore not representative.
set -euo pipefail
B=${BUILD:-build/release}
D=${BUNDLE:-build/device}
case "${1:-}" in
  stage)
    rm -rf "$D"
    mkdir -p "$D/bin" "$D/lib" "$D/data"
    bins=("$B/gcsim" "$B/tests/gcsim_gpu_tests" "$B/benchmarks/kernels_cuda_benchmark")
    cp "${bins[@]}" "$D/bin/"
    strip "$D"/bin/*
    for b in "${bins[@]}"; do ldd "$b"; done | awk '$3 ~ /^\// {print $1, $3}' | sort -u |
      while read -r name path; do
        case "$name" in
          libc.so.*|libm.so.*|libpthread.so.*|libdl.so.*|librt.so.*|ld-linux*) ;;   # glibc: the device's own
          libopenblas.so.*|libgfortran.so.*|libquadmath.so.*) ;;                    # replaced below
          *) cp -L "$path" "$D/lib/$name" ;;
        esac
      done
    netlib=/usr/lib/x86_64-linux-gnu/blas/libblas.so.3
    [ -e "$netlib" ] || { echo "device.sh: $netlib missing (apt-get install libblas3)" >&2; exit 2; }
    cp -L "$netlib" "$D/lib/libopenblas.so.0"
    cp /usr/share/datasets/fashion-mnist/*.gz "$D/data/"
    du -sh "$D" "$D"/*
    ;;
  run)
    O=${OUT:-out/device}
    mkdir -p "$O"
    export LD_LIBRARY_PATH="$D/lib:${LD_LIBRARY_PATH:-}"
    G="$D/bin/gcsim"
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv >"$O/device.txt" || true
    rc=0
    "$D/bin/gcsim_gpu_tests" --durations yes >"$O/gpu-tests.txt" 2>&1 || rc=$?
    tail -3 "$O/gpu-tests.txt"
    "$D/bin/kernels_cuda_benchmark" --out "$O/kernels_cuda.csv" || rc=$?
    python3 benchmarks/torch_ef_topk.py --out "$O/torch_ef_topk.csv" || rc=$?
    "$G" calibrate kernels --device cuda --repeats 20 --out "$O/h100-profile.toml" --csv "$O/h100-calibration.csv" ||
      rc=$?
    # Training on the GPU: P = 4 processes sharing it, 10 epochs, dense and Top-K 1 % + EF,
    # the same scenario as reports/training.md's CPU runs.
    for run in "dense|--set compression.method=none" \
               "topk-ef-0.01|--set compression.method=topk --set compression.ratio=0.01 --set compression.error_feedback=true"; do
      name=${run%%|*}
      # shellcheck disable=SC2086
      "$G" train scenarios/train/fashion-p4.toml ${run#*|} --set training.epochs=10 --set "data.dir=\"$D/data\"" \
        --device cuda --out "$O/train-gpu-$name" >"$O/train-gpu-$name.log" 2>&1 || rc=$?
      tail -4 "$O/train-gpu-$name.log"
    done
    exit "$rc"
    ;;
  *)
    echo "usage: tools/device.sh stage|run" >&2
    exit 2
    ;;
esac
