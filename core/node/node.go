// Package node owns a node's lifecycle: it starts, in order, the storage
// plugins, the message database, the shared cluster port, the meta Raft
// group, the stream replicas, the client API, membership and the
// monitoring endpoints, and shuts them down in the reverse order.
package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/core/api"
	"github.com/stratadb/strata/core/auth"
	"github.com/stratadb/strata/core/config"
	"github.com/stratadb/strata/core/membership"
	"github.com/stratadb/strata/core/meta"
	"github.com/stratadb/strata/core/monitor"
	"github.com/stratadb/strata/core/raftgroup"
	"github.com/stratadb/strata/core/replica"
	"github.com/stratadb/strata/core/storage"
	"github.com/stratadb/strata/core/stream"
)

// httpShutdownTimeout bounds waiting for monitoring requests in flight.
const httpShutdownTimeout = 5 * time.Second

// ErrStarted is returned by Start on a node that was already started.
var ErrStarted = errors.New("node: already started")

// Option adjusts a node beyond its config file.
type Option func(*Node)

// WithRaftConfig sets the meta group's base Raft config (timeouts,
// snapshot thresholds). The default is raftgroup.DefaultConfig's:
// raft.DefaultConfig with BatchApplyCh.
func WithRaftConfig(rc *raft.Config) Option {
	return func(n *Node) { n.raftConfig = rc }
}

// WithMembershipInterval sets how often members and routes are contacted.
func WithMembershipInterval(d time.Duration) Option {
	return func(n *Node) { n.memberInterval = d }
}

// Node is one strata server.
type Node struct {
	cfg            *config.Config
	root           hclog.Logger // parent of every component's logger
	logger         hclog.Logger // the node's own lines
	raftConfig     *raft.Config
	memberInterval time.Duration

	host    *storage.Host
	tls     portTLS
	users   atomic.Pointer[auth.Users] // nil: no accounts, every call allowed
	mux     *raftgroup.Mux
	members *membership.Membership
	meta    *raftgroup.Group
	fsm     *meta.FSM
	http    *monitor.Server

	advisories *raftgroup.Advisories
	messages   *stream.DB
	replicas   *replica.Set
	api        *api.Server

	// expiring are the ephemeral consumers being deleted ("stream/name").
	expiringMu sync.Mutex
	expiring   map[string]bool

	// bootstrapped and logged belong to Start and then to run.
	bootstrapped bool
	logged       map[string]bool

	started  bool
	lameDuck chan struct{} // closed when lame duck mode is requested
	lameOnce sync.Once
	stopCh   chan struct{}
	wg       sync.WaitGroup
	shutdown sync.Once
}

// New checks cfg, which Finish has completed, and returns a node ready
// to Start.
func New(cfg *config.Config, logger hclog.Logger, opts ...Option) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	n := &Node{
		cfg: cfg, root: logger, logger: logger.Named("node"),
		memberInterval: membership.DefaultInterval, stopCh: make(chan struct{}), logged: map[string]bool{},
		expiring: map[string]bool{},
		lameDuck: make(chan struct{}),
	}
	n.advisories = raftgroup.NewAdvisories(cfg.ServerName, logger.Named("advisory"))
	rc, err := cfg.RaftConfig(raftgroup.DefaultConfig().Raft)
	if err != nil {
		return nil, err
	}
	n.raftConfig = rc
	for _, o := range opts {
		o(n)
	}
	return n, nil
}

// Start brings the node up. On error, whatever had started is shut down.
func (n *Node) Start() error {
	if n.started {
		return ErrStarted
	}
	n.started = true
	steps := []struct {
		name string
		run  func() error
	}{
		{"data_dir", func() error { return os.MkdirAll(n.cfg.DataDir, 0o755) }},
		{"tls", n.loadTLS},
		{"accounts", n.loadUsers},
		{"storage", n.openStorage},
		{"messages", n.openMessages},
		{"cluster.listen", n.listen},
		{"meta group", n.startMeta},
		{"replicas", n.startReplicas},
		{"listen", n.startAPI},
		{"membership", n.startMembership},
		{"http", n.startHTTP},
	}
	for _, s := range steps {
		if err := s.run(); err != nil {
			_ = n.Shutdown()
			return fmt.Errorf("node: %s: %w", s.name, err)
		}
	}
	n.wg.Add(1)
	go n.run()
	n.logger.Info("node started", "name", n.cfg.ServerName, "cluster", n.cfg.Cluster.Name,
		"listen", n.api.Addr(), "cluster_listen", n.mux.Addr(), "http", n.http.Addr())
	return nil
}

func (n *Node) openStorage() error {
	host, err := storage.Open(n.cfg.StorageConfig(n.root.Named("storage")))
	n.host = host
	return err
}

