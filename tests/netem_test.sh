#!/usr/bin/env bash
# tools/netem.sh end to end: refusal without root, argument errors, a shaped
# 3-worker cluster (exec prefix, hosts, reachability, measured bandwidth,
# nothing in the root namespace, stats), a two-level cluster (a namespace per
# node of 2 workers), a fat-tree (leaves, one spine, oversubscribed uplinks,
# placement), exit status passthrough, and teardown on failure, on Ctrl-C
# and after SIGKILL. Needs root and network namespaces.
# Exit 0 pass, 1 fail, 77 skip. Usage: tests/netem_test.sh (~10 s)
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NETEM=$ROOT/tools/netem.sh
SUBNET=${NETEM_SUBNET:-10.213.0}

if [ "$(id -u)" != 0 ]; then echo "SKIP: netem_test needs root (network namespaces and tc)"; exit 77; fi
for t in ip tc python3; do
  command -v $t >/dev/null || { echo "SKIP: netem_test needs '$t'"; exit 77; }
done
probe=gcsim-netemtest-probe-$$
if ! ip netns add "$probe" 2>/dev/null; then
  echo "SKIP: cannot create network namespaces here (no CAP_NET_ADMIN?)"; exit 77
fi
tc_ok=1
ip -n "$probe" link add ta type veth peer name tb 2>/dev/null &&
  tc -n "$probe" qdisc add dev ta root tbf rate 10mbit burst 16000 latency 50ms 2>/dev/null || tc_ok=0
ip netns del "$probe"
[ $tc_ok = 1 ] || { echo "SKIP: veth or the tbf qdisc is unavailable here"; exit 77; }

