#!/usr/bin/env bash
# Runs the consumer benchmarks of docs/benchmarks.md on Strata and on
# JetStream side by side: a local 3-node Strata cluster (run.sh, on a fresh
# data/) and a local 3-node JetStream cluster (file storage, defaults, in a
# temporary directory), the same workloads on both in alternation:
#   - consume an R3 stream of 128 B messages with explicit acks, 1 and 4 workers
#   - consume it without acks
#   - async publishing alone, then while a consumer reads another stream
# nats-server v2.15.2 and natscli v0.5.0 are installed with `go install` into a
# temporary GOBIN (or taken from $NATS_BIN); nothing is installed for good.
# `make bench-consume` builds bin/ and runs this from the repository root.
set -euo pipefail

cd "$(dirname "$0")/../.."
STRATA=${STRATA:-bin/strata}
MSGS=${MSGS:-200000}
ROUNDS=${ROUNDS:-2}
# shellcheck source=benchlib.sh
. examples/cluster/benchlib.sh
bench_init bench-consume.sh "$STRATA"
need_nats
NATS="$NATS_BIN/nats --no-context -s nats://127.0.0.1:14222,nats://127.0.0.1:14223,nats://127.0.0.1:14224"

# A JetStream cluster on ports 14222-14224 (client), 16222-16224 (routes),
# 18222-18224 (monitoring).
for i in 1 2 3; do
	cat >"$work/js$i.conf" <<EOF
server_name: js$i
listen: 127.0.0.1:1422$((i + 1))
http: 127.0.0.1:1822$((i + 1))
jetstream { store_dir: "$work/js$i" }
cluster {
  name: bench
  listen: 127.0.0.1:1622$((i + 1))
  routes: [nats://127.0.0.1:16222, nats://127.0.0.1:16223, nats://127.0.0.1:16224]
}
EOF
	"$NATS_BIN/nats-server" -c "$work/js$i.conf" >"$work/js$i.log" 2>&1 &
	pids+=($!)
done
start_strata
wait_healthy "http://127.0.0.1:18222/healthz?js-enabled-only=true" "http://127.0.0.1:18223/healthz?js-enabled-only=true" \
	"http://127.0.0.1:18224/healthz?js-enabled-only=true"
# JetStream's meta group elects a leader after the servers report healthy.
for _ in $(seq 1 60); do $NATS account info >/dev/null 2>&1 && break; sleep 0.5; done

strata_consume() { # name, extra flags...
	local name=$1
	shift
	echo "-- strata bench consume $name --replicas 3 --msgs $MSGS --size 128 $*"
	"$STRATA" bench consume "$name" --replicas 3 --msgs "$MSGS" --size 128 --keep "$@" --no-progress |
		grep -E "^(Consume|Pub) stats|Published|latency"
}

js_fill() { # stream
	$NATS bench js pub async "$1.bench" --stream "$1" --create --replicas 3 --storage file --msgs "$MSGS" --size 128 \
		--batch 2000 --no-progress | grep -E "stats" | sed 's/^/   fill: /'
}

js_fetch() { # stream, consumer, ack policy, extra flags...
	# nats bench js fetch reads an existing durable: create it as strata
	# bench consume does (pull, deliver all, max ack pending 1000, ack wait
	# 30 s, R3 as its stream), and remove it afterwards.
	local stream=$1 consumer=$2 ack=$3
	shift 3
	$NATS consumer add "$stream" "$consumer" --pull --deliver all --ack "$ack" --max-pending 1000 --wait 30s \
		--replay instant --defaults >/dev/null
	echo "-- nats bench js fetch --stream $stream --consumer $consumer --acks $ack --msgs $MSGS --batch 500 $*"
	$NATS bench js fetch --stream "$stream" --consumer "$consumer" --acks "$ack" --msgs "$MSGS" --batch 500 "$@" --no-progress |
		grep -E "stats"
	$NATS consumer rm "$stream" "$consumer" -f >/dev/null
}

js_pub() { # stream
	echo "-- nats bench js pub async $1.bench --create --replicas 3 --storage file --msgs $MSGS --size 128 --batch 2000"
	$NATS bench js pub async "$1.bench" --stream "$1" --create --replicas 3 --storage file --msgs "$MSGS" --size 128 \
		--batch 2000 --no-progress | grep -E "stats"
}

echo "== filling the R3 streams ($MSGS messages of 128 B each side)"
js_fill JSC
for round in $(seq 1 "$ROUNDS"); do
	echo "== round $round: consume with explicit acks, 1 worker"
	strata_consume SC --consumer w1 --consumers 1 --batch 500
	js_fetch JSC w1 explicit --clients 1
	js_fetch JSC w1d explicit --clients 1 --doubleack
	echo "== round $round: consume with explicit acks, 4 workers"
	strata_consume SC --consumer w4 --consumers 4 --batch 500
	js_fetch JSC w4 explicit --clients 4
	echo "== round $round: consume without acks"
	strata_consume SC --consumer n1 --consumers 1 --batch 500 --ack none
	js_fetch JSC n1 none --clients 1
	echo "== round $round: async publish alone"
	echo "-- strata bench pub SP$round.bench --stream SP$round --replicas 3 --msgs $MSGS --size 128 --async --batch 2000"
	"$STRATA" bench pub "SP$round.bench" --stream "SP$round" --replicas 3 --msgs "$MSGS" --size 128 --async --batch 2000 \
		--no-progress | grep -E "Pub stats"
	js_pub "JP$round"
	echo "== round $round: async publish while a consumer reads (explicit acks)"
	strata_consume SC --consumer pw --consumers 1 --batch 500 --publish-while --publish-stream "SQ$round" --publish-batch 2000
	js_pub "JQ$round" &
	pub=$!
	js_fetch JSC pw explicit --clients 1
	wait $pub
done
