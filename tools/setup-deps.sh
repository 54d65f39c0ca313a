#!/usr/bin/env bash
# Installs gcsim's build and run dependencies from Debian's packages.
# Idempotent: installs only what is missing, and needs root (or sudo) only then.
# Extra package names on the command line are installed the same way, beside
# these (tools/run-fuzz.sh: clang-14 libclang-rt-14-dev).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libtomlplusplus-dev          # toml++ (scenario files)
  libboost-graph-dev           # Boost.Graph (topology)
  libboost-program-options-dev # CLI
  catch2                       # tests (Catch2 v2)
  libbenchmark-dev             # Google Benchmark
  python3 python3-matplotlib   # plots (Debian's python, /usr/bin/python3)
  python3-torch python3-torchvision  # tools/profile_model.py: measured per-layer compute (tests run it on the CPU)
  libopenblas-dev              # training: CBLAS GEMM for conv and fc layers
  libgloo-dev                  # training: collectives between worker processes (TCP)
  zlib1g-dev                   # training: reading the gzipped IDX files
  dataset-fashion-mnist        # training data: /usr/share/datasets/fashion-mnist
  iproute2                     # tools/netem.sh: network namespaces and tc shaping
  "$@"                         # what the caller needs besides
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup-deps: all dependencies present"
  exit 0
fi

echo "setup-deps: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo_cmd=(sudo); else
    echo "setup-deps: need root to install: ${missing[*]}" >&2; exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
