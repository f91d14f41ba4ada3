package file_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/core/raftgroup"
	"github.com/stratadb/strata/plugins/file"
	"github.com/stratadb/strata/pluginsdk"
	"github.com/stratadb/strata/pluginsdk/storebench"
)

// benchPlugin returns a plugin configured with config on a fresh dir.
func benchPlugin(b *testing.B, config string) *file.Plugin {
	b.Helper()
	p := file.New()
	err := p.Configure(pluginsdk.ConfigureRequest{
		DataDir: b.TempDir(), Config: json.RawMessage(config), Logger: hclog.NewNullLogger(),
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.Close() })
	return p
}

// benchLogStore opens a group's LogStore on a fresh plugin.
func benchLogStore(b *testing.B, config string) raft.LogStore {
	b.Helper()
	ls, err := benchPlugin(b, config).LogStore("bench")
	if err != nil {
		b.Fatal(err)
	}
	return ls
}

// BenchmarkStoreLogs appends batches: "sync" is the production setting,
// "no_sync" shows what the fsyncs cost.
func BenchmarkStoreLogs(b *testing.B) {
	b.Run("sync", func(b *testing.B) { storebench.StoreLogs(b, benchLogStore(b, `{}`)) })
	b.Run("no_sync", func(b *testing.B) { storebench.StoreLogs(b, benchLogStore(b, `{"no_sync": true}`)) })
}

// BenchmarkStoreLogsGroups runs StoreLogs from many groups at once, as a
// node does, fsync on.
func BenchmarkStoreLogsGroups(b *testing.B) {
	storebench.StoreLogsGroups(b, benchPlugin(b, `{}`).LogStore)
}

func BenchmarkGetLog(b *testing.B) {
	storebench.GetLog(b, benchLogStore(b, `{"no_sync": true}`))
}

// BenchmarkSnapshot writes and reads 16 MiB snapshots, fsync and SHA-256
// included.
func BenchmarkSnapshot(b *testing.B) {
	ss, err := benchPlugin(b, `{}`).SnapshotStore("bench")
	if err != nil {
		b.Fatal(err)
	}
	storebench.Snapshot(b, ss, 16<<20)
}

// BenchmarkApply3Node is raftgroup's 3-node benchmark on the file plugin's
// stores in process (no plugin boundary), fsync on; core/storage runs the
// same over the plugin binary.
func BenchmarkApply3Node(b *testing.B) {
	plugins := map[string]*file.Plugin{}
	for i := range 3 { // opened first, so they close after the cluster
		plugins[fmt.Sprintf("n%d", i)] = benchPlugin(b, `{}`)
	}
	raftgroup.BenchApply(b, func(tb testing.TB, node, group string) raftgroup.Stores {
		p := plugins[node]
		logs, err := p.LogStore(group)
		if err != nil {
			tb.Fatal(err)
		}
		stable, err := p.StableStore(group)
		if err != nil {
			tb.Fatal(err)
		}
		snaps, err := p.SnapshotStore(group)
		if err != nil {
			tb.Fatal(err)
		}
		return raftgroup.Stores{Log: logs, Stable: stable, Snapshots: snaps}
	})
}
