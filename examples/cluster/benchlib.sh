# Shared by the benchmark scripts of examples/cluster (sourced, from the
# repository root): their checks, the cleanup of what they start, the
# local Strata cluster and the JetStream binaries.

# bench_init NAME BIN...: fails unless each BIN was built and data/ is
# free; sets work (a temporary directory) and pids (processes to stop),
# both cleaned up on exit.
bench_init() {
	local name=$1 b
	shift
	for b in "$@"; do
		[[ -x $b ]] || { echo "$name: $b not found; run 'make build' first" >&2; exit 1; }
	done
	[[ ! -e data ]] || { echo "$name: data/ exists; remove it (a running 'make run'?) first" >&2; exit 1; }
	work=$(mktemp -d)
	pids=()
	trap bench_cleanup EXIT
}

bench_cleanup() {
	local p
	# run.sh is a background job of a script, which ignores SIGINT: TERM.
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf data "$work"
}

# start_strata: the local 3-node cluster (run.sh, on a fresh data/); it
# returns once every node is healthy.
start_strata() {
	./examples/cluster/run.sh >"$work/strata.log" 2>&1 &
	pids+=($!)
	wait_healthy http://127.0.0.1:8222/healthz http://127.0.0.1:8223/healthz http://127.0.0.1:8224/healthz
}

# wait_healthy URL...: waits (up to a minute) until every URL answers 200.
wait_healthy() {
	local u ok
	for _ in $(seq 1 120); do
		ok=1
		for u in "$@"; do curl -fsS -o /dev/null "$u" 2>/dev/null || ok=0; done
		((ok)) && return 0
		sleep 0.5
	done
	echo "not healthy after a minute: $*" >&2
	return 1
}

# need_nats: sets NATS_BIN to a directory holding nats-server v2.15.2 and
# natscli v0.5.0, installed with `go install` into the temporary directory
# unless NATS_BIN is set; nothing is installed for good.
need_nats() {
	[[ -n ${NATS_BIN:-} ]] && return 0
	NATS_BIN=$work/gobin
	echo "== installing nats-server v2.15.2 and natscli v0.5.0 into $NATS_BIN" >&2
	GOBIN=$NATS_BIN go install github.com/nats-io/nats-server/v2@v2.15.2
	GOBIN=$NATS_BIN go install github.com/nats-io/natscli/nats@v0.5.0
}
