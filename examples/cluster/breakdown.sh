#!/usr/bin/env bash
# Where one synchronous R3 publish spends its time, stage by stage, from
# the histograms and summaries the nodes export on /metrics: starts the
# local 3-node cluster (run.sh) on a fresh data/, publishes MSGS messages
# of SIZE bytes one at a time through n1 to an R3 stream, then reads every
# node's /metrics and prints one table (p50 and p99 of each stage, on the
# node where it happens). `make bench-breakdown` builds bin/ and runs it.
set -euo pipefail

cd "$(dirname "$0")/../.."
STRATA=${STRATA:-bin/strata}
MSGS=${MSGS:-3000}
SIZE=${SIZE:-128}
# shellcheck source=benchlib.sh
. examples/cluster/benchlib.sh
bench_init breakdown.sh "$STRATA"
start_strata

"$STRATA" stream add BD --subjects 'BD.>' --replicas 3 >/dev/null
leader=$("$STRATA" stream info BD --json | sed -nE 's/.*"leader": *"([^"]+)".*/\1/p' | head -1)
"$STRATA" bench pub BD.x --stream BD --msgs "$MSGS" --size "$SIZE" --sync --no-progress | grep -E "Pub stats|latency"
for i in 1 2 3; do curl -fsS "http://127.0.0.1:822$((i + 1))/metrics" >"$work/n$i.prom"; done
echo
echo "stream leader: $leader; $MSGS sync publishes of $SIZE B through n1, $(nproc) vCPUs, commit $(git rev-parse --short HEAD), $(date -u +%Y-%m-%d)"
echo

# hist FILE STAGE Q: the Q quantile of strata_publish_stage_seconds{stage}
# in FILE, interpolated in its bucket, in µs.
hist() {
	awk -v stage="$2" -v q="$3" '
	$1 ~ "^strata_publish_stage_seconds_bucket" && $1 ~ "stage=\"" stage "\"" {
		le = $1; sub(/.*le="/, "", le); sub(/".*/, "", le); n++; les[n] = (le == "+Inf") ? 1e9 : le + 0; cum[n] = $2 + 0 }
	END { if (n == 0 || cum[n] == 0) { print "-"; exit } want = q * cum[n]; lo = 0; prev = 0
		for (i = 1; i <= n; i++) { if (cum[i] >= want) { f = (cum[i] > prev) ? (want - prev) / (cum[i] - prev) : 0
			printf "%.0f", (lo + f * (les[i] - lo)) * 1e6; exit } lo = les[i]; prev = cum[i] } }' "$1"
}
# summ FILE NAME Q [LABEL]: a go-metrics summary's quantile (ms) in µs.
summ() {
	awk -v name="$2" -v q="$3" -v label="${4:-}" '
	index($1, name "{") == 1 && $1 ~ "quantile=\"" q "\"" && (label == "" || index($1, label) > 0) { printf "%.0f", $2 * 1000; found = 1; exit }
	END { if (!found) print "-" }' "$1"
}
# hmean FILE STAGE: the mean of strata_publish_stage_seconds{stage} (its
# sum over its count) in µs. Means add up where quantiles do not.
hmean() {
	awk -v stage="$2" '
	$1 == "strata_publish_stage_seconds_sum{stage=\"" stage "\"}" { s = $2 }
	$1 == "strata_publish_stage_seconds_count{stage=\"" stage "\"}" { c = $2 }
	END { if (c > 0) printf "%.0f", s / c * 1e6; else print "-" }' "$1"
}
# smean FILE NAME [LABEL]: a go-metrics summary's mean (its _sum over its
# _count, in ms) in µs.
smean() {
	awk -v name="$2" -v label="${3:-}" '
	index($1, name "_sum") == 1 && (label == "" || index($1, label) > 0) { s = $2 }
	index($1, name "_count") == 1 && (label == "" || index($1, label) > 0) { c = $2 }
	END { if (c > 0) printf "%.0f", s / c * 1000; else print "-" }' "$1"
}
n=${leader#n}
follower=$((n % 3 + 1))
L=$work/n$n.prom
F=$work/n$follower.prom
C=$work/n1.prom
row() { printf '| %s | %s | %s | %s | %s |\n' "$1" "$2" "$3" "$4" "$5"; }
echo "| stage | where | mean µs | p50 µs | p99 µs |"
echo "| --- | --- | --- | --- | --- |"
row "whole publish at the node called (API)" n1 "$(hmean "$C" total)" "$(hist "$C" total 0.5)" "$(hist "$C" total 0.99)"
if [[ $n != 1 ]]; then
	row "forward to the leader and back" n1 "$(hmean "$C" forward)" "$(hist "$C" forward 0.5)" "$(hist "$C" forward 0.99)"
fi
row "waiting in the proposer for its entry" "$leader" "$(hmean "$L" queue)" "$(hist "$L" queue 0.5)" "$(hist "$L" queue 0.99)"
row "entry in raft: raft.Apply to committed and applied" "$leader" "$(hmean "$L" raft)" "$(hist "$L" raft 0.5)" "$(hist "$L" raft 0.99)"
row "… leader's log write (raft leader dispatchLog)" "$leader" "$(smean "$L" strata_raft_leader_dispatchLog)" "$(summ "$L" strata_raft_leader_dispatchLog 0.5)" "$(summ "$L" strata_raft_leader_dispatchLog 0.99)"
row "… AppendEntries round trip to n$follower" "$leader" "$(smean "$L" strata_raft_replication_appendEntries_rpc "peer_id=\"n$follower\"")" "$(summ "$L" strata_raft_replication_appendEntries_rpc 0.5 "peer_id=\"n$follower\"")" "$(summ "$L" strata_raft_replication_appendEntries_rpc 0.99 "peer_id=\"n$follower\"")"
row "… … follower's log write (storeLogs)" "n$follower" "$(smean "$F" strata_raft_rpc_appendEntries_storeLogs)" "$(summ "$F" strata_raft_rpc_appendEntries_storeLogs 0.5)" "$(summ "$F" strata_raft_rpc_appendEntries_storeLogs 0.99)"
row "… dispatch to commit (raft commitTime)" "$leader" "$(smean "$L" strata_raft_commitTime)" "$(summ "$L" strata_raft_commitTime 0.5)" "$(summ "$L" strata_raft_commitTime 0.99)"
row "… hand-off of committed entries to the FSM (raft fsm enqueue)" "$leader" "$(smean "$L" strata_raft_fsm_enqueue)" "$(summ "$L" strata_raft_fsm_enqueue 0.5)" "$(summ "$L" strata_raft_fsm_enqueue 0.99)"
row "… FSM apply (raft fsm apply)" "$leader" "$(smean "$L" strata_raft_fsm_apply)" "$(summ "$L" strata_raft_fsm_apply 0.5)" "$(summ "$L" strata_raft_fsm_apply 0.99)"
row "… … message store write" "$leader" "$(hmean "$L" store)" "$(hist "$L" store 0.5)" "$(hist "$L" store 0.99)"
