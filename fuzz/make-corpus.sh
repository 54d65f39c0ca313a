#!/usr/bin/env bash
# Builds the seed corpora of the fuzz targets, deterministically, into
# BUILD/corpus/<target>/ (BUILD defaults to build/fuzz; the fuzz preset must
# be built: the binary seeds come from its gcsim_fuzz_make_seeds).
#   scenario_loader  every scenario under scenarios/ (not profiles/, sweeps/),
#                    plus copies with "#set key=value" lines in front (--set)
#   train_loader     the same files (the training keys live in scenario files),
#                    scenarios/train/ first, with training --set lines
#   profile_loader   scenarios/profiles/*.toml
#   sweep_loader     scenarios/sweeps/*.toml (written into the sandbox's in/,
#                    so "../h100-cluster.toml" resolves as it does in sweeps/)
#   idx_reader, checkpoint_reader, wire_unpack
#                    gcsim_fuzz_make_seeds (fuzz/make_seeds.cpp): IDX files,
#                    checkpoints and packed buffers as the tests make them
# Old corpora are replaced: a corpus grown by a fuzzing run lives elsewhere
# (tools/run-fuzz.sh keeps one per target under BUILD/corpus-run/).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build/fuzz}
out=$build/corpus
seeds=$build/fuzz/gcsim_fuzz_make_seeds
[ -x "$seeds" ] || { echo "make-corpus: $seeds not built (cmake --build --preset fuzz)" >&2; exit 1; }

rm -rf "$out"
mkdir -p "$out"/{scenario_loader,train_loader,profile_loader,sweep_loader}

# A file's seed name: its path under scenarios/ with / as '-'.
name_of() { local rel=${1#"$src"/scenarios/}; echo "${rel//\//-}"; }

mapfile -t scenario_files < <(cd "$src" && find scenarios -name '*.toml' -not -path 'scenarios/profiles/*' \
                                -not -path 'scenarios/sweeps/*' | LC_ALL=C sort)
for f in "${scenario_files[@]}"; do
  cp "$src/$f" "$out/scenario_loader/$(name_of "$src/$f")"
  cp "$src/$f" "$out/train_loader/$(name_of "$src/$f")"
done
{ printf '#set cluster.workers=64\n#set compression.ratio=0.001\n#set compression.method=topk\n'
  cat "$src/scenarios/h100-cluster.toml"; } > "$out/scenario_loader/h100-cluster.toml.sets"
{ printf '#set model.name=resnet18\n#set collective.algorithm=hierarchical\n#set stragglers.cv=0.1\n'
  cat "$src/scenarios/dgx-h100.toml"; } > "$out/scenario_loader/dgx-h100.toml.sets"
for f in "$src"/scenarios/train/*.toml; do
  { printf '#set training.epochs=2\n#set data.limit_train=100\n#set optimizer.lr=0.05\n#set compression.method=threshold\n'
    cat "$f"; } > "$out/train_loader/$(name_of "$f").sets"
done
for f in "$src"/scenarios/profiles/*.toml; do cp "$f" "$out/profile_loader/$(name_of "$f")"; done
for f in "$src"/scenarios/sweeps/*.toml; do cp "$f" "$out/sweep_loader/$(name_of "$f")"; done

"$seeds" "$out"
for d in "$out"/*/; do echo "make-corpus: $(basename "$d"): $(find "$d" -type f | wc -l) seeds"; done
