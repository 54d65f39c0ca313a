#!/usr/bin/env bash
# The gcsim CLI's outputs and messages: only regular files are replaced, every
# output path is checked before any is written, '-' is stdout, failed writes to
# stdout are errors, command-line paths are relative to the current directory,
# and every error is one line with one "gcsim CMD:" prefix, naming the --set
# flag it came from. Usage: cli_output_test.sh path/to/gcsim (from the source root)
set -u
G=${1:?usage: cli_output_test.sh path/to/gcsim}
G=$(realpath "$G")
SRC=$PWD
S=$SRC/scenarios/h100-cluster.toml
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# quick calibrations, so that a bug that lets one run does not take minutes
C="$G calibrate kernels --min-n 1e3 --max-n 1e3 --per-decade 1 --repeats 1 --warmup 0 --ops topk"
. "$(dirname "$0")/cli_helpers.sh"  # fail, expect_error

# --- 1. only regular files are replaced, even with --force ----------------------
echo keep >"$T/target"
ln -s "$T/target" "$T/link"
mkfifo "$T/fifo"
mkdir "$T/dir"
expect_error 2 "link: is a symbolic link" -- $G simulate $S --out "$T/link" --force
[ -L "$T/link" ] && [ "$(cat "$T/target")" = keep ] || fail "--force replaced a symlink"
expect_error 2 "fifo: is a FIFO" -- $G simulate $S --out "$T/fifo" --force
[ -p "$T/fifo" ] || fail "--force replaced a FIFO"
expect_error 2 "dir: is a directory" -- $G simulate $S --out "$T/dir" --force
[ -d "$T/dir" ] || fail "--force replaced a directory"
expect_error 2 "dir: is a directory" -- $G simulate $S --trace "$T/dir" --force --out "$T/never.txt"
if /usr/bin/python3 -c "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])" "$T/sock" 2>/dev/null; then
  expect_error 2 "sock: is a socket" -- $G simulate $S --out "$T/sock" --force
  [ -S "$T/sock" ] || fail "--force replaced a socket"
fi
if [ "$(id -u)" -eq 0 ] && mknod "$T/null" c 1 3 2>/dev/null; then
  expect_error 2 "null: is a character device" -- $G simulate $S --out "$T/null" --force
  [ -c "$T/null" ] || fail "--force replaced a device node"
fi
expect_error 2 "link: is a symbolic link" -- $C --out "$T/link" --force
expect_error 2 "fifo: is a FIFO" -- $G report seed --out "$T/fifo" --force
ls "$T" | grep -q '\.tmp\.' && fail "a temporary file was left behind: $(ls "$T")"
# a regular file is still replaced with --force
echo old >"$T/r.txt"
$G simulate $S --out "$T/r.txt" --force || fail "--force on a regular file"
grep -q "iteration time" "$T/r.txt" || fail "--force did not replace the regular file"

# --- 1. unwritable paths: exit 2, one line naming the path and the reason ------------
expect_error 2 "/proc/gcsim-out.json: .*(No such file|Permission denied|Read-only)" -- $G simulate $S --out /proc/gcsim-out.json
expect_error 2 "nodir/x.json: directory .*nodir does not exist" -- $G simulate $S --out "$T/nodir/x.json"

# --- 1. all output paths checked, distinct, before anything is written --------------
expect_error 2 "x.json: .*--trace and --out name the same file" -- $G simulate $S --trace "$T/x.json" --out "$T/x.json"
[ ! -e "$T/x.json" ] || fail "refused run left its trace behind"
expect_error 2 "--trace and --out name the same file" -- $G simulate $S --trace "$T/y.json" --out "$T/dir/../y.json"
[ ! -e "$T/y.json" ] || fail "refused run left its trace behind (same file, other spelling)"
expect_error 2 "--out and --csv name the same file" -- $C --out "$T/p.toml" --csv "$T/p.toml"

# --- 1. --out - is stdout ---------------------------------------------------------
(cd "$T" && $G simulate $S --format csv --out - >"$T/stdout.csv") || fail "simulate --out -"
[ "$(wc -l <"$T/stdout.csv")" -eq 2 ] || fail "--out - did not write the csv to stdout"
[ ! -e "$T/-" ] || fail "--out - created a file named '-'"
(cd "$T" && $G report seed --out - | grep -q "problem statement") || fail "report --out -"
[ ! -e "$T/-" ] || fail "report --out - created a file named '-'"
expect_error 2 "--out -: .*stdout" -- $C --out -
expect_error 2 "--trace -: .*stdout" -- $G simulate $S --trace -