T=$(mktemp -d)
chmod 755 "$T"
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ns_left() { ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^gcsim-$1-" || true; }
t_start=$SECONDS

# --- (a) non-root: one line, exit 2, nothing created -----------------------------------------
cp "$NETEM" "$T/netem.sh"; chmod 755 "$T/netem.sh"   # reachable for nobody wherever the repo lives
if command -v setpriv >/dev/null; then
  setpriv --reuid=65534 --regid=65534 --clear-groups "$T/netem.sh" --workers 2 --name ntA$$ -- true >"$T/out" 2>"$T/err"
  rc=$?
else
  su nobody -s /bin/bash -c "'$T/netem.sh' --workers 2 --name ntA$$ -- true" >"$T/out" 2>"$T/err"
  rc=$?
fi
[ $rc = 2 ] || fail "(a) non-root: exit $rc, want 2"
[ "$(wc -l <"$T/err")" = 1 ] && grep -q 'needs root (network namespaces and tc); run it with sudo' "$T/err" ||
  fail "(a) non-root message: $(cat "$T/err")"
[ -z "$(ns_left ntA$$)" ] || fail "(a) non-root created namespaces"

# --- (b) bad arguments: exit 2, one line -------------------------------------------------------
bad() {
  "$NETEM" "$@" >"$T/out" 2>"$T/err"; local rc=$?
  [ $rc = 2 ] || fail "(b) netem.sh $* -> exit $rc, want 2"
  [ "$(wc -l <"$T/err")" = 1 ] || fail "(b) netem.sh $* -> stderr not one line: $(cat "$T/err")"
}
bad --workers 1 -- true
bad --workers 65 -- true
bad --workers two -- true
bad --workers 3 --rate-mbit 0 -- true
bad --workers 3 --rate-mbit -5 -- true
bad --workers 3 --delay-ms -1 -- true
bad --workers 3 --bogus -- true
bad --workers 3
bad --rate-mbit 10 -- true
"$NETEM" --help | grep -q -- '--exec-prefix' || fail "(b) --help documents --exec-prefix"

# --- (c) shaped 3-worker cluster ------------------------------------------------------------------
ip -o link show | awk -F': ' '{print $2}' | sort >"$T/links-before"
cat >"$T/cmd.sh" <<'EOF'
#!/usr/bin/env bash
# Called as: cmd.sh --exec-prefix PREFIX --hosts H0,H1,H2
set -u
[ "$#" = 4 ] && [ "$1" = --exec-prefix ] && [ "$3" = --hosts ] || { echo "cmd: bad args: $*" >&2; exit 10; }
IFS=, read -r -a hosts <<<"$4"
[ "${#hosts[@]}" = 3 ] || { echo "cmd: want 3 hosts, got $4" >&2; exit 11; }
p0=${2//\{rank\}/0} p2=${2//\{rank\}/2}
# the prefix puts a process in rank 2's namespace, where eth0 has the 3rd host address
$p2 ip -4 -o addr show dev eth0 | grep -q "inet ${hosts[2]}/24" || { echo "cmd: rank 2 lacks ${hosts[2]}" >&2; exit 12; }
# rank 0 reaches rank 2
$p0 python3 "$NETEM_BW" rtt "${hosts[2]}" >/dev/null || { echo "cmd: rank 0 cannot reach ${hosts[2]}" >&2; exit 13; }
# nothing was added to the root namespace
ip -4 -o addr show | grep -qF "${hosts[0]%.*}." && { echo "cmd: cluster address in the root namespace" >&2; exit 14; }
ip -o link show | awk -F': ' '{print $2}' | sort | cmp -s - "$LINKS_BEFORE" || { echo "cmd: root namespace links changed" >&2; exit 15; }
echo cmd-ok
EOF
chmod +x "$T/cmd.sh"
NETEM_BW=$ROOT/tools/netem_bandwidth.py LINKS_BEFORE=$T/links-before \
  "$NETEM" --workers 3 --rate-mbit 50 --name ntC$$ --stats "$T/stats.csv" -- "$T/cmd.sh" >"$T/out" 2>"$T/err"
rc=$?
[ $rc = 0 ] || fail "(c) exit $rc, want 0: $(tail -n 5 "$T/err")"
grep -q cmd-ok "$T/out" || fail "(c) command did not run to the end: $(cat "$T/out")"
grep -qF -- "--exec-prefix \"ip netns exec gcsim-ntC$$-{rank}\" --hosts $SUBNET.1,$SUBNET.2,$SUBNET.3" "$T/err" ||
  fail "(c) running line shows prefix and hosts"
mbit=$(sed -n 's/^netem: measured R0->R1 bandwidth: \([0-9.]*\) Mbit\/s (configured: 50 Mbit\/s)$/\1/p' "$T/err")
if [ -z "$mbit" ]; then
  fail "(c) no bandwidth line: $(cat "$T/err")"
else
  awk -v m="$mbit" 'BEGIN{exit !(m >= 37.5 && m <= 62.5)}' || fail "(c) measured $mbit Mbit/s, want 50 +-25%"
  echo "(c) measured $mbit Mbit/s at 50 Mbit/s configured"
fi
grep -q '^netem: R0->R1 RTT: [0-9.]* ms' "$T/err" || fail "(c) no RTT line"
for r in 0 1 2; do
  grep -qE "^netem: rank $r tx [0-9.]+ MB rx [0-9.]+ MB$" "$T/err" || fail "(c) no traffic line for rank $r"
done
grep -qE '^netem: total tx [0-9.]+ MB rx [0-9.]+ MB$' "$T/err" || fail "(c) no total traffic line"
[ "$(head -n 1 "$T/stats.csv" 2>/dev/null)" = rank,tx_bytes,rx_bytes ] && [ "$(wc -l <"$T/stats.csv")" = 4 ] &&
  awk -F, 'NR > 1 && !($1 == NR - 2 && $2 ~ /^[0-9]+$/ && $3 ~ /^[0-9]+$/) {exit 1}' "$T/stats.csv" ||
  fail "(c) stats csv: $(cat "$T/stats.csv" 2>/dev/null)"
awk -F, 'NR == 2 {exit !($2 > 0)}' "$T/stats.csv" || fail "(c) rank 0 sent nothing during the command"
[ -z "$(ns_left ntC$$)" ] || fail "(c) namespaces left: $(ns_left ntC$$)"
ip -o link show | awk -F': ' '{print $2}' | sort | cmp -s - "$T/links-before" || fail "(c) root namespace links changed"

# --- (c2) two-level: 3 nodes of 2 workers, one namespace (host) per node --------------------------
cat >"$T/cmd2.sh" <<'EOF'
#!/usr/bin/env bash
# Called as: cmd2.sh --exec-prefix PREFIX --hosts H0,...,H5 (two ranks per node address)
set -u
IFS=, read -r -a hosts <<<"$4"
[ "${#hosts[@]}" = 6 ] || { echo "cmd2: want 6 hosts, got $4" >&2; exit 11; }
[ "${hosts[0]}" = "${hosts[1]}" ] && [ "${hosts[4]}" = "${hosts[5]}" ] && [ "${hosts[1]}" != "${hosts[2]}" ] ||
  { echo "cmd2: ranks of a node share its address: $4" >&2; exit 12; }
case $2 in *"{node}"*) ;; *) echo "cmd2: the prefix names the node: $2" >&2; exit 13 ;; esac
n2=${2//\{node\}/2} n0=${2//\{node\}/0}
$n2 ip -4 -o addr show dev eth0 | grep -q "inet ${hosts[4]}/24" || { echo "cmd2: node 2 lacks ${hosts[4]}" >&2; exit 14; }
$n0 python3 "$NETEM_BW" rtt "${hosts[4]}" >/dev/null || { echo "cmd2: node 0 cannot reach node 2" >&2; exit 15; }
echo cmd2-ok
EOF
chmod +x "$T/cmd2.sh"
NETEM_BW=$ROOT/tools/netem_bandwidth.py \
  "$NETEM" --workers 6 --gpus-per-node 2 --rate-mbit 50 --no-measure --name ntC2$$ --stats "$T/stats2.csv" -- \
  "$T/cmd2.sh" >"$T/out" 2>"$T/err" || fail "(c2) exit $?: $(tail -n 3 "$T/err")"
grep -q cmd2-ok "$T/out" || fail "(c2) command did not run to the end: $(cat "$T/out") $(tail -n 3 "$T/err")"
grep -q "3 hosts of 2" "$T/err" || fail "(c2) building line: $(head -n 1 "$T/err")"
[ "$(head -n 1 "$T/stats2.csv" 2>/dev/null)" = node,tx_bytes,rx_bytes ] && [ "$(wc -l <"$T/stats2.csv")" = 4 ] ||
  fail "(c2) stats per node: $(cat "$T/stats2.csv" 2>/dev/null)"
[ -z "$(ns_left ntC2$$)" ] || fail "(c2) namespaces left: $(ns_left ntC2$$)"
bad --workers 6 --gpus-per-node 4 -- true   # not whole nodes
bad --workers 4 --gpus-per-node 4 -- true   # one node: nothing between hosts

# --- (c4) fat-tree: 2 leaves of 2 hosts, 2:1 oversubscribed uplinks ---------------------------------
# Two flows 0->2 and 1->3 at once: packed, both cross leaf 0's uplink (2 x 50 / 2 = 50 Mbit/s),
# so together they get about 50; spread, both stay on their leaf and get 50 each.
cat >"$T/cmd4.sh" <<'EOF'
#!/usr/bin/env bash
# Called as: cmd4.sh --exec-prefix PREFIX --hosts H0,...,H3; prints the two flows' Mbit/s and the leaves
set -u
IFS=, read -r -a h <<<"$4"
p=$2
for f in 2 3; do
  ${p//\{rank\}/$f} python3 "$NETEM_BW" server 53$f --bind "${h[$f]}" --timeout 10 >/dev/null 2>&1 &
done
sleep 0.5
${p//\{rank\}/0} python3 "$NETEM_BW" client "${h[2]}" 532 --seconds 1.5 >"$OUT4.a" &
${p//\{rank\}/1} python3 "$NETEM_BW" client "${h[3]}" 533 --seconds 1.5 >"$OUT4.b" &
wait
ip netns list | awk '{print $1}' | grep -c -- "-leaf" >"$OUT4.leaves"
EOF
chmod +x "$T/cmd4.sh"
for pl in packed spread; do
  NETEM_BW=$ROOT/tools/netem_bandwidth.py OUT4=$T/ft-$pl \
    "$NETEM" --workers 4 --rate-mbit 50 --topology fat-tree --nodes-per-leaf 2 --oversubscription 2 \
    --placement $pl --no-measure --name ntF$pl$$ -- "$T/cmd4.sh" >"$T/out" 2>"$T/err" ||
    fail "(c4) $pl: exit $?: $(tail -n 3 "$T/err")"
  sum=$(cat "$T/ft-$pl.a" "$T/ft-$pl.b" 2>/dev/null | awk '/Mbit/ {s += $1; n++} END {if (n == 2) print s}')
  case $pl in
    packed) awk -v s="${sum:-0}" 'BEGIN {exit !(s >= 38 && s <= 55)}' || fail "(c4) packed: two cross-leaf flows got $sum Mbit/s, want ~48 (one 50 Mbit/s uplink)" ;;
    spread) awk -v s="${sum:-0}" 'BEGIN {exit !(s >= 80 && s <= 105)}' || fail "(c4) spread: two in-leaf flows got $sum Mbit/s, want ~96" ;;
  esac
  [ "$(cat "$T/ft-$pl.leaves" 2>/dev/null)" -ge 2 ] || fail "(c4) $pl: leaf namespaces missing during the run"
  grep -q "fat-tree: 2 leaves of 2 ($pl), one spine, 2:1" "$T/err" || fail "(c4) building line: $(head -n 1 "$T/err")"
  [ -z "$(ns_left ntF$pl$$)" ] || fail "(c4) namespaces left: $(ns_left ntF$pl$$)"
done
bad --workers 4 --topology torus -- true
bad --workers 4 --topology fat-tree --oversubscription 0.5 -- true
bad --workers 4 --topology fat-tree --placement random -- true

# --- (c3) tools/netem_capacity.sh: one line per P, the flows' aggregate near the shaped rate ------
"$ROOT/tools/netem_capacity.sh" --rate-mbit 50 --seconds 1 4 >"$T/cap" 2>"$T/err" || fail "(c3) capacity: $(cat "$T/err")"
awk 'NR == 2 && $1 == 4 && $2 == 2 && $3 >= 70 && $3 <= 110 {ok = 1} END {exit !ok}' "$T/cap" ||
  fail "(c3) capacity at 2 x 50 Mbit/s: $(cat "$T/cap")"
"$ROOT/tools/netem_capacity.sh" 3 >/dev/null 2>"$T/err"; [ $? = 2 ] || fail "(c3) an odd P accepted"

# --- (d) failing command: its status, and cleanup ------------------------------------------------
"$NETEM" --workers 2 --name ntD$$ --no-measure -- bash -c 'exit 3' x >"$T/out" 2>"$T/err"
rc=$?
[ $rc = 3 ] || fail "(d) exit $rc, want 3"
[ -z "$(ns_left ntD$$)" ] || fail "(d) namespaces left: $(ns_left ntD$$)"
# the same name right after: teardown was complete
"$NETEM" --workers 2 --name ntD$$ --no-measure -- true >"$T/out" 2>"$T/err" || fail "(d) rerun with the same name: $(cat "$T/err")"

# --- (e) Ctrl-C during the command ----------------------------------------------------------------
# A background job of a non-interactive shell starts with SIGINT ignored (and
# an ignored signal cannot be trapped), so restore the default before exec.
python3 -c 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])' \
  "$NETEM" --workers 3 --name ntE$$ --no-measure -- bash -c "ip netns exec gcsim-ntE$$-1 sleep 30" x >"$T/out" 2>"$T/err" &
