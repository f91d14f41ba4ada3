package badger

import (
	"fmt"
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

// BenchmarkStoreLogsGroups runs StoreLogs from many groups at once, as a
// node does. The writes that queue up during one commit's syncs share the
// next transaction, so ns/op (per StoreLogs call) falls well below
// BenchmarkStoreLogs'.
func BenchmarkStoreLogsGroups(b *testing.B) {
	p := openPlugin(b, b.TempDir(), `{"sync_writes": true}`)
	storebench.StoreLogsGroups(b, p.LogStore)
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
