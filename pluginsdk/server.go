package pluginsdk

import (
	"context"
	"sync"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	storagepb "github.com/stratadb/strata/pluginsdk/proto"
)

// Server serves a Plugin's stores over the storage protocol. It opens a
// group's stores the first time the group is named and keeps them open.
type Server struct {
	storagepb.UnimplementedStorageServer

	impl   Plugin
	logger hclog.Logger

	mu         sync.Mutex
	configured bool
	logs       map[string]raft.LogStore
	stables    map[string]raft.StableStore
	snapshots  map[string]raft.SnapshotStore
}

var _ storagepb.StorageServer = (*Server)(nil)

// NewServer returns a Server for impl. A nil logger discards.
func NewServer(impl Plugin, logger hclog.Logger) *Server {
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	return &Server{
		impl:      impl,
		logger:    logger,
		logs:      map[string]raft.LogStore{},
		stables:   map[string]raft.StableStore{},
		snapshots: map[string]raft.SnapshotStore{},
	}
}

// Configure configures the plugin once and reports which stores it serves.
func (s *Server) Configure(_ context.Context, req *storagepb.ConfigureRequest) (*storagepb.ConfigureResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.configured {
		return nil, status.Error(codes.FailedPrecondition, "plugin is already configured")
	}
	err := s.impl.Configure(ConfigureRequest{
		DataDir: req.GetDataDir(),
		Config:  req.GetConfigJson(),
		Logger:  s.logger,
	})
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	s.configured = true
	_, log := s.impl.(LogStores)
	_, stable := s.impl.(StableStores)
	_, snap := s.impl.(SnapshotStores)
	return &storagepb.ConfigureResponse{LogStore: log, StableStore: stable, SnapshotStore: snap}, nil
}

// openGroup returns the store of kind T for group, opening it on first use.
func openGroup[T any](s *Server, cache map[string]T, group string, open func(string) (T, error)) (T, error) {
	var zero T
	if group == "" {
		return zero, status.Error(codes.InvalidArgument, "empty group id")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.configured {
		return zero, status.Error(codes.FailedPrecondition, "plugin is not configured")
	}
	if st, ok := cache[group]; ok {
		return st, nil
	}
	st, err := open(group)
	if err != nil {
		return zero, status.Errorf(codes.Internal, "open group %q: %v", group, err)
	}
	cache[group] = st
	s.logger.Debug("opened store", "group", group)
	return st, nil
}

func (s *Server) logStore(group string) (raft.LogStore, error) {
	p, ok := s.impl.(LogStores)
	if !ok {
		return nil, status.Error(codes.Unimplemented, ErrNoSuchCapability.Error()+": log")
	}
	return openGroup(s, s.logs, group, p.LogStore)
}

func (s *Server) stableStore(group string) (raft.StableStore, error) {
	p, ok := s.impl.(StableStores)
	if !ok {
		return nil, status.Error(codes.Unimplemented, ErrNoSuchCapability.Error()+": stable")
	}
	return openGroup(s, s.stables, group, p.StableStore)
}

func (s *Server) snapshotStore(group string) (raft.SnapshotStore, error) {
	p, ok := s.impl.(SnapshotStores)
	if !ok {
		return nil, status.Error(codes.Unimplemented, ErrNoSuchCapability.Error()+": snapshot")
	}
	return openGroup(s, s.snapshots, group, p.SnapshotStore)
}

// storeError turns a store's error into a status the host can show.
func storeError(op string, err error) error {
	return status.Errorf(codes.Internal, "%s: %v", op, err)
}
