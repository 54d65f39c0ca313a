#!/usr/bin/env bash
# netem.sh: emulate a P-host cluster on one machine and run a command on it.
#
#   tools/netem.sh --workers P [--gpus-per-node G] [--rate-mbit R] [--delay-ms D]
#                  [--topology switch|fat-tree] [--nodes-per-leaf N]
#                  [--oversubscription X] [--placement packed|spread]
#                  [--name NAME] [--stats FILE] [--no-measure] -- COMMAND [ARGS...]
#
# Needs root (network namespaces and tc). Topology, all of it OUTSIDE the
# root namespace (nothing is added there: no bridge, address or route):
#
#   netns gcsim-NAME-sw : bridge br0 (up) with ports p0..p(P-1)
#   netns gcsim-NAME-r  : eth0 = peer of port p<r>, address $SUBNET.(r+1)/24
#
# With --gpus-per-node G > 1 (cluster.topology = "two-level"; P a multiple
# of G) there is one namespace per NODE instead, gcsim-NAME-m for m = 0 ..
# P/G - 1, port p<m>, address $SUBNET.(m+1): the node's G workers share its
# eth0 (one NIC, shaped like the ports above) and talk to each other over the
# namespace's loopback, unshaped (the intra-node link). The exec prefix then
# names the node, "ip netns exec gcsim-NAME-{node}", which gcsim train
# resolves as rank / cluster.gpus_per_node (so the scenario must say the same
# G), and --hosts lists each rank's node address. Traffic is counted per node.
#
# With --topology fat-tree (cluster.topology = "fat-tree") the hosts (workers,
# or nodes with --gpus-per-node) hang off leaf switches instead, N per leaf
# (--nodes-per-leaf, default 16): netns gcsim-NAME-leaf<l> holds bridge br0
# with the ports of its hosts, and the leaves are joined through one spine,
# the bridge of gcsim-NAME-sw, by an uplink per leaf (u<l> in the leaf,
# d<l> in the spine). With --rate-mbit R each uplink is shaped, both
# directions, at N * R / X Mbit/s (--oversubscription X, default 1): the
# leaf's hosts can offer X times what leaves the leaf, as the simulator's
# fat-tree with one spine has it (topology/builders.cpp). --placement packed
# (default) puts host m on leaf m / N, spread on leaf m mod L (L leaves).
# One spine only: several would make a loop of bridges.
#
# SUBNET defaults to 10.213.0 (override with NETEM_SUBNET=a.b.c). Each run
# has its own switch namespace, so parallel runs (distinct NAMEs; the
# default NAME is "p<pid>") do not collide even though they share SUBNET.
#
# Shaping (--rate-mbit R): tbf at R Mbit/s on BOTH directions of every port:
# egress of eth0 in the worker namespace (uplink) and egress of p<r> in the
# switch namespace (downlink). --delay-ms D adds netem delay D ms on the
# uplink only (netem root, tbf its child), so any worker->worker path crosses
# exactly one delayed hop each way: one-way delay D, RTT 2*D.
#
# Unless --no-measure, it first measures R0->R1 TCP bandwidth for ~2 s with
# tools/netem_bandwidth.py (receiver-timed, until the receiver has every
# byte) and the R0->R1 round-trip time, and prints both. The measured number
# is TCP payload (goodput); tbf limits Ethernet frames, so at MTU 1500 expect
# about 1448/1514 = 95.6% of the configured rate.
#
# Then it runs COMMAND in the ROOT namespace with two arguments appended:
#
#   COMMAND ARGS... --exec-prefix "ip netns exec gcsim-NAME-{rank}" \
#                   --hosts $SUBNET.1,$SUBNET.2,...,$SUBNET.P
#
# The command (normally `gcsim train ...`) starts rank r's process under the
# exec prefix with {rank} replaced by r, and binds rank r to the r-th host
# address. The command's exit status is netem.sh's exit status. Afterwards
# it prints each worker's eth0 bytes sent/received during the command
# ("netem: rank r tx X MB rx Y MB", MB = 1e6 bytes, measurement traffic
# excluded) and the total; --stats FILE also writes them as CSV
# (rank,tx_bytes,rx_bytes).
#
# Every exit path (normal, command failure, setup error, INT, TERM) kills the
# processes left in its namespaces and deletes the namespaces (which deletes
# the veths); after a SIGKILL of this script a watchdog it started (in its
# own session) does the same within a second. Exit codes: the command's status; 2 bad usage or not root;
# 1 setup failure; 130 on INT, 143 on TERM. Status lines go to stderr.
set -euo pipefail