pid=$!
# Wait (up to 30 s on a loaded machine) for rank 1's sleep itself: while the
# cluster is being built, netem.sh runs short set-up commands (sh, ethtool) in
# that namespace too, and those are gone a moment later.
sleep_in_rank1() {
  local p
  for p in $(ip netns pids gcsim-ntE$$-1 2>/dev/null); do
    [ "$(cat /proc/$p/comm 2>/dev/null)" = sleep ] && echo "$p"
  done
}
inner=
for ((i = 0; i < 300; i++)); do
  inner=$(sleep_in_rank1)
  [ -n "$inner" ] && break
  sleep 0.1
done
[ -n "$inner" ] || fail "(e) cluster never came up: $(cat "$T/err")"
t0=$SECONDS
kill -INT $pid
wait $pid
rc=$?
[ $rc = 130 ] || fail "(e) exit $rc after INT, want 130"
[ $((SECONDS - t0)) -le 5 ] || fail "(e) took $((SECONDS - t0)) s to stop after INT"
[ -z "$(ns_left ntE$$)" ] || fail "(e) namespaces left: $(ns_left ntE$$)"
for p in $inner; do kill -0 "$p" 2>/dev/null && fail "(e) process $p in rank 1 survived"; done

# --- (f) SIGKILL: no trap runs; the watchdog tears the fat-tree down --------------------------------
"$NETEM" --workers 4 --topology fat-tree --nodes-per-leaf 2 --name ntK$$ --no-measure -- \
  bash -c "ip netns exec gcsim-ntK$$-3 sleep 30" x >"$T/out" 2>"$T/err" &
pid=$!
for ((i = 0; i < 300; i++)); do
  [ -n "$(ip netns pids gcsim-ntK$$-3 2>/dev/null)" ] && break
  sleep 0.1
done
[ -n "$(ns_left ntK$$)" ] || fail "(f) cluster never came up: $(cat "$T/err")"
kill -KILL $pid
wait $pid 2>/dev/null
for ((i = 0; i < 50; i++)); do
  [ -z "$(ns_left ntK$$)" ] && break
  sleep 0.1
done
[ -z "$(ns_left ntK$$)" ] || fail "(f) namespaces left 5 s after SIGKILL: $(ns_left ntK$$)"

echo "netem_test: $((SECONDS - t_start)) s"
if [ $fails -gt 0 ]; then echo "netem_test: $fails failure(s)"; exit 1; fi
echo "netem_test: all passed"
