package pluginsdk_test

import (
	"testing"

	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/pluginsdk"
	"github.com/stratadb/strata/pluginsdk/storebench"
	"github.com/stratadb/strata/pluginsdk/storetest"
)

// inmemPlugin serves raft.InmemStore in process, for ServeGRPC.
type inmemPlugin struct{ s *raft.InmemStore }

func (p *inmemPlugin) Configure(pluginsdk.ConfigureRequest) error {
	p.s = raft.NewInmemStore()
	return nil
}
func (p *inmemPlugin) Close() error                           { return nil }
func (p *inmemPlugin) LogStore(string) (raft.LogStore, error) { return p.s, nil }

// protocolPaths returns raft.InmemStore in process, over a plain gRPC
// connection, and in a plugin subprocess over go-plugin (mTLS on a Unix
// socket): the difference is the protocol's own cost.
func protocolPaths(b *testing.B) map[string]func(b *testing.B) raft.LogStore {
	return map[string]func(b *testing.B) raft.LogStore{
		"path=inprocess": func(*testing.B) raft.LogStore { return raft.NewInmemStore() },
		"path=grpc": func(b *testing.B) raft.LogStore {
			c := pluginsdk.NewClient(storetest.ServeGRPC(b, &inmemPlugin{}))
			if _, err := c.Configure(b.TempDir(), nil); err != nil {
				b.Fatal(err)
			}
			return c.LogStore("bench")
		},
		"path=subprocess": func(b *testing.B) raft.LogStore {
			bin := storetest.BuildPlugin(b, "github.com/stratadb/strata/pluginsdk/testdata/inmemplugin")
			return storetest.Launch(b, bin, b.TempDir(), nil).LogStore("bench")
		},
	}
}

// BenchmarkProtocolStoreLogs: StoreLogs of 64 × 128 B on a store with no
// storage cost, so what is measured is the protocol.
func BenchmarkProtocolStoreLogs(b *testing.B) {
	for name, open := range protocolPaths(b) {
		b.Run(name, func(b *testing.B) { storebench.StoreLogs(b, open(b)) })
	}
}

// BenchmarkProtocolStoreLargeLog: StoreLogs of one 3 MiB entry.
func BenchmarkProtocolStoreLargeLog(b *testing.B) {
	for name, open := range protocolPaths(b) {
		b.Run(name, func(b *testing.B) { storebench.StoreLargeLog(b, open(b)) })
	}
}

// BenchmarkProtocolGetLog: GetLog, sequential (served by the read-ahead)
// and random.
func BenchmarkProtocolGetLog(b *testing.B) {
	for name, open := range protocolPaths(b) {
		b.Run(name, func(b *testing.B) { storebench.GetLog(b, open(b)) })
	}
}

// BenchmarkProtocolLastIndex: the round trip of the smallest call.
func BenchmarkProtocolLastIndex(b *testing.B) {
	for name, open := range protocolPaths(b) {
		b.Run(name, func(b *testing.B) {
			s := open(b)
			for b.Loop() {
				if _, err := s.LastIndex(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
