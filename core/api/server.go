// Package api owns the client API of a node: the gRPC service of
// client/pb on the client port. Any node accepts any call; a call that
// another node must serve (the stream leader for publishes and reads,
// the meta leader for stream administration) is forwarded there, at
// most twice.
package api

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/stratadb/strata/client/pb"
	"github.com/stratadb/strata/core/auth"
	"github.com/stratadb/strata/core/meta"
	"github.com/stratadb/strata/core/raftgroup"
	"github.com/stratadb/strata/core/replica"
)

// DefaultLeaderWait is how long a call waits for a group to have a leader.
const DefaultLeaderWait = 5 * time.Second

// streamWindow is the gRPC flow-control window of one call.
const streamWindow = 8 << 20

// Config is what the API needs from its node.
type Config struct {
	// Addr is the client listen address.
	Addr string
	// Self and Cluster are this server's and its cluster's names.
	Self, Cluster string
	Meta          *raftgroup.Group
	MetaFSM       *meta.FSM
	Replicas      *replica.Set
	LeaderWait    time.Duration
	// Limits bound each publish; zero fields take DefaultLimits.
	Limits Limits
	// TLS, if set, serves the client port over TLS; PeerTLS is then the
	// config of this node's calls to other nodes' client ports (forwards
	// and catch-ups), presenting the node's certificate.
	TLS, PeerTLS *tls.Config
	// Users, if set, authenticate and authorize every call (nil: every
	// call is allowed; SetUsers replaces them); NodeToken is the cluster token servers send with
	// their own calls to each other.
	Users     *auth.Users
	NodeToken string
	// LameDuck, if set, starts the node's lame duck mode (ServerLameDuck).
	LameDuck func()
	// StorageFault, if set, says why this node's storage cannot serve
	// (nil when it can); LocalStats reports it.
	StorageFault func() error
	Logger       hclog.Logger
}

// Server serves the client API.
type Server struct {
	pb.UnimplementedStrataServer
	cfg     Config
	logger  hclog.Logger
	grpc    *grpc.Server
	lis     net.Listener
	pool    *pool
	conns   *conns
	started time.Time

	requests atomic.Uint64
	errors   atomic.Uint64
	users    atomic.Pointer[auth.Users] // nil: no accounts
}

// Start listens on cfg.Addr and serves.
func Start(cfg Config) (*Server, error) {
	if cfg.Meta == nil || cfg.MetaFSM == nil || cfg.Replicas == nil {
		return nil, errors.New("api: Meta, MetaFSM and Replicas are required")
	}
	if cfg.LeaderWait == 0 {
		cfg.LeaderWait = DefaultLeaderWait
	}
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	cfg.Limits = cfg.Limits.orDefault()
	lis, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("api: listen %s: %w", cfg.Addr, err)
	}
	s := &Server{cfg: cfg, logger: cfg.Logger, pool: newPool(cfg.PeerTLS, cfg.NodeToken), started: time.Now(),
		conns: &conns{limits: cfg.Limits, logger: cfg.Logger}}
	s.lis = s.conns.listener(lis)
	s.users.Store(cfg.Users)
	s.conns.fromPeer = s.fromPeer
	opts := []grpc.ServerOption{grpc.StatsHandler(s.conns),
		// Windows big enough for a backup's or a restore's stream of
		// 1-3 MiB messages on one connection (gRPC's 64 KiB default
		// throttles them to a few round trips per message).
		grpc.InitialWindowSize(streamWindow), grpc.InitialConnWindowSize(2 * streamWindow),
		grpc.MaxRecvMsgSize(cfg.Limits.recvLimit()),
		grpc.ChainUnaryInterceptor(s.countUnary),
		grpc.ChainStreamInterceptor(s.countStream),
	}
	if cfg.TLS != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(cfg.TLS)))
	}
	s.grpc = grpc.NewServer(opts...)
	pb.RegisterStrataServer(s.grpc, s)
	go func() {
		if err := s.grpc.Serve(s.lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			s.logger.Error("client API stopped", "error", err)
		}
	}()
	return s, nil
}

// Addr returns the address the API listens on.
func (s *Server) Addr() net.Addr { return s.lis.Addr() }

// Stop ends every call at once and closes connections to other nodes.
func (s *Server) Stop() {
	s.grpc.Stop()
	s.pool.close()
}

// GracefulStop lets calls in flight finish, then stops.
func (s *Server) GracefulStop(timeout time.Duration) {
	done := make(chan struct{})
	go func() { s.grpc.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-time.After(timeout):
		s.grpc.Stop()
	}
	s.pool.close()
}

// Requests and Errors count the API calls this server answered.
func (s *Server) Requests() uint64 { return s.requests.Load() }

// Errors counts the API calls that ended with an error.
func (s *Server) Errors() uint64 { return s.errors.Load() }

// Connections counts the client connections the server serves.
func (s *Server) Connections() int64 { return s.conns.open.Load() }

// LimitRefusals counts the connections and calls refused for the
// connection and fetch limits.
func (s *Server) LimitRefusals() uint64 { return s.conns.refused.Load() }
