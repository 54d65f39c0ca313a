#!/usr/bin/env bash
# What the emulated cluster can carry on this machine (issue 14): for each P,
# tools/netem.sh builds P hosts on its bridge, then P/2 TCP flows run at once
# (rank i -> rank i + P/2, tools/netem_bandwidth.py, receiver-timed) for
# SECONDS, and the aggregate is printed: the bandwidth through the bridges
# beyond which the host's CPUs, not the shaping, set the rate. Keep shaped
# experiments well below it. Needs root; run it alone on the machine.
#
#   tools/netem_capacity.sh [--rate-mbit R] [--seconds S] [P ...]   (default P = 2 4 8 16)
#
# Prints "P flows aggregate_mbit per_flow_mbit" per P, one line each.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
RATE=() SECONDS_EACH=3 PS=()
while [ $# -gt 0 ]; do
  case $1 in
    --rate-mbit) RATE=(--rate-mbit "$2"); shift 2 ;;
    --seconds) SECONDS_EACH=$2; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) [[ $1 =~ ^[0-9]+$ ]] && [ "$1" -ge 2 ] && [ $(($1 % 2)) = 0 ] || { echo "netem_capacity: P must be an even integer >= 2, got '$1'" >&2; exit 2; }
       PS+=("$1"); shift ;;
  esac
done
[ ${#PS[@]} -gt 0 ] || PS=(2 4 8 16)
[ "$(id -u)" = 0 ] || { echo "netem_capacity: needs root (tools/netem.sh)" >&2; exit 2; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# The command netem.sh runs: --exec-prefix PREFIX --hosts H0,... appended.
cat >"$T/flows.sh" <<SCRIPT
#!/usr/bin/env bash
prefix=\$2; IFS=, read -r -a hosts <<<"\$4"; p=\${#hosts[@]}; half=\$((p / 2))
for ((i = 0; i < half; i++)); do
  \${prefix//\{rank\}/\$((i + half))} python3 $HERE/netem_bandwidth.py server 5301 --bind \${hosts[\$((i + half))]} --timeout 20 >/dev/null &
done
sleep 0.5
for ((i = 0; i < half; i++)); do
  \${prefix//\{rank\}/\$i} python3 $HERE/netem_bandwidth.py client \${hosts[\$((i + half))]} 5301 --seconds $SECONDS_EACH >$T/flow\$i.txt &
done
wait
SCRIPT
chmod +x "$T/flows.sh"
echo "P flows aggregate_mbit per_flow_mbit${RATE[1]:+ (shaped at ${RATE[1]} Mbit/s)}"
for p in "${PS[@]}"; do
  rm -f "$T"/flow*.txt
  "$HERE/netem.sh" --workers "$p" --no-measure "${RATE[@]}" --name cap$$ -- "$T/flows.sh" >/dev/null 2>"$T/netem.err" ||
    { echo "netem_capacity: P = $p failed: $(tail -n 2 "$T/netem.err")" >&2; exit 1; }
  cat "$T"/flow*.txt | awk -v p="$p" '{s += $1; n++} END {printf "%d %d %.0f %.0f\n", p, n, s, n ? s / n : 0}'
done
