// Command newerplugin is a storage plugin that speaks only the protocol
// version after this SDK's, which the host does not know: it must refuse it.
package main

import (
	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/pluginsdk"
)

type inmem struct{ s *raft.InmemStore }

func (p *inmem) Configure(pluginsdk.ConfigureRequest) error   { p.s = raft.NewInmemStore(); return nil }
func (p *inmem) Close() error                                 { return nil }
func (p *inmem) LogStore(string) (raft.LogStore, error)       { return p.s, nil }
func (p *inmem) StableStore(string) (raft.StableStore, error) { return p.s, nil }

func main() {
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: pluginsdk.Handshake,
		VersionedPlugins: map[int]plugin.PluginSet{
			pluginsdk.ProtocolVersion + 1: {pluginsdk.PluginName: &pluginsdk.GRPCPlugin{Impl: &inmem{}}},
		},
		GRPCServer: plugin.DefaultGRPCServer,
	})
}
