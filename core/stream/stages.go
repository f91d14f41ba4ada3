package stream

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Publish stages, as strata_publish_stage_seconds labels them.
const (
	// StageTotal is a publish call on the node a client called, from the
	// request to the ack (the API's stage).
	StageTotal = "total"
	// StageForward is a publish the node forwarded to the stream's leader,
	// as the forwarding node waited for it (the API's stage).
	StageForward = "forward"
	// StageQueue is a publish waiting in the leader's proposer until its
	// entry is handed to raft.
	StageQueue = "queue"
	// StageRaft is an entry on the leader from raft.Apply until it is
	// committed and applied: the leader's log write, the followers'
	// AppendEntries round trips and log writes, the commit and the apply.
	StageRaft = "raft"
	// StageStore is the message store's write of an applied entry, on
	// every replica.
	StageStore = "store"
)

// stageSeconds times the stages of publishes on this process's nodes.
var stageSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
	Name:    "strata_publish_stage_seconds",
	Help:    "Time of each stage of a publish on this node (total, forward, queue, raft, store).",
	Buckets: prometheus.ExponentialBuckets(25e-6, 2, 18),
}, []string{"stage"})

// StageCollector exports strata_publish_stage_seconds.
func StageCollector() prometheus.Collector { return stageSeconds }

// ObserveStage records a stage that began at start.
func ObserveStage(stage string, start time.Time) {
	stageSeconds.WithLabelValues(stage).Observe(time.Since(start).Seconds())
}
