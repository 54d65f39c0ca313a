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
#   tools/device.sh run     # there, in one call (budget: 10 minutes): GPU tests, CUDA
#                           # kernel sweep (GB/s against the device's peak), PyTorch
#                           # peer, calibrate kernels --device cuda, calibrate
#                           # collectives --backend nccl, profile_model.py on CUDA,
#                           # GPU training; into out/device, then one tarball in $OUT
#   tools/device.sh unpack TARBALL   # here: into reports/gpu/<device name>/
#
# Every step has its own time limit (STEP_S, default 150 s) and the whole run
# stops starting steps after BUDGET_S (default 540 s), so the call ends inside
# the device's 10-minute command limit with whatever finished. NCCL is not
# carried (libnccl is 200 MB): the run looks for the device's own (CUDA's, or
# PyTorch's nvidia-nccl wheel) and puts it on the loader path.
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
    O=${RESULTS:-out/device}
    if [ -e "$O" ] && [ "${FORCE:-0}" != 1 ]; then echo "device.sh: $O exists; move it away or set FORCE=1" >&2; exit 2; fi
    rm -rf "$O"
    mkdir -p "$O"
    export LD_LIBRARY_PATH="$D/lib:${LD_LIBRARY_PATH:-}"
    # NCCL: the device's own (gcsim loads libnccl.so.2 at run time)
    nccl_lib=$( (ls /usr/local/cuda/lib*/libnccl.so.2 /usr/lib/x86_64-linux-gnu/libnccl.so.2 2>/dev/null;
      python3 -c 'import nvidia.nccl, os; print(os.path.join(list(nvidia.nccl.__path__)[0], "lib", "libnccl.so.2"))' 2>/dev/null;
      find / -xdev -name libnccl.so.2 2>/dev/null) | head -n 1 || true)
    nccl_dir=""
    if [ -n "$nccl_lib" ] && [ -e "$nccl_lib" ]; then nccl_dir=$(dirname "$nccl_lib"); export LD_LIBRARY_PATH="$nccl_dir:$LD_LIBRARY_PATH"; fi
    G="$D/bin/gcsim"
    STEP_S=${STEP_S:-150}
    BUDGET_S=${BUDGET_S:-540}
    start_s=$SECONDS
    rc=0
    # step NAME CMD...: runs CMD under STEP_S with its output in $O/NAME.log, unless the budget is spent
    step() {
      local name=$1; shift
      if [ $((SECONDS - start_s)) -ge "$BUDGET_S" ]; then
        echo "$name: skipped (the ${BUDGET_S} s budget is spent)" | tee -a "$O/steps.txt"; rc=1; return
      fi
      local t0=$SECONDS r=0
      timeout -k 5 "$STEP_S" "$@" >"$O/$name.log" 2>&1 || r=$?
      echo "$name: exit $r in $((SECONDS - t0)) s" | tee -a "$O/steps.txt"
      [ "$r" -eq 0 ] || { rc=1; tail -n 5 "$O/$name.log"; }
    }
    { echo "name: $(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -n 1)"
      nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv; echo "nccl: ${nccl_dir:-not found}"; } \
      >"$O/device.txt" 2>&1 || true
    step gpu-tests "$D/bin/gcsim_gpu_tests" --durations yes
    step kernels-cuda-benchmark "$D/bin/kernels_cuda_benchmark" --out "$O/kernels_cuda.csv"
    step torch-ef-topk python3 benchmarks/torch_ef_topk.py --out "$O/torch_ef_topk.csv"
    step calibrate-kernels "$G" calibrate kernels --device cuda --repeats 20 --out "$O/gpu-profile.toml" \
      --csv "$O/gpu-calibration.csv"
    # One GPU: NCCL's one-rank check only (NCCL refuses two ranks on one GPU); the command says so.
    step calibrate-nccl "$G" calibrate collectives --backend nccl --max-bytes 268435456 --repeats 10 --warmup 3 \
      --out "$O/nccl-profile.toml" --csv "$O/nccl.csv" --nccl-tests-out "$O/nccl-tests.txt"
    step profile-model-resnet18 python3 tools/profile_model.py --model resnet18 --batch 32 --device cuda \
      --out "$O/resnet18-layers.toml"
    step profile-model-resnet50 python3 tools/profile_model.py --model resnet50 --batch 32 --device cuda \
      --out "$O/resnet50-layers.toml"
    # Training on the GPU: P = 4 processes sharing it (--comm auto: Gloo, as one GPU cannot hold two
    # NCCL ranks), 10 epochs, dense and Top-K 1 % + EF, the scenario of reports/training.md's CPU runs.
    for run in "dense|--set compression.method=none" \
               "topk-ef-0.01|--set compression.method=topk --set compression.ratio=0.01 --set compression.error_feedback=true"; do
      name=${run%%|*}
      # shellcheck disable=SC2086
      step "train-gpu-$name" "$G" train scenarios/train/fashion-p4.toml ${run#*|} --set training.epochs=10 \
        --set "data.dir=\"$D/data\"" --device cuda --out "$O/train-gpu-$name"
    done
    echo "total: $((SECONDS - start_s)) s, exit $rc" | tee -a "$O/steps.txt"
    # One file back ($OUT takes 8 files, 2 folders deep): the whole folder as a tarball.
    if [ -n "${OUT:-}" ]; then mkdir -p "$OUT" && tar -czf "$OUT/gpu-report.tar.gz" -C "$O" . && ls -la "$OUT"; fi
    exit "$rc"
    ;;
  unpack)
    tarball=${2:?usage: tools/device.sh unpack TARBALL}
    tmp=$(mktemp -d)
    tar -xzf "$tarball" -C "$tmp"
    name=$(sed -n 's/^name: //p' "$tmp/device.txt" | head -n 1 | tr -c 'A-Za-z0-9._\n-' '-' | sed 's/-*$//')
    [ -n "$name" ] || name=unknown-gpu
    dest=reports/gpu/$name
    if [ -e "$dest" ]; then echo "device.sh: $dest exists; move it away first" >&2; rm -rf "$tmp"; exit 2; fi
    mkdir -p reports/gpu
    mv "$tmp" "$dest"
    echo "unpacked into $dest"
    ;;
  *)
    echo "usage: tools/device.sh stage|run|unpack TARBALL" >&2
    exit 2
    ;;
esac