PROG=netem.sh
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SUBNET=${NETEM_SUBNET:-10.213.0}
PORT=5201                       # bandwidth probe port (inside the namespaces)
MEASURE_SECONDS=2

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
}
die_usage() { echo "$PROG: $*" >&2; exit 2; }
die() { echo "$PROG: $*" >&2; exit 1; }
say() { echo "netem: $*" >&2; }

# --- arguments ------------------------------------------------------------------
WORKERS="" GPN=1 RATE="" DELAY="" NAME="p$$" STATS="" MEASURE=1
TOPOLOGY=switch PER_LEAF=16 OVERSUB=1 PLACEMENT=packed
args=("$@")
for a in "${args[@]}"; do          # --help wins anywhere before "--", even unprivileged
  [ "$a" = -- ] && break
  if [ "$a" = --help ] || [ "$a" = -h ]; then usage; exit 0; fi
done

if [ "$(id -u)" != 0 ]; then
  echo "$PROG: needs root (network namespaces and tc); run it with sudo" >&2
  exit 2
fi

need_val() { [ $# -ge 2 ] || die_usage "$1 needs a value"; }
while [ $# -gt 0 ]; do
  case $1 in
    --workers)    need_val "$@"; WORKERS=$2; shift 2 ;;
    --workers=*)  WORKERS=${1#*=}; shift ;;
    --gpus-per-node) need_val "$@"; GPN=$2; shift 2 ;;
    --gpus-per-node=*) GPN=${1#*=}; shift ;;
    --rate-mbit)  need_val "$@"; RATE=$2; shift 2 ;;
    --rate-mbit=*) RATE=${1#*=}; shift ;;
    --delay-ms)   need_val "$@"; DELAY=$2; shift 2 ;;
    --delay-ms=*) DELAY=${1#*=}; shift ;;
    --name)       need_val "$@"; NAME=$2; shift 2 ;;
    --name=*)     NAME=${1#*=}; shift ;;
    --stats)      need_val "$@"; STATS=$2; shift 2 ;;
    --stats=*)    STATS=${1#*=}; shift ;;
    --no-measure) MEASURE=0; shift ;;
    --topology)   need_val "$@"; TOPOLOGY=$2; shift 2 ;;
    --topology=*) TOPOLOGY=${1#*=}; shift ;;
    --nodes-per-leaf) need_val "$@"; PER_LEAF=$2; shift 2 ;;
    --nodes-per-leaf=*) PER_LEAF=${1#*=}; shift ;;
    --oversubscription) need_val "$@"; OVERSUB=$2; shift 2 ;;
    --oversubscription=*) OVERSUB=${1#*=}; shift ;;
    --placement)  need_val "$@"; PLACEMENT=$2; shift 2 ;;
    --placement=*) PLACEMENT=${1#*=}; shift ;;
    --) shift; break ;;
    *) die_usage "unknown argument '$1' (see --help)" ;;
  esac
done
CMD=("$@")

[ -n "$WORKERS" ] || die_usage "--workers P is required"
[[ $WORKERS =~ ^[0-9]+$ ]] && [ "$((10#$WORKERS))" -ge 2 ] && [ "$((10#$WORKERS))" -le 64 ] ||
  die_usage "--workers must be an integer in 2..64, got '$WORKERS'"
