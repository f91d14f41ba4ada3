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

// BenchWarmup is how many entries BenchApply applies before it starts the
// clock: enough for the stores to have allocated their buffers and files
// and for every node's connections and caches to be in use, so that a short
// run measures the steady state.
const BenchWarmup = 4 * BenchWindow

// BenchApply measures async Apply throughput on a 3-node, single-group
// cluster whose stores come from newStores (nil: InmemStores). After
// BenchWarmup entries, untimed, one b.Loop iteration applies one
// BenchEntrySize-byte entry on the leader; up to BenchWindow futures stay
// outstanding and the oldest is waited on when the window is full. It
// reports entries/s, counting the final drain.
func BenchApply(b *testing.B, newStores func(tb testing.TB, node, group string) Stores) {
	const group = "bench"
	c := NewCluster(b, ClusterConfig{
		Nodes: 3, Groups: []string{group}, NewStores: newStores, LogLevel: hclog.Warn,
		Raft: productionTimeouts,
	})
	leader := c.Leader(group)
	var window [BenchWindow]raft.ApplyFuture // ring: slot id%BenchWindow
	var id uint64
	apply := func() {
		slot := &window[id%BenchWindow]
		if *slot != nil {
			waitApply(b, *slot)
		}
		id++
		*slot = leader.Apply(EncodeEntry(id, BenchEntrySize), 0)
	}
	for range BenchWarmup {
		apply()
	}
	drain(b, &window)
	b.SetBytes(BenchEntrySize)
	b.ReportAllocs()
	start, first := time.Now(), id
	for b.Loop() { // the first call resets the timer
		apply()
	}
	drain(b, &window)
	b.ReportMetric(float64(id-first)/time.Since(start).Seconds(), "entries/s")
}

// drain waits for every future of window and empties it.
func drain(b *testing.B, window *[BenchWindow]raft.ApplyFuture) {
	for i, f := range window {
		if f != nil {
			waitApply(b, f)
			window[i] = nil
		}
	}
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
