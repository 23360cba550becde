#!/usr/bin/env bash
# Runs the server's load scenarios one after another on this machine
# (127.0.0.1 only) and prints one summary line per scenario:
#
#   A  1,000 clients, 100 trends, 1 room each, mock rate 40,000/s:
#      400 tweets/s into each room of 10 members, 400,000 deliveries/s
#   B  5,000 clients, 10 trends, 2 rooms each, mock rate 100/s:
#      10 tweets/s into each room of 1,000 members, 100,000 deliveries/s
#   C  10,000 clients, 100 trends, 1 room each, idle (mock rate 1):
#      what a connection costs the server in memory
#   D  A with 50 slow clients: the others must not notice
#
# Both commands are built once, at the start, from this tree, unless
# SERVER_BIN or LOADGEN_BIN names a built one: so a server of another
# commit can be measured with the same load generator, side by side. For
# each scenario the server starts afresh, pinned to core 0, and the load
# generator runs pinned to core 1, so neither steals the other's CPU. Per
# scenario the script records the server's RSS before the clients
# connect, its peak while they are connected and at the end, and the CPU
# time it used over the load generator's run, then stops it with SIGTERM.
# Each result is the load generator's JSON report (wire bytes and
# compressed connections among its figures) with the scenario's name, the
# binaries and the server's figures added, appended as one line to the
# output file; the summary line gives the wire bytes per delivery and how
# many connections negotiated compression.
#
# Usage: cmd/loadgen/scenarios.sh [-o results.jsonl]
#
# Environment:
#   SERVER_BIN    a tweetstreamer binary to run instead of building one
#   LOADGEN_BIN   a loadgen binary to run instead of building one; it must
#                 know -tweet (and -compress, with COMPRESS=1)
#   TWEET         the form of tweet messages to ask for, passed as -tweet:
#                 seq (default), data, card or full; a server that does not
#                 know it sends full
#   COMPRESS      1 passes -compress: offer permessage-deflate
#
# and for quick runs:
#   SCENARIOS     which to run, in order (default "A B C D")
#   DURATION      measured seconds per scenario (default 30)
#   WARMUP        seconds at the window's start without latency samples
#                 (default 2, at most half a shorter window)
#   RATE_A RATE_B RATE_C RATE_D            mock rates (default 40000 100 1 RATE_A)
#   CLIENTS_A CLIENTS_B CLIENTS_C CLIENTS_D clients (default 1000 5000 10000 1000)
#   SLOW_D        slow clients in D (default 50)
#   CONNECT_RATE  connections opened per second (default 500)
#   PORT          the server's port on 127.0.0.1 (default 8080)
#
# The full run takes about three minutes. Every scenario in about a minute:
#   DURATION=5 CLIENTS_B=1000 CLIENTS_C=2000 cmd/loadgen/scenarios.sh
set -euo pipefail

out=/tmp/loadgen-results.jsonl
while getopts "o:h" opt; do
	case $opt in
	o) out=$OPTARG ;;
	h) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "usage: $0 [-o results.jsonl]" >&2; exit 2 ;;
	esac
done

die() { echo "scenarios: $*" >&2; exit 1; }
out=$(realpath -m "$out")

scenarios=${SCENARIOS:-"A B C D"}
duration=${DURATION:-30}
duration=${duration%s}
[[ $duration =~ ^[0-9]+$ && $duration -gt 0 ]] || die "DURATION must be a whole number of seconds, not '${DURATION}'"
# Latency is not counted in the window's first seconds; a short window
# keeps its first half.
warmup=${WARMUP:-2}
[ "$warmup" -lt "$duration" ] || warmup=$((duration / 2))
rate_a=${RATE_A:-40000}
rate_b=${RATE_B:-100}
rate_c=${RATE_C:-1}
rate_d=${RATE_D:-$rate_a}
clients_a=${CLIENTS_A:-1000}
clients_b=${CLIENTS_B:-5000}
clients_c=${CLIENTS_C:-10000}
clients_d=${CLIENTS_D:-1000}
slow_d=${SLOW_D:-50}
connect_rate=${CONNECT_RATE:-500}
port=${PORT:-8080}
base=http://127.0.0.1:$port
tweet=${TWEET:-seq}
case $tweet in
full | card | data | seq) ;;
*) die "TWEET must be full, card, data or seq, not '$tweet'" ;;
esac
load_flags=(-tweet "$tweet")
case ${COMPRESS:-0} in
1) load_flags+=(-compress) ;;
0 | "") ;;
*) die "COMPRESS must be 1 or 0, not '$COMPRESS'" ;;
esac
# A binary given is named by its path, resolved before the cd below; one
# built from the tree is named "tree" in the results.
server_bin=${SERVER_BIN:-} loadgen_bin=${LOADGEN_BIN:-}
for b in "$server_bin" "$loadgen_bin"; do
	[ -z "$b" ] || [ -x "$b" ] || die "$b is not an executable file"