WORKERS=$((10#$WORKERS))
[[ $GPN =~ ^[0-9]+$ ]] && [ "$((10#$GPN))" -ge 1 ] || die_usage "--gpus-per-node must be an integer >= 1, got '$GPN'"
GPN=$((10#$GPN))
[ $((WORKERS % GPN)) = 0 ] && [ $((WORKERS / GPN)) -ge 2 ] ||
  die_usage "--workers $WORKERS must be at least two nodes of --gpus-per-node $GPN"
NODES=$((WORKERS / GPN))   # one namespace (host) per node; = WORKERS with one GPU per node
num_re='^([0-9]+(\.[0-9]*)?|\.[0-9]+)$'
if [ -n "$RATE" ]; then
  [[ $RATE =~ $num_re ]] && awk -v r="$RATE" 'BEGIN{exit !(r > 0)}' ||
    die_usage "--rate-mbit must be a positive number, got '$RATE'"
fi
if [ -n "$DELAY" ]; then
  [[ $DELAY =~ $num_re ]] || die_usage "--delay-ms must be a non-negative number, got '$DELAY'"
fi
case $TOPOLOGY in switch|fat-tree) ;; *) die_usage "--topology must be switch or fat-tree, got '$TOPOLOGY'" ;; esac
case $PLACEMENT in packed|spread) ;; *) die_usage "--placement must be packed or spread, got '$PLACEMENT'" ;; esac
[[ $PER_LEAF =~ ^[0-9]+$ ]] && [ "$((10#$PER_LEAF))" -ge 1 ] || die_usage "--nodes-per-leaf must be an integer >= 1, got '$PER_LEAF'"
PER_LEAF=$((10#$PER_LEAF))
[[ $OVERSUB =~ $num_re ]] && awk -v x="$OVERSUB" 'BEGIN{exit !(x >= 1)}' ||
  die_usage "--oversubscription must be a number >= 1, got '$OVERSUB'"
[[ $NAME =~ ^[A-Za-z0-9_]{1,32}$ ]] || die_usage "--name must be 1-32 characters [A-Za-z0-9_], got '$NAME'"
[[ $SUBNET =~ ^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$ ]] || die_usage "NETEM_SUBNET must look like a.b.c, got '$SUBNET'"
[ ${#CMD[@]} -gt 0 ] || die_usage "no command given (usage: $PROG --workers P [options] -- COMMAND [ARGS...])"
if [ -n "$STATS" ]; then
  d=$(dirname -- "$STATS"); [ -d "$d" ] || die_usage "--stats: directory '$d' does not exist"
fi
for t in ip tc awk; do command -v "$t" >/dev/null || die "'$t' not found (install iproute2)"; done
if [ "$MEASURE" = 1 ]; then command -v python3 >/dev/null || die "python3 not found (needed to measure; or pass --no-measure)"; fi

SW=gcsim-$NAME-sw
ns_of() { echo "gcsim-$NAME-$1"; }
LEAVES=0
[ "$TOPOLOGY" = switch ] || LEAVES=$(((NODES + PER_LEAF - 1) / PER_LEAF))
leaf_of() {   # the leaf host $1 hangs off
  if [ "$PLACEMENT" = spread ]; then echo $(($1 % LEAVES)); else echo $(($1 / PER_LEAF)); fi
}
port_ns_of() { # the namespace of host $1's switch port
  if [ "$TOPOLOGY" = switch ]; then echo "$SW"; else echo "gcsim-$NAME-leaf$(leaf_of "$1")"; fi
}
OUR_NS=("$SW"); for ((l = 0; l < LEAVES; l++)); do OUR_NS+=("gcsim-$NAME-leaf$l"); done
for ((m = 0; m < NODES; m++)); do OUR_NS+=("$(ns_of $m)"); done
HOSTS="$SUBNET.1"; for ((r = 1; r < WORKERS; r++)); do HOSTS+=",$SUBNET.$((r / GPN + 1))"; done

# Refuse to reuse a name: anything gcsim-NAME-* that exists is not ours.
existing=$(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^gcsim-$NAME-" || true)
[ -z "$existing" ] || die "namespaces for name '$NAME' already exist ($(echo $existing)); pick another --name or delete them with 'ip netns del'"

# --- teardown (every exit path) -------------------------------------------------------
OWNED=0 CLEANED=0 CHILD="" TMP=""
ns_exists() { [ -e "/run/netns/$1" ] || ip netns list 2>/dev/null | awk '{print $1}' | grep -qxF -- "$1"; }
kill_ns_procs() {        # TERM, grace period, then KILL whatever is left in the namespaces
  local ns pids any=0 i
  for ns in "${OUR_NS[@]}"; do
    ns_exists "$ns" || continue
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    [ -n "$pids" ] && { kill -TERM $pids 2>/dev/null || true; any=1; }
  done
  [ $any = 1 ] || return 0
  for ((i = 0; i < 20; i++)); do      # up to 2 s
    any=0
    for ns in "${OUR_NS[@]}"; do
      ns_exists "$ns" && [ -n "$(ip netns pids "$ns" 2>/dev/null || true)" ] && any=1
    done
    [ $any = 1 ] || return 0
    sleep 0.1
  done
  for ns in "${OUR_NS[@]}"; do
    ns_exists "$ns" || continue
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    [ -n "$pids" ] && kill -KILL $pids 2>/dev/null || true
  done
}
cleanup() {
  [ "$OWNED" = 1 ] && [ "$CLEANED" = 0 ] || return 0
  CLEANED=1
  trap '' INT TERM                # do not let a second Ctrl-C leave half a cluster
  if [ -n "$CHILD" ] && kill -0 "$CHILD" 2>/dev/null; then
    kill -TERM "$CHILD" 2>/dev/null || true
    for ((i = 0; i < 30; i++)); do kill -0 "$CHILD" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$CHILD" 2>/dev/null || true
  fi
  kill_ns_procs
  local ns
  for ns in "${OUR_NS[@]}"; do
    ns_exists "$ns" && { ip netns del "$ns" 2>/dev/null || echo "$PROG: warning: could not delete namespace $ns" >&2; }
  done
  [ -z "$TMP" ] || rm -rf "$TMP"
  [ -z "${STATE:-}" ] || touch "$STATE/done" 2>/dev/null || true   # the watchdog has nothing left to do
  return 0
}
on_signal() { say "caught $1, tearing down"; cleanup; exit "$2"; }
trap 'rc=$?; cleanup; exit $rc' EXIT
trap 'on_signal INT 130' INT
trap 'on_signal TERM 143' TERM
OWNED=1

# A watchdog in its own session for what no trap sees (SIGKILL, a crash):
# when this script is gone without having torn down (no STATE/done), it
# kills what runs in our namespaces and deletes them.
STATE=$(mktemp -d "${TMPDIR:-/tmp}/netem-state.XXXXXX")
setsid bash -c '
  parent=$1 state=$2; shift 2
  trap "" INT TERM HUP
  while kill -0 "$parent" 2>/dev/null; do sleep 0.2; done
  if [ ! -e "$state/done" ]; then
    for ns in "$@"; do
      [ -e "/run/netns/$ns" ] || continue
      pids=$(ip netns pids "$ns" 2>/dev/null)
      [ -z "$pids" ] || kill -KILL $pids 2>/dev/null
    done
    for ns in "$@"; do [ -e "/run/netns/$ns" ] && ip netns del "$ns" 2>/dev/null; done
  fi
  rm -rf "$state"' netem-watchdog $$ "$STATE" "${OUR_NS[@]}" </dev/null >/dev/null 2>&1 &

# run CMD...: run a setup step; on failure, one-line error and exit 1 (EXIT trap tears down).
run() {
  local err
  if ! err=$("$@" 2>&1); then
    die "setup failed: $*: $(echo "$err" | head -n 1)"
  fi
}
# quiet_try CMD...: best effort, ignore failure (optional tuning).
quiet_try() { "$@" >/dev/null 2>&1 || true; }
no_ipv6() {  # keep IPv6 autoconf/MLD chatter out of the byte counts (best effort)
  quiet_try ip netns exec "$1" sh -c 'for f in /proc/sys/net/ipv6/conf/all/disable_ipv6 /proc/sys/net/ipv6/conf/default/disable_ipv6; do echo 1 > $f; done'
}
no_offload() {  # $1 ns, $2 dev: GSO/TSO/GRO aggregates make tbf see 64 KB "packets"
  command -v ethtool >/dev/null || return 0
  quiet_try ip netns exec "$1" ethtool -K "$2" gso off tso off gro off
}

# tbf parameters (when --rate-mbit R):
# - burst: the bucket must hold at least what the rate delivers in one timer
#   tick or tbf cannot reach its rate; we size it for 4 ms (one tick at
#   HZ=250, 4 ticks at HZ=1000) = R*1e6/8/250 bytes, and never below 16000
#   bytes (~10 full-size frames) so low rates are not limited to one packet
#   per tick. 100 Mbit -> 50 kB, 1000 Mbit -> 500 kB.
# - latency 50ms: queue = rate*50ms + burst bytes. Long enough that a TCP
#   flow's window bursts are queued rather than dropped pathologically, short
#   enough not to add huge bufferbloat (at 50 Mbit: ~330 kB).
# tbf_burst R: the burst above for a rate of R Mbit/s (ports and uplinks alike).
tbf_burst() { awk -v r="$1" 'BEGIN{b = int(r * 1e6 / 8 / 250); if (b < 16000) b = 16000; print b}'; }
TBF=() NETEM=()
if [ -n "$RATE" ]; then
  TBF=(tbf rate "${RATE}mbit" burst "$(tbf_burst "$RATE")" latency 50ms)
fi
if [ -n "$DELAY" ] && awk -v d="$DELAY" 'BEGIN{exit !(d > 0)}'; then
  # netem queue (packets) must hold a bandwidth-delay product: 2x BDP at the
  # configured rate (10 Gbit/s assumed when unshaped), at least 1000.
  LIMIT=$(awk -v r="${RATE:-10000}" -v d="$DELAY" 'BEGIN{l = int(2 * r * 1e6 / 8 * d / 1000 / 1500) + 1; if (l < 1000) l = 1000; print l}')
  NETEM=(netem delay "${DELAY}ms" limit "$LIMIT")
fi

# capture CMD...: run CMD in the background and wait for it, output into
# $CAPTURED. A trapped INT/TERM interrupts `wait` at once, whereas bash runs
# the trap only after a foreground child (or $(...)) has finished.
capture() {
  [ -n "$TMP" ] || TMP=$(mktemp -d "${TMPDIR:-/tmp}/netem.XXXXXX")
  local st=0
  "$@" >"$TMP/out" 2>&1 &
  wait $! || st=$?
  CAPTURED=$(cat "$TMP/out")
  return $st
}

# --- build the cluster -------------------------------------------------------------------
shape_of=""
[ "$TOPOLOGY" = switch ] || shape_of=", fat-tree: $LEAVES leaves of $PER_LEAF ($PLACEMENT), one spine, ${OVERSUB}:1"
say "building $WORKERS-worker cluster '$NAME' ($NODES hosts of $GPN, $SUBNET.0/24, rate ${RATE:-unshaped}${RATE:+ Mbit/s}, delay ${DELAY:-0} ms$shape_of)"
run ip netns add "$SW"
no_ipv6 "$SW"
run ip -n "$SW" link set lo up
if [ ${#NETEM[@]} -gt 0 ]; then   # fail early and clearly when the kernel lacks sch_netem
  tc -n "$SW" qdisc add dev lo root netem delay 1ms >/dev/null 2>&1 ||
    die "--delay-ms needs the netem qdisc (sch_netem), which this kernel does not provide"
  run tc -n "$SW" qdisc del dev lo root
fi
run ip -n "$SW" link add br0 type bridge
run ip -n "$SW" link set br0 up
if [ "$LEAVES" -gt 0 ]; then       # fat-tree: leaf bridges, each with one uplink to the spine
  UPLINK_TBF=()
  if [ -n "$RATE" ]; then
    UP=$(awk -v r="$RATE" -v n="$PER_LEAF" -v x="$OVERSUB" 'BEGIN{printf "%.6f", r * n / x}')
    UPLINK_TBF=(tbf rate "${UP}mbit" burst "$(tbf_burst "$UP")" latency 50ms)
  fi
  for ((l = 0; l < LEAVES; l++)); do
    lf=gcsim-$NAME-leaf$l
    run ip netns add "$lf"
    no_ipv6 "$lf"
    run ip -n "$lf" link set lo up
    run ip -n "$lf" link add br0 type bridge
    run ip -n "$lf" link set br0 up
    run ip -n "$lf" link add "u$l" type veth peer name "d$l" netns "$SW"
    run ip -n "$lf" link set "u$l" master br0
    run ip -n "$SW" link set "d$l" master br0
    no_offload "$lf" "u$l"
    no_offload "$SW" "d$l"
    if [ ${#UPLINK_TBF[@]} -gt 0 ]; then
      run tc -n "$lf" qdisc add dev "u$l" root handle 1: "${UPLINK_TBF[@]}"
      run tc -n "$SW" qdisc add dev "d$l" root handle 1: "${UPLINK_TBF[@]}"
    fi
    run ip -n "$lf" link set "u$l" up
    run ip -n "$SW" link set "d$l" up
  done
fi
for ((r = 0; r < NODES; r++)); do   # one host each: a worker, or a node of GPN workers
  ns=$(ns_of $r)
  pns=$(port_ns_of $r)
  run ip netns add "$ns"
  no_ipv6 "$ns"
  run ip -n "$ns" link set lo up
  # Created inside the switch ns with the peer placed straight into the
  # worker ns: neither end ever exists in the root namespace.
  run ip -n "$pns" link add "p$r" type veth peer name eth0 netns "$ns"
  run ip -n "$pns" link set "p$r" master br0
  run ip -n "$ns" addr add "$SUBNET.$((r + 1))/24" dev eth0
  no_offload "$pns" "p$r"
  no_offload "$ns" eth0
  if [ ${#NETEM[@]} -gt 0 ]; then
    run tc -n "$ns" qdisc add dev eth0 root handle 1: "${NETEM[@]}"
    [ ${#TBF[@]} -gt 0 ] && run tc -n "$ns" qdisc add dev eth0 parent 1:1 handle 10: "${TBF[@]}"
  elif [ ${#TBF[@]} -gt 0 ]; then
    run tc -n "$ns" qdisc add dev eth0 root handle 1: "${TBF[@]}"
  fi
  [ ${#TBF[@]} -gt 0 ] && run tc -n "$pns" qdisc add dev "p$r" root handle 1: "${TBF[@]}"
  run ip -n "$pns" link set "p$r" up
  run ip -n "$ns" link set eth0 up
done

# --- measure -------------------------------------------------------------------------------
if [ "$MEASURE" = 1 ]; then
  N0=$(ns_of 0) N1=$(ns_of 1) CONFIGURED=unshaped
  [ -z "$RATE" ] || CONFIGURED="$RATE Mbit/s"
  if command -v ping >/dev/null; then
    capture ip netns exec "$N0" ping -n -c 1 -W 2 "$SUBNET.2" || true
    rtt=$(echo "$CAPTURED" | sed -n 's/.*time=\([0-9.]*\) *ms.*/\1 ms (ping)/p')
  else
    capture ip netns exec "$N0" python3 "$HERE/netem_bandwidth.py" rtt "$SUBNET.2" || true
    rtt=$(echo "$CAPTURED" | sed -n 's/^rtt \(.*\)/\1/p')
  fi
  if [ -n "$rtt" ]; then say "R0->R1 RTT: $rtt"; else say "warning: R0 cannot reach R1 ($SUBNET.2)"; fi
  ip netns exec "$N1" python3 "$HERE/netem_bandwidth.py" server "$PORT" --bind "$SUBNET.2" --timeout 15 >/dev/null 2>&1 &
  srv=$!
  capture ip netns exec "$N0" python3 "$HERE/netem_bandwidth.py" client "$SUBNET.2" "$PORT" --seconds "$MEASURE_SECONDS" ||
    kill "$srv" 2>/dev/null || true    # client failed: do not wait out the server's timeout
  wait "$srv" 2>/dev/null || true
  out=$CAPTURED
  mbit=$(echo "$out" | sed -n 's/^\([0-9.]*\) Mbit\/s.*/\1/p' | head -n 1)
  if [ -n "$mbit" ]; then
    say "measured R0->R1 bandwidth: $mbit Mbit/s (configured: $CONFIGURED)"
  else
    say "warning: bandwidth measurement failed: $(echo "$out" | head -n 1)"
  fi
fi

# --- run the command ------------------------------------------------------------------------
read_counters() {  # prints "rank tx rx" per worker (per node with --gpus-per-node)
  local r ns
  for ((r = 0; r < NODES; r++)); do
    ns=$(ns_of $r)
    echo "$r $(ip netns exec "$ns" cat /sys/class/net/eth0/statistics/tx_bytes /sys/class/net/eth0/statistics/rx_bytes | tr '\n' ' ')"
  done
}
before=$(read_counters)
PREFIX="ip netns exec gcsim-$NAME-{rank}"
[ "$GPN" = 1 ] || PREFIX="ip netns exec gcsim-$NAME-{node}"
UNIT=rank; [ "$GPN" = 1 ] || UNIT=node
say "running: ${CMD[*]} --exec-prefix \"$PREFIX\" --hosts $HOSTS"
"${CMD[@]}" --exec-prefix "$PREFIX" --hosts "$HOSTS" &
CHILD=$!
rc=0
wait "$CHILD" || rc=$?
CHILD=""
after=$(read_counters)

# --- traffic report ------------------------------------------------------------------------
report=$(paste -d' ' <(echo "$before") <(echo "$after") |
  awk '{tx = $5 - $2; rx = $6 - $3; T += tx; R += rx; printf "%d %d %d\n", $1, tx, rx}
       END {printf "total %d %d\n", T, R}')
while read -r rk tx rx; do
  if [ "$rk" = total ]; then lbl="total"; else lbl="$UNIT $rk"; fi
  say "$lbl tx $(awk -v b="$tx" 'BEGIN{printf "%.2f", b / 1e6}') MB rx $(awk -v b="$rx" 'BEGIN{printf "%.2f", b / 1e6}') MB"
done <<<"$report"
if [ -n "$STATS" ]; then
  { echo "$UNIT,tx_bytes,rx_bytes"; echo "$report" | awk '$1 != "total" {print $1 "," $2 "," $3}'; } >"$STATS" ||
    echo "$PROG: warning: could not write --stats file '$STATS'" >&2
fi
say "command exited with status $rc"
exit "$rc"