# --- 1. a failed write to stdout is an error (exit 1, one line) --------------------
if [ -w /dev/full ]; then
  expect_error 1 "gcsim simulate: cannot write to stdout: No space left" -- sh -c "\"$G\" simulate $S >/dev/full"
  expect_error 1 "gcsim models: cannot write to stdout" -- sh -c "\"$G\" models >/dev/full"
  expect_error 1 "gcsim simulate: cannot write to stdout" -- sh -c "\"$G\" simulate $S --out - >/dev/full"
  expect_error 1 "gcsim: cannot write to stdout" -- sh -c "\"$G\" --help >/dev/full"
fi

# --- 2. paths on the command line are relative to the current directory ---------------
mkdir -p "$T/cwd" "$T/scen/sub"
cp "$SRC/scenarios/profiles/default.toml" "$T/cwd/my-cpu.toml"
sed -i 's/^name = .*/name = "my-cpu"/' "$T/cwd/my-cpu.toml"
(cd "$T/cwd" && $G simulate $S --set profile=my-cpu.toml >"$T/o" 2>"$T/err") || fail "--set profile=FILE relative to cwd: $(cat "$T/err")"
grep -q "profile    my-cpu" "$T/o" || fail "--set profile did not use the cwd's file: $(head -5 "$T/o")"
(cd "$T/cwd" && $G simulate $S --set 'profile="./my-cpu.toml"' >"$T/o" 2>"$T/err") || fail "--set profile=\"./FILE\": $(cat "$T/err")"
# the README's flow: calibrate into the current directory, then simulate with that profile
(cd "$T/cwd" && $C --out cal.toml >/dev/null 2>"$T/err" && $G simulate $S --set profile=cal.toml >"$T/o" 2>>"$T/err") \
  || fail "calibrate --out FILE then --set profile=FILE: $(cat "$T/err")"
grep -q "profile    calibrated-cpu" "$T/o" || fail "--set profile did not read the calibrated profile"
# ... and paths written in a file are relative to that file
cp "$S" "$T/scen/sub/s.toml"
echo 'profile = "../../cwd/my-cpu.toml"' | cat - "$S" >"$T/scen/sub/s.toml"
(cd / && $G simulate "$T/scen/sub/s.toml" | grep -q "profile    my-cpu") || fail "profile in a file is relative to that file"
expect_error 2 "--set profile=nothere.toml: profile: in the profile it names: nothere.toml: cannot open file" -- $G simulate $S --set profile=nothere.toml

# --- 3. every error one line, naming the --set flag ------------------------------
expect_error 2 '--set compression.method="a\\nb": compression.method: unknown value .a\\nb.' -- $G simulate $S --set 'compression.method="a\nb"'
expect_error 2 '--set compression.method="a\\nb": TOML syntax error in the value' -- $G simulate $S --set "compression.method=\"a
b\""
printf 'name = "x"\n[model]\nname = "res\\tnet\\u0007"\n' >"$T/ctl.toml"
expect_error 2 "ctl.toml:3:[0-9]+: model.name: unknown value 'res\\\\tnet\\\\x07'" -- $G simulate "$T/ctl.toml"
expect_error 2 '^gcsim simulate: --set foo.bar=4: foo: unknown key' -- $G simulate $S --set foo.bar=4
expect_error 2 '^gcsim simulate: --set cluster.workers=\[1: TOML syntax error in the value: .*end-of-file' -- $G simulate $S --set 'cluster.workers=[1'
expect_error 2 '^gcsim simulate: --set cluster.workers=1e400: 1e400 is out of range' -- $G simulate $S --set cluster.workers=1e400
expect_error 2 '^gcsim simulate: --set cluster.workers=99999999999999999999: .*not representable in 64 bits' -- $G simulate $S --set cluster.workers=99999999999999999999
expect_error 2 '^gcsim simulate: --set compression.method="topk: TOML syntax error in the value' -- $G simulate $S --set 'compression.method="topk'
expect_error 2 "^gcsim simulate: --set cluster.workers.x=3: cluster.workers.x: 'cluster.workers' is an integer, not a table" -- $G simulate $S --set cluster.workers.x=3
# a bare word is still a string
$G simulate $S --set compression.method=randomk >/dev/null || fail "--set bare word as a string"
printf '"cluster".workers = 1\n"cluster".workers = 2\n' >"$T/dup.toml"
expect_error 2 "dup.toml:2:[0-9]+: TOML syntax error: .*cannot redefine existing integer '\"cluster\".workers'" -- $G simulate "$T/dup.toml"
grep -q clcluster "$T/err" && fail "garbled key in the TOML error: $(cat "$T/err")"
printf '[a]\nx = 1\n["a"]\n' >"$T/dup2.toml"
expect_error 2 "dup2.toml:3:1: TOML syntax error: .*cannot redefine existing table '\"a\"'" -- $G simulate "$T/dup2.toml"

