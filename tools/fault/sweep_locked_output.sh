#!/usr/bin/env bash
# Fault test: two sweeps into one --out at once. While a first sweep runs,
# second sweeps into the same directory (plain, --resume and --force) must be
# refused (exit 2, one line naming the lock) and the first must complete with
# a results.csv identical to an undisturbed run's. Then a sweep is SIGKILLed
# and another one must be able to take the directory at once (the lock does
# not outlive its process).
#
#   tools/fault/sweep_locked_output.sh GCSIM [quick|full]
#
# Prints one line:
#   locked output: second sweeps T, refused R, first sweep complete C, bytes differing B, lock released after kill K
set -u
G=$(realpath "${1:?usage: sweep_locked_output.sh GCSIM [quick|full]}")
SIZE=${2:-full}
. "$(dirname "$0")/sweep_common.sh"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
if [ "$SIZE" = quick ]; then make_sweep "$T/sweep.toml" 1 2 4 8 16 32 64; else make_sweep "$T/sweep.toml" 1 2 4 8 16 32 64 128; fi
RUN=("$G" sweep "$T/sweep.toml" --jobs 1)
"${RUN[@]}" --out "$T/ref" >/dev/null 2>"$T/err" || { echo "locked output: the reference run failed: $(cat "$T/err")"; exit 1; }

# wait_locked DIR PID: until DIR/.lock is held (or PID has ended).
wait_locked() {
  for _ in $(seq 1 500); do
    if [ -e "$1/.lock" ] && ! flock -n "$1/.lock" true; then return 0; fi
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.01
  done
  return 1
}

tries=0 refused=0
"${RUN[@]}" --out "$T/out" >"$T/first.out" 2>"$T/first.err" &
first=$!
if wait_locked "$T/out" "$first"; then
  for flags in "" "--resume" "--force"; do
    tries=$((tries + 1))
    # shellcheck disable=SC2086
    "${RUN[@]}" --out "$T/out" $flags >/dev/null 2>"$T/second.err"
    rc=$?
    if [ "$rc" -eq 2 ] && [ "$(wc -l <"$T/second.err")" -eq 1 ] && grep -q "another gcsim sweep is writing into this directory" "$T/second.err"; then
      refused=$((refused + 1))
    else
      echo "second sweep ${flags:-(plain)}: exit $rc: $(cat "$T/second.err")" >&2
    fi
  done
else
  echo "the first sweep ended before it could be raced (make the sweep bigger)" >&2
fi
wait "$first"; rc=$?
complete=0
[ "$rc" -eq 0 ] && [ ! -s "$T/first.err" ] && complete=1
[ "$rc" -eq 0 ] || echo "first sweep: exit $rc: $(cat "$T/first.err")" >&2
differ=$(bytes_differing "$T/ref/results.csv" "$T/out/results.csv")

# A killed holder releases the lock: SIGKILL a sweep while it holds it, then resume at once.
released=0
"${RUN[@]}" --out "$T/killed" >/dev/null 2>&1 &
pid=$!
if wait_locked "$T/killed" "$pid"; then
  kill -9 "$pid"; wait "$pid" 2>/dev/null
  "${RUN[@]}" --out "$T/killed" --resume >/dev/null 2>"$T/k.err" && cmp -s "$T/ref/results.csv" "$T/killed/results.csv" \
    && released=1
  [ "$released" -eq 1 ] || echo "resume after a killed sweep: $(cat "$T/k.err")" >&2
else
  wait "$pid"
  echo "the sweep to kill ended before it held the lock" >&2
fi

echo "locked output: second sweeps $tries, refused $refused, first sweep complete $complete, bytes differing $differ, lock released after kill $released"
[ "$tries" -eq 3 ] && [ "$refused" -eq 3 ] && [ "$complete" -eq 1 ] && [ "$differ" -eq 0 ] && [ "$released" -eq 1 ]
