#!/usr/bin/env bash
# Runs the stream benchmarks of docs/benchmarks.md: starts the local
# 3-node cluster (run.sh) on a fresh data/, runs `strata bench pub` for
# R1 and R3, 128 B and 4 KB, async and sync, and stops the cluster.
# `make bench-streams` builds bin/ and runs this from the repository root.
set -euo pipefail

cd "$(dirname "$0")/../.."
STRATA=${STRATA:-bin/strata}
# shellcheck source=benchlib.sh
. examples/cluster/benchlib.sh
bench_init bench.sh "$STRATA"
start_strata

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
