package stream

import (
	"math"
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
	// StageQueue is the first publish of an entry waiting in the leader's
	// proposer until the entry is handed to raft (observed once an entry:
	// the longest wait of its publishes).
	StageQueue = "queue"
	// StageRaft is an entry on the leader from raft.Apply until it is
	// committed and applied: the leader's log write, the followers'
	// AppendEntries round trips and log writes, the commit and the apply.
	StageRaft = "raft"
	// StageStore is the message store's write of an applied entry, on
	// every replica.
	StageStore = "store"
)

// stageSeconds times the stages of publishes on this process's nodes. Its
// buckets grow by 2^(1/4) from 25 µs to 3.3 s: a quantile interpolated in
// one is off by at most 19%, where buckets that double could be off by
// hundreds of microseconds at a millisecond (and were, 2026-12-07).
var stageSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
	Name:    "strata_publish_stage_seconds",
	Help:    "Time of each stage of a publish on this node (total, forward, queue, raft, store).",
	Buckets: prometheus.ExponentialBuckets(25e-6, math.Pow(2, 0.25), 4*17+1),
}, []string{"stage"})

// stageObservers are stageSeconds' series, looked up once: publishes
// observe them on their hot path.
var stageObservers = func() map[string]prometheus.Observer {
	m := map[string]prometheus.Observer{}
	for _, s := range []string{StageTotal, StageForward, StageQueue, StageRaft, StageStore} {
		m[s] = stageSeconds.WithLabelValues(s)
	}
	return m
}()

// StageCollector exports strata_publish_stage_seconds.
func StageCollector() prometheus.Collector { return stageSeconds }

// ObserveStage records a stage (one of the Stage constants) that began at
// start.
func ObserveStage(stage string, start time.Time) {
	stageObservers[stage].Observe(time.Since(start).Seconds())
}
