package storage

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/core/raftgroup"
	"github.com/stratadb/strata/pluginsdk/storebench"
)

// hostPerNode returns a newStores function for raftgroup.BenchApply whose
// stores come from one plugin Host per node, every store kind on the named
// plugins.
func hostPerNode(b testing.TB, logPlugin, snapPlugin string, procs int) func(testing.TB, string, string) raftgroup.Stores {
	paths := pluginBins
	hosts := map[string]*Host{}
	dir, err := os.MkdirTemp("", "strata-bench-")
	if err != nil {
		b.Fatal(err)
	}
	// Registered before the cluster's: runs after raft has shut down, and
	// removes the data only once the plugins are stopped.
	b.Cleanup(func() {
		for _, h := range hosts {
			h.Close()
		}
		_ = os.RemoveAll(dir)
	})
	return func(tb testing.TB, node, group string) raftgroup.Stores {
		h, ok := hosts[node]
		if !ok {
			cfg := DefaultConfig()
			cfg.DataDir = filepath.Join(dir, node)
			for name, path := range paths {
				cfg.Plugins[name] = PluginConfig{Name: name, Path: path, GoMaxProcs: procs}
			}
			cfg.Log, cfg.Stable, cfg.Snapshot = logPlugin, logPlugin, snapPlugin
			cfg.Logger = hclog.New(&hclog.LoggerOptions{Level: hclog.Warn})
			var err error
			if h, err = Open(cfg); err != nil {
				tb.Fatal(err)
			}
			hosts[node] = h
		}
		st := h.Stores(group)
		return raftgroup.Stores{Log: st.Log, Stable: st.Stable, Snapshots: st.Snapshots}
	}
}

// BenchmarkApply3Node measures a 3-node Raft group's applied entries/s of
// 128 B on each plugin over gRPC, fsync on.
// With gomaxprocs=1 each plugin process runs one Go thread at a time:
// six processes share two cores here.
func BenchmarkApply3Node(b *testing.B) {
	for _, p := range []string{"badger", "file"} {
		for _, procs := range []int{0, 1} {
			b.Run(fmt.Sprintf("plugin=%s/gomaxprocs=%d", p, procs), func(b *testing.B) {
				raftgroup.BenchApply(b, hostPerNode(b, p, "file", procs))
			})
		}
	}
}

// BenchmarkPluginStoreLogs measures StoreLogs of 64 × 128 B entries
// through each plugin binary over gRPC, fsync on. Compare with the same
// stores in process: go test -bench StoreLogs ./plugins/...
func BenchmarkPluginStoreLogs(b *testing.B) {
	for _, p := range []string{"badger", "file"} {
		b.Run("plugin="+p, func(b *testing.B) {
			storebench.StoreLogs(b, hostPerNode(b, p, "file", 0)(b, "n0", "bench").Log)
		})
	}
}

// BenchmarkPluginStoreLogsGroups measures StoreLogs from many groups at
// once through each plugin binary, as a node makes them; compare with
// BenchmarkStoreLogsGroups in ./plugins/badger and ./plugins/file.
func BenchmarkPluginStoreLogsGroups(b *testing.B) {
	for _, p := range []string{"badger", "file"} {
		b.Run("plugin="+p, func(b *testing.B) {
			stores := hostPerNode(b, p, "file", 0)
			stores(b, "n0", "start") // starts the node's plugins, before the goroutines share it
			storebench.StoreLogsGroups(b, func(group string) (raft.LogStore, error) {
				return stores(b, "n0", group).Log, nil
			})
		})
	}
}

// BenchmarkPluginGetLog measures GetLog through each plugin binary.
func BenchmarkPluginGetLog(b *testing.B) {
	for _, p := range []string{"badger", "file"} {
		b.Run("plugin="+p, func(b *testing.B) {
			storebench.GetLog(b, hostPerNode(b, p, "file", 0)(b, "n0", "bench").Log)
		})
	}
}
