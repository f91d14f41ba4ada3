package pluginsdk

import (
	"context"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	storagepb "github.com/stratadb/strata/pluginsdk/proto"
)

// GRPCPlugin binds a storage Plugin to go-plugin's gRPC transport. On the
// plugin side Impl is served; on the host side GRPCClient returns a
// *Client.
type GRPCPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl   Plugin
	Logger hclog.Logger
}

var _ plugin.GRPCPlugin = (*GRPCPlugin)(nil)

// GRPCServer registers the storage service for Impl.
func (p *GRPCPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	storagepb.RegisterStorageServer(s, NewServer(p.Impl, p.Logger))
	return nil
}

// GRPCClient returns a *Client on the connection.
func (p *GRPCPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (interface{}, error) {
	return NewClient(c), nil
}
