package raftgroup

import (
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

const (
	// BenchEntrySize is the size of each entry BenchApply applies.
	BenchEntrySize = 128
	// BenchWindow is the number of Apply futures BenchApply keeps in flight.
	BenchWindow = 4096
)

// BenchApply measures async Apply throughput on a 3-node, single-group
// cluster whose stores come from newStores (nil: InmemStores). One b.Loop
// iteration applies one BenchEntrySize-byte entry on the leader; up to
// BenchWindow futures stay outstanding and the oldest is waited on when the
// window is full. It reports entries/s, counting the final drain.
func BenchApply(b *testing.B, newStores func(tb testing.TB, node, group string) Stores) {
	const group = "bench"
	c := NewCluster(b, ClusterConfig{
		Nodes: 3, Groups: []string{group}, NewStores: newStores, LogLevel: hclog.Warn,
		Raft: productionTimeouts,
	})
	leader := c.Leader(group)
	var window [BenchWindow]raft.ApplyFuture // ring: slot id%BenchWindow
	var id uint64
	b.SetBytes(BenchEntrySize)
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		slot := &window[id%BenchWindow]
		if *slot != nil {
			waitApply(b, *slot)
		}
		id++
		*slot = leader.Apply(EncodeEntry(id, BenchEntrySize), 0)
	}
	for _, f := range window {
		if f != nil {
			waitApply(b, f)
		}
	}
	b.ReportMetric(float64(id)/time.Since(start).Seconds(), "entries/s")
}

func waitApply(b *testing.B, f raft.ApplyFuture) {
	if err := f.Error(); err != nil {
		b.Fatalf("apply: %v", err)
	}
}

// productionTimeouts restores raft's default timeouts (TestRaftConfig's
// are short for fast elections, and a saturated CPU must not cost the
// leader its lease in the middle of a run).
func productionTimeouts(rc *raft.Config) {
	d := raft.DefaultConfig()
	rc.HeartbeatTimeout, rc.ElectionTimeout = d.HeartbeatTimeout, d.ElectionTimeout
	rc.LeaderLeaseTimeout, rc.CommitTimeout = d.LeaderLeaseTimeout, d.CommitTimeout
}