func (n *Node) listen() error {
	cfg := raftgroup.DefaultMuxConfig()
	cfg.Logger = n.root.Named("mux")
	if a := n.cfg.Cluster.Advertise; a != "" {
		addr, err := net.ResolveTCPAddr("tcp", a)
		if err != nil {
			return fmt.Errorf("cluster.advertise %q: %w", a, err)
		}
		cfg.Advertise = addr
	}
	cfg.ServerTLS, cfg.ClientTLS = serverTLS(n.tls.cluster), clientTLS(n.tls.cluster)
	mux, err := raftgroup.Listen(n.cfg.Cluster.Listen, cfg)
	n.mux = mux
	return err
}

func (n *Node) startMembership() error {
	layer, err := n.mux.StreamLayer(membership.StreamID)
	if err != nil {
		return err
	}
	cfg := membership.DefaultConfig()
	cfg.Self = membership.Member{
		Name: n.cfg.ServerName, Cluster: n.mux.Addr().String(), Client: n.cfg.Listen, HTTP: n.cfg.HTTP,
		Tags: n.cfg.Tags, ClusterName: n.cfg.Cluster.Name, Bootstrapped: n.metaHasState(),
	}
	cfg.Routes, cfg.Layer, cfg.Interval = n.cfg.Cluster.Routes, layer, n.memberInterval
	cfg.Logger = n.root.Named("membership")
	n.members, err = membership.New(cfg)
	if err != nil {
		_ = layer.Close()
		return err
	}
	n.members.Start()
	return nil
}

// storageFault says why the node's storage cannot serve: a plugin down,
// a disk almost full, a corrupt Raft log entry read since the node
// started, or a stream replica stopped because its message store is
// corrupt.
func (n *Node) storageFault() error {
	var msgs []string
	for _, err := range []error{n.host.Down(), n.host.DiskFull(), n.host.Corrupt(), n.replicas.Corrupt()} {
		if err != nil {
			msgs = append(msgs, err.Error())
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	return errors.New(strings.Join(msgs, "; ")) // one line, for /healthz and server report
}

func (n *Node) startHTTP() error {
	s, err := monitor.Start(monitor.Config{
		Addr: n.cfg.HTTP, ServerName: n.cfg.ServerName, ClusterName: n.cfg.Cluster.Name,
		Members: n.members.Members, Meta: n.meta.Raft(), Logger: n.root.Named("monitor"),
		Storage: n.storageFault, Collectors: n.metricCollectors(),
		Streams: n.streamReplicas, Consumers: n.consumerReplicas, API: n.apiCounters, Registered: n.registered,
		TLS: serverTLS(n.tls.http), Authorize: n.httpAuthorize(),
	})
	n.http = s
	return err
}

// Shutdown stops the node: monitoring, then it hands its leaderships to
// other servers, lets client calls in flight finish, and stops the
// groups, membership, the cluster port and last the storage plugins,
// which the Raft groups need until they have stopped.
func (n *Node) Shutdown() error {
	var err error
	n.shutdown.Do(func() {
		n.logger.Info("shutting down")
		if n.http != nil {
			ctx, cancel := context.WithTimeout(context.Background(), httpShutdownTimeout)
			err = errors.Join(err, n.http.Shutdown(ctx))
			cancel()
		}
		n.handOff()
		if n.api != nil {
			n.api.GracefulStop(apiStopTimeout)
		}
		close(n.stopCh)
		n.wg.Wait()
		if n.replicas != nil {
			err = errors.Join(err, n.replicas.Close())
		}
		if n.meta != nil {
			err = errors.Join(err, n.meta.Shutdown())
		}
		if n.members != nil {
			n.members.Stop()
		}
		if n.mux != nil {
			err = errors.Join(err, n.mux.Close())
		}
		if n.messages != nil {
			err = errors.Join(err, n.messages.Close())
		}
		if n.host != nil {
			n.host.Close()
		}
		n.logger.Info("shut down")
	})
	return err
}

// Members returns the cluster's members as this node knows them.
func (n *Node) Members() []membership.Member { return n.members.Members() }

// Meta returns the node's meta Raft group.
func (n *Node) Meta() *raftgroup.Group { return n.meta }

// MetaServers returns the servers the meta state records.
func (n *Node) MetaServers() []meta.Server { return n.fsm.Servers() }

// registered reports whether the meta state records this server.
func (n *Node) registered() bool {
	_, ok := n.fsm.Server(n.cfg.ServerName)
	return ok
}

// Replicas returns the stream replicas this node holds.
func (n *Node) Replicas() *replica.Set { return n.replicas }

// API returns the node's client API server.
func (n *Node) API() *api.Server { return n.api }

// LameDuck requests lame duck mode: whoever runs the node (strata serve)
// sees LameDuckRequested and shuts it down, which hands off its
// leaderships and lets client calls in flight finish.
func (n *Node) LameDuck() { n.lameOnce.Do(func() { close(n.lameDuck) }) }

// LameDuckRequested is closed once lame duck mode was requested.
func (n *Node) LameDuckRequested() <-chan struct{} { return n.lameDuck }
