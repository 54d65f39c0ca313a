#!/usr/bin/env bash
# gcsim train with every rank started on its own, as a cluster scheduler
# starts it (--rendezvous; no launcher): ranks by hand from --rank/--world-size,
# SLURM_PROCID/SLURM_NTASKS and OMPI_COMM_WORLD_RANK/SIZE, meeting in a
# rendezvous directory; one output directory (a shared filesystem) or one per
# rank (separate hosts); a TCP store that rank 0 serves (no shared
# filesystem); one-line errors with exit 2. As root, the same with
# each rank in its own network namespace of tools/netem.sh's emulated cluster,
# bound to that namespace's address. Usage: train_multihost_test.sh path/to/gcsim
set -u
G=$(cd "$(dirname "${1:?usage: train_multihost_test.sh path/to/gcsim}")" && pwd)/$(basename "$1")
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DATA=/usr/share/datasets/fashion-mnist
if [ ! -d "$DATA" ]; then echo "SKIP: $DATA missing (apt-get install dataset-fashion-mnist)"; exit 77; fi
T=$(mktemp -d)
chmod 755 "$T"
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/cli_helpers.sh"  # fail, expect_error
cd "$ROOT"

S=scenarios/train/fashion-p4.toml
Q=(--set cluster.workers=2 --set data.limit_train=256 --set data.limit_test=100 --set training.epochs=1 --timeout 20)

# --- one shared output directory: rank 1 from --rank, rank 0 from Slurm's environment ----
mkdir "$T/rdv1"
$G train $S "${Q[@]}" --rendezvous "$T/rdv1" --rank 1 --world-size 2 --run-id slurm-4242 --out "$T/shared" >"$T/r1.out" 2>"$T/r1.err" &
r1=$!
SLURM_PROCID=0 SLURM_NTASKS=2 SLURM_JOB_ID=4242 $G train $S "${Q[@]}" --rendezvous "$T/rdv1" \
  --out "$T/shared" >"$T/r0.out" 2>"$T/r0.err" || fail "rank 0: $(tail -1 "$T/r0.err")"
wait $r1 || fail "rank 1: $(tail -1 "$T/r1.err")"
grep -q "replicas identical: yes" "$T/r0.out" || fail "shared: no summary on rank 0: $(cat "$T/r0.out")"
grep -q "rank 0 of 2, SLURM_PROCID/SLURM_NTASKS, run id slurm-4242" "$T/r0.out" || fail "shared: $(tail -1 "$T/r0.out")"
[ ! -s "$T/r1.out" ] || fail "rank 1 printed a summary"
for f in summary.json epochs.csv steps-rank0.csv steps-rank1.csv checkpoint/rank-0.ckpt checkpoint/rank-1.ckpt; do
  [ -f "$T/shared/$f" ] || fail "shared: $f missing"
done
ls -d "$T"/shared.partial-* >/dev/null 2>&1 && fail "shared: a partial directory is left"

# --- one directory per rank, as on hosts without a shared filesystem: mpirun's environment -----
mkdir "$T/rdv2" "$T/host0" "$T/host1" "$T/tcp0" "$T/tcp1"
OMPI_COMM_WORLD_RANK=1 OMPI_COMM_WORLD_SIZE=2 $G train $S "${Q[@]}" --rendezvous "$T/rdv2" \
  --out "$T/host1/run" >/dev/null 2>"$T/r1.err" &
r1=$!
OMPI_COMM_WORLD_RANK=0 OMPI_COMM_WORLD_SIZE=2 $G train $S "${Q[@]}" --rendezvous "$T/rdv2" \
  --out "$T/host0/run" >"$T/r0.out" 2>"$T/r0.err" || fail "mpirun rank 0: $(tail -1 "$T/r0.err")"
wait $r1 || fail "mpirun rank 1: $(tail -1 "$T/r1.err")"
[ -f "$T/host0/run/summary.json" ] && [ -f "$T/host0/run/steps-rank0.csv" ] || fail "host 0: $(ls "$T/host0/run")"
[ -f "$T/host1/run/steps-rank1.csv" ] && [ ! -e "$T/host1/run/summary.json" ] || fail "host 1: $(ls "$T/host1/run")"
cmp -s <(tail -1 "$T/host0/run/steps-rank0.csv" | cut -d, -f1-5) <(tail -1 "$T/host1/run/steps-rank1.csv" | cut -d, -f1-5) &&
  fail "the ranks logged the same batch loss"  # each rank its own shard

# --- no shared filesystem at all: rank 0 serves a TCP store -------------------------------------
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
$G train $S "${Q[@]}" --rendezvous "tcp://127.0.0.1:$PORT" --rank 1 --world-size 2 --out "$T/tcp1/run" \
  >/dev/null 2>"$T/r1.err" &
r1=$!
sleep 0.5  # rank 1 first: it retries until rank 0's store is up
$G train $S "${Q[@]}" --rendezvous "tcp://127.0.0.1:$PORT" --rank 0 --world-size 2 --out "$T/tcp0/run" \
  >"$T/r0.out" 2>"$T/r0.err" || fail "tcp rank 0: $(tail -1 "$T/r0.err")"
wait $r1 || fail "tcp rank 1: $(tail -1 "$T/r1.err")"
grep -q "replicas identical: yes" "$T/r0.out" || fail "tcp: no summary: $(cat "$T/r0.out")"