done
[ -z "$server_bin" ] || server_bin=$(realpath "$server_bin")
[ -z "$loadgen_bin" ] || loadgen_bin=$(realpath "$loadgen_bin")

command -v jq >/dev/null || die "needs jq (apt-get install jq)"
command -v curl >/dev/null || die "needs curl (apt-get install curl)"
server_cpu=() load_cpu=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
	server_cpu=(taskset -c 0)
	load_cpu=(taskset -c 1)
else
	echo "scenarios: no taskset or fewer than 2 cores: the server and the load generator share the CPU" >&2
fi
# Each connection needs a file descriptor in the server and one in the
# load generator. Ask for 65536; where the hard limit is lower, take it,
# and go on if it covers the largest scenario.
if ! ulimit -n 65536 2>/dev/null; then
	ulimit -n "$(ulimit -Hn)"
	echo "scenarios: the open-file limit stays at $(ulimit -n) (hard limit)" >&2
fi
most=$(printf '%s\n' "$clients_a" "$clients_b" "$clients_c" "$clients_d" | sort -n | tail -1)
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -gt $((most + 100)) ] ||
	die "the open-file limit $(ulimit -n) is too low for $most clients: raise it with 'ulimit -n 65536' as root"
if curl -fsS -o /dev/null --max-time 1 "$base/healthz" 2>/dev/null; then
	die "something already answers on $base: stop it or set PORT"
fi

cd "$(dirname "$0")/../.."
bin=$(mktemp -d)
server_pid=
cleanup() {
	if [ -n "$server_pid" ]; then
		kill -TERM "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$bin"
}
trap cleanup EXIT
if [ -z "$server_bin" ] || [ -z "$loadgen_bin" ]; then
	echo "scenarios: building into $bin" >&2
fi
server_cmd=$server_bin server_label=${server_bin:-tree}
if [ -z "$server_bin" ]; then
	go build -o "$bin/tweetstreamer" ./cmd/tweetstreamer
	server_cmd=$bin/tweetstreamer
fi
loadgen_cmd=$loadgen_bin loadgen_label=${loadgen_bin:-tree}
if [ -z "$loadgen_bin" ]; then
	go build -o "$bin/loadgen" ./cmd/loadgen
	loadgen_cmd=$bin/loadgen
fi
echo "scenarios: server $server_label, load generator $loadgen_label, ${load_flags[*]}" >&2

clk_tck=$(getconf CLK_TCK)
trend_list() { seq -f 't%03g' 1 "$1" | paste -sd, -; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
# utime + stime, fields 14 and 15 of /proc/PID/stat, counted after the
# command name's closing parenthesis so that a name with spaces is harmless.
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }

# stop_server ends the server with SIGTERM, and SIGKILL if it is still there
# ten seconds later (it promises to exit within five).
stop_server() {
	kill -TERM "$server_pid" 2>/dev/null || true
	for _ in $(seq 100); do
		kill -0 "$server_pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$server_pid" 2>/dev/null || true
	wait "$server_pid" 2>/dev/null || true
	server_pid=
}