# --- 3. one "gcsim CMD:" prefix -----------------------------------------------------
expect_error 2 "^gcsim calibrate: missing what to calibrate" -- $G calibrate --out "$T/q.toml"
expect_error 2 "^gcsim calibrate kernels: --out: is required" -- $G calibrate kernels
expect_error 2 "^gcsim calibrate collectives: --out: is required" -- $G calibrate collectives
expect_error 2 "^gcsim calibrate collectives: unexpected argument 'x'" -- $G calibrate collectives x
expect_error 2 "^gcsim simulate: missing SCENARIO.toml" -- $G simulate
expect_error 2 "^gcsim sweep: missing SWEEP.toml" -- $G sweep
expect_error 2 "^gcsim models: vgg61: unknown model" -- $G models vgg61
expect_error 2 "^gcsim report: nothing: unknown report" -- $G report nothing

# --- 4. unsigned options refuse negative and absurd values ----------------------------
expect_error 2 "^gcsim calibrate kernels: --threads -1: .*(>= 0|negative)" -- $C --threads -1 --out "$T/q.toml"
expect_error 2 "^gcsim calibrate kernels: --threads: must be between 0 .all cores. and" -- $C --threads 100000 --out "$T/q.toml"
expect_error 2 "--min-bytes -1: .*(>= 0|negative)" -- $G calibrate collectives --workers 2 --repeats 1 --warmup 0 --max-bytes 64 --min-bytes -1 --out "$T/q.toml"
expect_error 2 "--max-bytes -4: .*(>= 0|negative)" -- $G calibrate collectives --workers 2 --repeats 1 --warmup 0 --max-bytes=-4 --out "$T/q.toml"
expect_error 2 "^gcsim calibrate kernels: --repeats/--warmup/--parts: need 1 <= repeats <= 10000, 0 <= warmup <= 1000, 1 <= parts <= 1024" -- $C --parts 100000000 --out "$T/q.toml"
expect_error 2 "^gcsim calibrate kernels: --repeats/--warmup/--parts" -- timeout 20 $G calibrate kernels --min-n 1e3 --max-n 1e3 --per-decade 1 --ops topk --repeats 1000000000 --out "$T/q.toml"
expect_error 2 "^gcsim calibrate collectives: --repeats/--warmup: need 1 <= repeats <= 10000, 0 <= warmup <= 1000" -- timeout 20 $G calibrate collectives --workers 2 --max-bytes 64 --repeats 1000000000 --out "$T/q.toml"
expect_error 2 "^gcsim calibrate collectives: --timeout: must be > 0 seconds and at most a day" -- timeout 20 $G calibrate collectives --workers 2 --max-bytes 64 --repeats 1 --timeout 1e12 --out "$T/q.toml"
expect_error 2 "^gcsim simulate: --trace-ranks 0: must be >= 1" -- $G simulate $S --trace-ranks 0
[ ! -e "$T/q.toml" ] || fail "a refused calibrate wrote a profile"

# --- 4. --help: every subcommand listed, no internal options -------------------------
$G --help | grep -q "calibrate collectives" || fail "top-level --help omits calibrate collectives"
ch=$($G calibrate --help)
echo "$ch" | grep -q -- "--device" || fail "calibrate --help omits the kernels options"
echo "$ch" | grep -q -- "--workers" || fail "calibrate --help omits the collectives options"
for opt in --rendezvous --rank --world-size --run-id --host; do  # ranks started on their own
  $G train --help | grep -q -- "$opt" || fail "train --help omits $opt"
done
for h in "calibrate --help" "calibrate collectives --help" "train --help"; do
  out=$($G $h) || fail "$h"
  echo "$out" | grep -qiE -- "worker-rank|run-dir|internal" && fail "$h lists internal options"
done
$G calibrate collectives --help | grep -q -- "--exec-prefix" || fail "calibrate collectives --help lost a public option"

# Names the OS refuses to look up (ENAMETOOLONG) are bad input, not a
# filesystem_error (exit 1): train --out, and a sweep's base (found by fuzzing).
long=$(printf 'n%.0s' $(seq 300))
expect_error 2 "^gcsim train: --out .*File name too long" -- $G train scenarios/train/fashion-p4.toml --out "$T/$long/$long"
printf 'name = "x"\nbase = "%s/%s"\n[axes]\n"cluster.workers" = [1]\n' "$long" "$long" >"$T/longbase.toml"
expect_error 2 "longbase.toml:2:[0-9]+: base: " -- $G sweep "$T/longbase.toml" --out "$T/longsweep"
[ ! -e "$T/longsweep" ] || fail "a refused sweep created its --out"

if [ "$fails" -ne 0 ]; then echo "$fails failure(s)"; exit 1; fi
echo "cli output tests passed"
