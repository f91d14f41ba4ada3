package node

import (
	"context"
	"path/filepath"
	"time"

	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/core/api"
	"github.com/stratadb/strata/core/config"
	"github.com/stratadb/strata/core/monitor"
	"github.com/stratadb/strata/core/raftgroup"
	"github.com/stratadb/strata/core/replica"
	"github.com/stratadb/strata/core/stream"
)

// apiStopTimeout bounds waiting for client calls in flight at shutdown.
const apiStopTimeout = 5 * time.Second

// openMessages opens the node's message database, where file streams'
// replicas keep their messages.
func (n *Node) openMessages() error {
	db, err := stream.OpenDB(filepath.Join(n.cfg.DataDir, "messages"), n.root.Named("messages"))
	n.messages = db
	return err
}

// startReplicas prepares the set of stream replicas; the run loop fills
// it from the meta state.
func (n *Node) startReplicas() error {
	n.replicas = replica.NewSet(replica.Config{
		Self: n.cfg.ServerName, Mux: n.mux, DB: n.messages, Raft: n.raftConfig,
		Stores:  n.groupStores,
		Address: n.serverAddress,
		Catchup: func(ctx context.Context, server, name string, first, last uint64, fn func(stream.Message) error) error {
			return n.api.CatchupFrom(ctx, server, name, first, last, fn)
		},
		Advisories: n.advisories,
		DropGroup:  n.host.DropGroup,
		Logger:     n.root.Named("replica"),
	})
	return nil
}

// startAPI serves the client API on the client listen address.
func (n *Node) startAPI() error {
	s, err := api.Start(api.Config{
		Users: n.users.Load(), NodeToken: n.cfg.Cluster.Token,
		Addr: n.cfg.Listen, Self: n.cfg.ServerName, Cluster: n.cfg.Cluster.Name,
		Meta: n.meta, MetaFSM: n.fsm, Replicas: n.replicas, Logger: n.root.Named("api"), LameDuck: n.LameDuck,
		StorageFault: n.storageFault,
		Limits:       apiLimits(n.cfg), TLS: serverTLS(n.tls.client), PeerTLS: clientTLS(n.tls.client),
	})
	n.api = s
	return err
}

// apiLimits returns the config's limits block as the client API takes
// them (zero: its defaults).
func apiLimits(c *config.Config) api.Limits {
	if c.Limits == nil {
		return api.Limits{}
	}
	return api.Limits{MaxPayload: c.Limits.MaxPayload, MaxSubject: c.Limits.MaxSubjectLength,
		MaxHeaders: c.Limits.MaxHeaderBytes, MaxConns: c.Limits.MaxConnections,
		MaxFetches: c.Limits.MaxFetchesPerConnection}
}

// serverAddress returns a server's cluster address from the meta state.
func (n *Node) serverAddress(name string) (raft.ServerAddress, bool) {
	s, ok := n.fsm.Server(name)
	if !ok || s.Cluster == "" {
		return "", false
	}
	return raft.ServerAddress(s.Cluster), true
}

// reconcileStreams brings the local replicas in line with the meta state.
func (n *Node) reconcileStreams() {
	if n.meta.Raft().LastIndex() == 0 {
		return
	}
	n.replicas.Reconcile(n.fsm.Streams())
	n.replicas.ReconcileConsumers(n.fsm.AllConsumers())
	n.expireEphemeral()
}

// groupStores returns the plugin stores of a Raft group.
func (n *Node) groupStores(group string) raftgroup.Stores {
	st := n.host.Stores(group)
	return raftgroup.Stores{Log: st.Log, Stable: st.Stable, Snapshots: st.Snapshots}
}

// streamReplicas describes the local replicas for monitoring.
func (n *Node) streamReplicas() []monitor.StreamReplica {
	var out []monitor.StreamReplica
	for _, r := range n.replicas.All() {
		st, state := r.Stream(), r.FSM().State()
		out = append(out, monitor.StreamReplica{
			Name: st.Config.Name, Group: st.Group, Storage: string(st.Config.Storage), Peers: st.Peers,
			Messages: state.Msgs, Bytes: state.Bytes, FirstSeq: state.FirstSeq, LastSeq: state.LastSeq,
			Raft: r.Group().Raft(), Reader: r.FSM(),
		})
	}
	return out
}

func (n *Node) apiCounters() monitor.API {
	return monitor.API{Requests: n.api.Requests(), Errors: n.api.Errors(),
		Connections: n.api.Connections(), LimitRefusals: n.api.LimitRefusals()}
}

// consumerReplicas describes the local consumer replicas for monitoring.
func (n *Node) consumerReplicas() []monitor.ConsumerReplica {
	var out []monitor.ConsumerReplica
	for _, c := range n.replicas.Consumers() {
		m, info := c.Meta(), c.Info()
		out = append(out, monitor.ConsumerReplica{
			Stream: m.Stream, Name: m.Config.Name, Group: m.Group, Peers: m.Peers,
			Delivered: info.Delivered.Stream, AckFloor: info.AckFloor.Stream, AckPending: info.AckPending,
			Redelivered: info.Redelivered, Unprocessed: info.Unprocessed, Waiting: info.Waiting,
			Raft: c.Group().Raft(),
		})
	}
	return out
}
