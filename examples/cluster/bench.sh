#!/usr/bin/env bash
# Runs the stream benchmarks of docs/benchmarks.md: starts the local
# 3-node cluster (run.sh) on a fresh data/, runs `strata bench pub` for
# R1 and R3, 128 B and 4 KB, async and sync, and stops the cluster.
# `make bench-streams` builds bin/ and runs this from the repository root.
set -euo pipefail

cd "$(dirname "$0")/../.."
STRATA=${STRATA:-bin/strata}
[[ -x $STRATA ]] || { echo "bench.sh: $STRATA not found; run 'make build' first" >&2; exit 1; }
[[ ! -e data ]] || { echo "bench.sh: data/ exists; remove it (a running 'make run'?) first" >&2; exit 1; }

./examples/cluster/run.sh >/dev/null 2>&1 &
cluster=$!
# run.sh is a background job of a script, which ignores SIGINT: stop it with TERM.
trap 'kill -TERM $cluster 2>/dev/null || true; wait $cluster 2>/dev/null || true; rm -rf data' EXIT
for _ in $(seq 1 120); do
	curl -fsS -o /dev/null http://127.0.0.1:8222/healthz 2>/dev/null &&
		curl -fsS -o /dev/null http://127.0.0.1:8223/healthz 2>/dev/null &&
		curl -fsS -o /dev/null http://127.0.0.1:8224/healthz 2>/dev/null && break
	sleep 0.5
done

run() {
	echo "== strata bench pub $*"
	"$STRATA" bench pub "$@" --no-progress | grep -E "Pub stats|latency"
}
run B.a1 --replicas 1 --msgs 300000 --size 128 --async --batch 2000
run B.a3 --replicas 3 --msgs 300000 --size 128 --async --batch 2000
run B.c3 --replicas 3 --msgs 300000 --size 128 --async --batch 1000 --clients 4
run B.k1 --replicas 1 --msgs 50000 --size 4096 --async --batch 500
run B.k3 --replicas 3 --msgs 50000 --size 4096 --async --batch 500
run B.s1 --replicas 1 --msgs 3000 --size 128 --sync
run B.s3 --replicas 3 --msgs 3000 --size 128 --sync
run B.sk1 --replicas 1 --msgs 2000 --size 4096 --sync
run B.sk3 --replicas 3 --msgs 2000 --size 4096 --sync
