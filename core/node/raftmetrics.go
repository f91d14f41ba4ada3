package node

import (
	"sync"

	gometrics "github.com/hashicorp/go-metrics"
	gmprom "github.com/hashicorp/go-metrics/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stratadb/strata/core/stream"
)

// raftMetrics bridges hashicorp/raft's own timers and counters (go-metrics,
// one set for the process) into Prometheus, as strata_raft_*: the leader's
// log write (raft_leader_dispatchLog), each follower's AppendEntries round
// trip (raft_replication_appendEntries_rpc, by peer_id), a follower's log
// write (raft_rpc_appendEntries_storeLogs), the commit (raft_commitTime)
// and the FSM apply (raft_fsm_apply), as summaries in milliseconds, over
// every Raft group of the process. Every node of the process exports the
// same sink; the first call installs it as go-metrics' global.
var raftMetrics = sync.OnceValue(func() prometheus.Collector {
	sink, err := gmprom.NewPrometheusSinkFrom(gmprom.PrometheusOpts{Registerer: prometheus.NewRegistry(), Name: "strata_raft_metrics"})
	if err != nil {
		return nil // a fresh registry takes any collector
	}
	cfg := gometrics.DefaultConfig("strata")
	cfg.EnableHostname = false
	cfg.EnableRuntimeMetrics = false // the Go collector has them
	cfg.BlockedPrefixes = idleRaftMetrics
	if _, err := gometrics.NewGlobal(cfg, sink); err != nil {
		return nil
	}
	return sink
})

// idleRaftMetrics are raft's timers of the heartbeats every group sends
// and answers while idle, several times a second per follower: with a
// hundred idle groups their summaries took 9% of a node's CPU (profile,
// 2026-12-07), and a heartbeat's latency says little a group's
// strata_raft_replication_appendEntries_rpc does not.
var idleRaftMetrics = []string{
	"strata.raft.replication.heartbeat",
	"strata.raft.rpc.processHeartbeat",
}

// metricCollectors are the collectors of this node's /metrics beyond the
// monitor's own.
func (n *Node) metricCollectors() []prometheus.Collector {
	cs := append(n.host.Collectors(), n.advisories.Collector(), stream.StageCollector())
	if rm := raftMetrics(); rm != nil {
		cs = append(cs, rm)
	}
	return cs
}
