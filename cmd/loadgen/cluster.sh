#!/usr/bin/env bash
# Compares one `all` process with a cluster of one ingest node and two web
# nodes over NATS, at the same total clients, on this machine (127.0.0.1
# only). Every server process is pinned to core 0, the load generators to
# core 1: the cluster gets the one core the single process gets.
#
#   all      tweetstreamer alone; one load generator with every client
#   cluster  nats-server, an ingest node and two web nodes; two load
#            generators, each with half the clients on its web node
#   web      one web node alone on core 0, every client on it; NATS and
#            the ingest node on core 1 beside the load generator: what
#            one web node holds on one core
#
# For each run it prints one line: the deliveries per second of all the
# clients together, the latency percentiles of each load generator, the
# CPU the server processes used (together and each, in % of one core) and
# each load generator's own CPU.
#
# Usage: cmd/loadgen/cluster.sh [all|cluster]...   (default: all cluster)
#
# Environment: CLIENTS (default 1000), ROOMS (100), RATE (mock rate, 4000),
# DURATION (seconds, 20), PORT (first port, 18100).
set -euo pipefail

die() { echo "cluster: $*" >&2; exit 1; }
command -v jq >/dev/null || die "needs jq (apt-get install jq)"
command -v curl >/dev/null || die "needs curl (apt-get install curl)"
command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ] || die "needs taskset and two cores"

clients=${CLIENTS:-1000}
rooms=${ROOMS:-100}
rate=${RATE:-4000}
duration=${DURATION:-20}
port=${PORT:-18100}
modes=("$@")
[ ${#modes[@]} -gt 0 ] || modes=(all cluster)
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

cd "$(dirname "$0")/../.."
bin=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$bin"
}
trap cleanup EXIT
echo "cluster: building into $bin" >&2
go build -o "$bin/tweetstreamer" ./cmd/tweetstreamer
go build -o "$bin/loadgen" ./cmd/loadgen
go build -o "$bin/nats-server" github.com/nats-io/nats-server/v2

trends=$(seq -f 't%03g' 1 "$rooms" | paste -sd, -)
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
wait_ready() {
	for _ in $(seq 100); do
		curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$1/readyz" 2>/dev/null && return 0
		sleep 0.1
	done
	die "nothing ready on port $1"
}
# serve NAME ARGS...: start a server process on core 0 (on $core when set).
names=()
serve() {
	local name=$1
	shift
	taskset -c "${core:-0}" "$@" >"$bin/$name.log" 2>&1 &
	pids+=($!)
	names+=("$name")
}

run() {
	local mode=$1 web_ports=()
	pids=() names=()
	case $mode in
	all)
		serve all "$bin/tweetstreamer" -addr "127.0.0.1:$port" -log-level warn \
			-mock-rate "$rate" -trends "$trends" -max-trends "$rooms"
		web_ports=("$port")
		;;
	cluster)
		local nats=nats://127.0.0.1:$((port + 10))
		serve nats "$bin/nats-server" -a 127.0.0.1 -p $((port + 10))
		sleep 0.5
		serve ingest "$bin/tweetstreamer" -nats "$nats" -role ingest -addr "127.0.0.1:$((port + 1))" \
			-log-level warn -mock-rate "$rate" -trends "$trends" -max-trends "$rooms"
		serve web1 "$bin/tweetstreamer" -nats "$nats" -role web -addr "127.0.0.1:$((port + 2))" -log-level warn
		serve web2 "$bin/tweetstreamer" -nats "$nats" -role web -addr "127.0.0.1:$((port + 3))" -log-level warn
		wait_ready $((port + 1))
		web_ports=($((port + 2)) $((port + 3)))
		;;
	web)
		local nats=nats://127.0.0.1:$((port + 10))
		core=1 serve nats "$bin/nats-server" -a 127.0.0.1 -p $((port + 10))
		sleep 0.5
		core=1 serve ingest "$bin/tweetstreamer" -nats "$nats" -role ingest -addr "127.0.0.1:$((port + 1))" \
			-log-level warn -mock-rate "$rate" -trends "$trends" -max-trends "$rooms"
		serve web1 "$bin/tweetstreamer" -nats "$nats" -role web -addr "127.0.0.1:$((port + 2))" -log-level warn
		wait_ready $((port + 1))
		web_ports=($((port + 2)))
		;;
	*) die "unknown mode $mode" ;;
	esac
	for p in "${web_ports[@]}"; do wait_ready "$p"; done
	sleep 2 # the web nodes hear the trend list

	local before=0 after=0 p t0 t1 k
	local -a each_before=()
	for p in "${pids[@]}"; do
		each_before+=("$(cpu_ticks "$p")")
		before=$((before + ${each_before[-1]}))
	done
	t0=$(date +%s.%N)
	local share=$((clients / ${#web_ports[@]})) loads=() i=0
	for wp in "${web_ports[@]}"; do
		taskset -c 1 timeout $((duration + 60)) "$bin/loadgen" -url "ws://127.0.0.1:$wp/ws" \
			-clients "$share" -rooms "$rooms" -per-client 1 -duration "${duration}s" >"$bin/load$i.out" 2>"$bin/load$i.err" &
		loads+=($!)
		i=$((i + 1))
	done
	for l in "${loads[@]}"; do wait "$l"; done
	t1=$(date +%s.%N)
	local secs each=""
	secs=$(echo "$t1 - $t0" | bc)
	pct() { awk -v t="$1" -v hz="$(getconf CLK_TCK)" -v s="$secs" 'BEGIN { printf "%.1f", t / hz / s * 100 }'; }
	for k in "${!pids[@]}"; do
		local ticks
		ticks=$(cpu_ticks "${pids[$k]}")
		after=$((after + ticks))
		each+=" ${names[$k]} $(pct $((ticks - each_before[k])))%"
	done
	local cpu
	cpu=$(pct $((after - before)))
	local total=0 lat="" lg=""
	for ((j = 0; j < i; j++)); do
		local r
		r=$(tail -1 "$bin/load$j.out")
		total=$(jq -n --argjson a "$total" --argjson b "$(jq .fast.deliveries_per_s <<<"$r")" '$a + $b')
		lat+=$(jq -r '" p50 \(.fast.latency_ms.p50) p99 \(.fast.latency_ms.p99) lost \(.fast.lost) skipped \(.fast.skipped) dup \(.fast.duplicates);"' <<<"$r")
		lg+=$(jq -r '" \(.loadgen_cpu_pct | round)%"' <<<"$r")
	done
	printf '%s  %s clients  %.0f deliveries/s  latency ms:%s  servers %s%% of a core (%s)  load generators%s\n' \
		"$mode" "$clients" "$total" "$lat" "$cpu" "${each# }" "$lg"
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	pids=()
}

for m in "${modes[@]}"; do run "$m"; done
