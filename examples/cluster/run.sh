#!/usr/bin/env bash
# Runs the local 3-node cluster of examples/cluster: `make run` builds bin/
# and then runs this script from the repository root. Each server logs to
# data/nX.log; Ctrl-C stops all three cleanly (SIGTERM, then wait).
set -euo pipefail

cd "$(dirname "$0")/../.."
STRATA=${STRATA:-bin/strata}
NODES=(n1 n2 n3)
HTTP=(127.0.0.1:8222 127.0.0.1:8223 127.0.0.1:8224)
READY_TIMEOUT=${READY_TIMEOUT:-60} # seconds

[[ -x $STRATA ]] || { echo "run.sh: $STRATA not found; run 'make build' first" >&2; exit 1; }
command -v curl >/dev/null || { echo "run.sh: curl is needed to check /healthz" >&2; exit 1; }
mkdir -p data

pids=()
stop_all() {
	trap - EXIT INT TERM
	((${#pids[@]})) || return 0
	echo "stopping the cluster..."
	kill -TERM "${pids[@]}" 2>/dev/null || true
	wait "${pids[@]}" 2>/dev/null || true
	echo "stopped; data and logs are in data/ (rm -rf data to start afresh)"
}
trap stop_all EXIT
trap 'exit 130' INT TERM

# Job control gives each server its own process group, so a Ctrl-C reaches
# only this script, which then stops the servers with SIGTERM.
set -m
for n in "${NODES[@]}"; do
	"$STRATA" serve --config "examples/cluster/$n.hcl" >>"data/$n.log" 2>&1 &
	pids+=($!)
	echo "started $n (pid $!), log: data/$n.log"
done

# wait_healthy waits until node i answers /healthz with 200.
wait_healthy() {
	local i=$1 deadline=$((SECONDS + READY_TIMEOUT))
	until curl -fsS --max-time 2 -o /dev/null "http://${HTTP[i]}/healthz" 2>/dev/null; do
		if ! kill -0 "${pids[i]}" 2>/dev/null; then
			echo "${NODES[i]} exited; the end of data/${NODES[i]}.log:" >&2
			tail -n 20 "data/${NODES[i]}.log" >&2
			exit 1
		fi
		if ((SECONDS >= deadline)); then
			echo "${NODES[i]} not healthy after ${READY_TIMEOUT}s: $(curl -s --max-time 2 "http://${HTTP[i]}/healthz")" >&2
			exit 1
		fi
		sleep 0.2
	done
}
for i in "${!NODES[@]}"; do
	wait_healthy "$i"
done

cat <<INFO

The cluster is up: n1, n2, n3 (cluster name strata-local).
  clients:  127.0.0.1:4222, :4223, :4224   (bin/strata uses -s or STRATA_URL; default 127.0.0.1:4222)
  try:      bin/strata stream add ORDERS --subjects 'ORDERS.>' --replicas 3
            bin/strata pub ORDERS.new hello --id 1
            bin/strata get ORDERS --seq 1
            bin/strata stream info ORDERS
            bin/strata server report
  health:   curl http://127.0.0.1:8222/healthz   (8223 for n2, 8224 for n3)
  state:    curl http://127.0.0.1:8222/jsz       (members, meta group, stream replicas)
  metrics:  curl http://127.0.0.1:8222/metrics
  logs:     tail -f data/n1.log data/n2.log data/n3.log
Press Ctrl-C to stop all three.
INFO

# Stay up until Ctrl-C, or until a server stops on its own.
set +e
wait -n "${pids[@]}"
status=$?
echo "a server exited (status $status); see data/n*.log" >&2
exit "$status"