# --- bad input: one line, exit 2, nothing written ------------------------------------------
mkdir "$T/rdv3"
expect_error 2 "world size 3 but the scenario has cluster.workers = 2" -- \
  $G train $S "${Q[@]}" --rendezvous "$T/rdv3" --rank 0 --world-size 3 --out "$T/bad"
expect_error 2 "rank must be in \[0, 2\) \(got 2\)" -- $G train $S "${Q[@]}" --rendezvous "$T/rdv3" --rank 2 --world-size 2 --out "$T/bad"
expect_error 2 "--rank and --world-size go together" -- $G train $S "${Q[@]}" --rendezvous "$T/rdv3" --rank 0 --out "$T/bad"
expect_error 2 "SLURM_PROCID=x: not an integer" -- env SLURM_PROCID=x SLURM_NTASKS=2 $G train $S "${Q[@]}" --rendezvous "$T/rdv3" --out "$T/bad"
expect_error 2 "SLURM_NTASKS is not set, but SLURM_PROCID is" -- env -u SLURM_NTASKS SLURM_PROCID=0 $G train $S "${Q[@]}" --rendezvous "$T/rdv3" --out "$T/bad"
expect_error 2 "no rank: give --rank and --world-size" -- env -u SLURM_PROCID -u SLURM_NTASKS -u OMPI_COMM_WORLD_RANK -u OMPI_COMM_WORLD_SIZE $G train $S "${Q[@]}" --rendezvous "$T/rdv3" --out "$T/bad"
expect_error 2 "--rendezvous $T/nowhere: is not a directory" -- $G train $S "${Q[@]}" --rendezvous "$T/nowhere" --rank 0 --world-size 2 --out "$T/bad"
expect_error 2 "--rendezvous: tcp://h:99999: not a TCP address" -- $G train $S "${Q[@]}" --rendezvous tcp://h:99999 --rank 0 --world-size 2 --out "$T/bad"
expect_error 2 "--rank: and --world-size are for ranks started on their own" -- $G train $S "${Q[@]}" --rank 0 --world-size 2 --out "$T/bad"
expect_error 2 "--hosts: is the launcher's; a rank started on its own binds --host" -- $G train $S "${Q[@]}" --rendezvous "$T/rdv3" --rank 0 --world-size 2 --hosts 127.0.0.1,127.0.0.1 --out "$T/bad"
expect_error 2 "--run-id a/b: only letters" -- $G train $S "${Q[@]}" --rendezvous "$T/rdv3" --rank 0 --world-size 2 --run-id a/b --out "$T/bad"
expect_error 2 "--out $T/shared: already exists" -- $G train $S "${Q[@]}" --rendezvous "$T/rdv3" --rank 0 --world-size 2 --out "$T/shared"
expect_error 1 "not every rank came within the --timeout: start all 2 with the same --rendezvous directory and run id, here alone" -- \
  $G train $S --set cluster.workers=2 --set data.limit_train=256 --timeout 2 --rendezvous "$T/rdv3" --rank 0 \
  --world-size 2 --run-id alone --out "$T/bad"
ls "$T" | grep -q "^bad" && fail "bad input left $(ls -d "$T"/bad*)"

# --- as root: each rank by hand in its own namespace of the emulated cluster, meeting at a -------
# --- TCP store that rank 0 serves at its namespace's address ------------------------------------
if [ "$(id -u)" = 0 ] && command -v ip >/dev/null && ip netns add gcsim-mhtest-probe-$$ 2>/dev/null; then
  ip netns del gcsim-mhtest-probe-$$
  cat >"$T/by-hand.sh" <<SCRIPT
#!/usr/bin/env bash
# netem.sh appends --exec-prefix "ip netns exec NS-{rank}" --hosts A0,A1: start each rank there by hand.
prefix=\$2; IFS=, read -r -a hosts <<<"\$4"
for r in 1 0; do
  \${prefix//\{rank\}/\$r} env SLURM_PROCID=\$r SLURM_NTASKS=2 $G train $S ${Q[*]} --rendezvous tcp://\${hosts[0]}:29517 \\
    --host \${hosts[\$r]} --out $T/netns >$T/ns\$r.out 2>$T/ns\$r.err &
  pids[\$r]=\$!
done
wait \${pids[0]} && wait \${pids[1]}
SCRIPT
  chmod +x "$T/by-hand.sh"
  "$ROOT/tools/netem.sh" --workers 2 --rate-mbit 200 --no-measure --name mh$$ -- "$T/by-hand.sh" 2>"$T/netem.err" ||
    fail "netns ranks: $(tail -2 "$T/netem.err"; tail -1 "$T/ns0.err" "$T/ns1.err" 2>/dev/null)"
  grep -q "replicas identical: yes" "$T/ns0.out" || fail "netns: no summary: $(cat "$T/ns0.out")"
  # Rank 0's traffic went through its namespace's eth0 (netem counts it).
  grep -q "netem: rank 0 tx" "$T/netem.err" || fail "netns: no traffic counted: $(cat "$T/netem.err")"
  ip netns list | grep -q "gcsim-mh$$" && fail "namespaces left behind: $(ip netns list)"
else
  echo "note: not root (or no network namespaces): the namespace case skipped"
fi

[ "$fails" = 0 ] && echo "train multihost tests passed"
exit $((fails > 0))