# scenario NAME CLIENTS TRENDS PER_CLIENT MOCK_RATE [LOADGEN FLAGS...]
scenario() {
	local name=$1 clients=$2 trends=$3 per=$4 rate=$5
	shift 5
	echo "scenarios: $name: $clients clients, $trends trends, $per each, mock rate $rate/s, ${duration}s $*" >&2

	"${server_cpu[@]}" "$server_cmd" -addr "127.0.0.1:$port" -log-level warn \
		-mock-rate "$rate" -trends "$(trend_list "$trends")" -max-trends "$trends" \
		>"$bin/$name.server.log" 2>&1 &
	server_pid=$!
	local up=
	for _ in $(seq 100); do
		if curl -fsS -o /dev/null --max-time 1 "$base/healthz" 2>/dev/null; then
			up=1
			break
		fi
		kill -0 "$server_pid" 2>/dev/null || break
		sleep 0.1
	done
	[ -n "$up" ] || { cat "$bin/$name.server.log" >&2; die "$name: the server did not come up"; }

	local rss_before ticks_before t0 t1 ticks_after rss_end
	rss_before=$(rss_kb "$server_pid")
	ticks_before=$(cpu_ticks "$server_pid")
	t0=$(date +%s.%N)

	# The load generator bounds itself; timeout is only a backstop.
	local cap=$((duration + clients / connect_rate + 45))
	"${load_cpu[@]}" timeout "$cap" "$loadgen_cmd" -url "ws://127.0.0.1:$port/ws" \
		-clients "$clients" -rooms "$trends" -per-client "$per" -duration "${duration}s" \
		-warmup "${warmup}s" -connect-rate "$connect_rate" "${load_flags[@]}" "$@" >"$bin/$name.out" &
	local load_pid=$! rss_peak=$rss_before rss
	# Sample the server's RSS while the clients are connected: the peak is
	# the memory with every connection open.
	while kill -0 "$load_pid" 2>/dev/null; do
		rss=$(rss_kb "$server_pid" 2>/dev/null || echo 0)
		[ "${rss:-0}" -gt "$rss_peak" ] && rss_peak=$rss
		sleep 0.5
	done
	local status=0
	wait "$load_pid" || status=$?
	t1=$(date +%s.%N)
	ticks_after=$(cpu_ticks "$server_pid" 2>/dev/null || echo "$ticks_before")
	rss_end=$(rss_kb "$server_pid" 2>/dev/null || echo 0)
	[ "$rss_end" -gt "$rss_peak" ] && rss_peak=$rss_end
	stop_server

	local report
	report=$(tail -1 "$bin/$name.out")
	if [ "$status" -ne 0 ] || ! jq -e . >/dev/null 2>&1 <<<"$report"; then
		cat "$bin/$name.out" >&2
		echo "scenarios: $name: the load generator failed (status $status)" >&2
		return 1
	fi
	local server
	server=$(jq -n -c --argjson before "$rss_before" --argjson peak "$rss_peak" --argjson after "$rss_end" \
		--argjson ticks "$((ticks_after - ticks_before))" --argjson hz "$clk_tck" \
		--argjson t0 "$t0" --argjson t1 "$t1" --argjson rate "$rate" --argjson trends "$trends" \
		--argjson connected "$(jq .clients.connected <<<"$report")" '{
			mock_rate: $rate, trends: $trends,
			rss_before_kib: $before, rss_peak_kib: $peak, rss_end_kib: $after,
			rss_per_connection_kib: (if $connected > 0 then (($peak - $before) / $connected * 10 | round) / 10 else null end),
			cpu_pct: ((($ticks / $hz) / ($t1 - $t0) * 1000 | round) / 10)
		}') || return 1
	jq -c --arg name "$name" --arg sb "$server_label" --arg lb "$loadgen_label" --argjson server "$server" \
		'{scenario: $name, server_bin: $sb, loadgen_bin: $lb} + . + {server: $server}' \
		<<<"$report" >>"$out" || return 1
	jq -r --arg name "$name" --argjson server "$server" '
		def n: tostring | [scan("\\d{1,3}(?=(?:\\d{3})*$)")] | join(",");
		def ms: . * 100 | round / 100 | tostring;
		(.tweet // "full") as $asked | (.tweet_forms // {}) as $forms |
		"\($name)  clients \(.clients.joined)/\(.clients.asked) joined  " +
		"\(.fast.deliveries_per_s | round | n) deliveries/s  " +
		(if .fast.latency_ms.samples > 0
			then "latency p50 \(.fast.latency_ms.p50 | ms) p99 \(.fast.latency_ms.p99 | ms) max \(.fast.latency_ms.max | ms) ms  "
			else "latency n/a  " end) +
		"lost \(.fast.lost | n) skipped \(.fast.skipped | n)  " +
		"tweets \($asked)" +
		(if $forms == {} or ($forms | has($asked)) then "" else " (sent \($forms | keys | join("+")))" end) + "  " +
		"wire \(.wire_bytes_per_delivery // 0 | round | n) B/delivery  " +
		"compressed \(.compressed_conns // 0 | n)/\(.clients.connected | n)  " +
		(if .clients.slow > 0 then "slow: \(.slow.deliveries_per_s | round | n)/s, skipped \(.slow.skipped | n)  " else "" end) +
		"errors \(.errors_total | n)  " +
		"server CPU \($server.cpu_pct)%  RSS \($server.rss_before_kib / 1024 | round) -> \($server.rss_peak_kib / 1024 | round) MiB " +
		"(\($server.rss_per_connection_kib) KiB/connection)  loadgen CPU \(.loadgen_cpu_pct | round)%"
	' <<<"$report" | tee -a "$bin/summary" || return 1
}

failed=0
for s in $scenarios; do
	case $s in
	A) scenario A "$clients_a" 100 1 "$rate_a" || failed=1 ;;
	B) scenario B "$clients_b" 10 2 "$rate_b" || failed=1 ;;
	C) scenario C "$clients_c" 100 1 "$rate_c" || failed=1 ;;
	D) scenario D "$clients_d" 100 1 "$rate_d" -slow "$slow_d" || failed=1 ;;
	*) die "unknown scenario '$s' (A, B, C or D)" ;;
	esac
done
echo
echo "summary (results appended to $out):"
cat "$bin/summary" 2>/dev/null || true
exit "$failed"
