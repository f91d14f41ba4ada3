package file_test

import (
	"encoding/json"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"

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
