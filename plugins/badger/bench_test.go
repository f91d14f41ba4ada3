package badger

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/core/raftgroup"
	"github.com/stratadb/strata/pluginsdk/storebench"
)

// The shared suite, in process, with sync_writes on: each StoreLogs op
// (64 entries of 128 bytes) is one synced Badger transaction.

func BenchmarkStoreLogs(b *testing.B) {
	p := openPlugin(b, b.TempDir(), `{"sync_writes": true}`)
	storebench.StoreLogs(b, logStore(b, p, "bench"))
}

func BenchmarkStoreLargeLog(b *testing.B) {
	p := openPlugin(b, b.TempDir(), `{"sync_writes": true}`)
	storebench.StoreLargeLog(b, logStore(b, p, "bench"))
}

func BenchmarkGetLog(b *testing.B) {
	p := openPlugin(b, b.TempDir(), `{"sync_writes": true}`)
	storebench.GetLog(b, logStore(b, p, "bench"))
}

// BenchmarkStoreLogsGroups runs StoreLogs from 4 goroutines per CPU, one
// group each, as a node with several Raft groups does. The writes that queue
// up during one commit's syncs share the next transaction, so ns/op (per
// StoreLogs call) falls well below BenchmarkStoreLogs'.
func BenchmarkStoreLogsGroups(b *testing.B) {
	p := openPlugin(b, b.TempDir(), `{"sync_writes": true}`)
	data := make([]byte, storebench.EntrySize)
	var groups atomic.Int64
	b.SetParallelism(4)
	b.SetBytes(storebench.BatchSize * storebench.EntrySize)
	b.RunParallel(func(pb *testing.PB) {
		s, err := p.LogStore(fmt.Sprintf("group-%d", groups.Add(1)))
		if err != nil {
			b.Error(err)
			return
		}
		next := uint64(1)
		for pb.Next() {
			logs := make([]*raft.Log, storebench.BatchSize)
			for i := range logs {
				logs[i] = &raft.Log{Index: next, Term: 1, Type: raft.LogCommand, Data: data}
				next++
			}
			if err := s.StoreLogs(logs); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkApply3Node is raftgroup's 3-node benchmark on Badger stores in
// process (no plugin boundary), fsync on; core/storage runs the same over
// the plugin binary.
func BenchmarkApply3Node(b *testing.B) {
	plugins := map[string]*Plugin{}
	for i := range 3 { // opened first, so they close after the cluster
		plugins[fmt.Sprintf("n%d", i)] = openPlugin(b, b.TempDir(), `{"sync_writes": true}`)
	}
	raftgroup.BenchApply(b, func(tb testing.TB, node, group string) raftgroup.Stores {
		p := plugins[node]
		snaps := raft.NewInmemSnapshotStore()
		return raftgroup.Stores{Log: logStore(tb, p, group), Stable: stableStore(tb, p, group), Snapshots: snaps}
	})
}
