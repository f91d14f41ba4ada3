package clienttest

import (
	"context"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/stratadb/strata/client/pb"
)

// stream is one stream held in memory.
type stream struct {
	cfg     *pb.StreamConfig
	created int64
	peers   []string
	msgs    []*pb.Msg // in sequence order
	ids     map[string]uint64
	lastSeq uint64
	lastT   int64
	deleted uint64
	// restoring is set by StreamRestoreBegin.
	restoring bool
	consumers map[string]*consumer
	corder    []string // consumer names in creation order
}

func metadataFrom(ctx context.Context) (map[string][]string, bool) {
	md, ok := metadata.FromIncomingContext(ctx)
	return md, ok
}

// check validates a config the way the server does.
func (s *Server) check(cfg *pb.StreamConfig) error {
	switch {
	case cfg.GetName() == "" || strings.ContainsAny(cfg.GetName(), ". *>"):
		return status.Errorf(codes.InvalidArgument, "invalid stream name %q", cfg.GetName())
	case cfg.Replicas < 0 || cfg.Replicas > 5:
		return status.Errorf(codes.InvalidArgument, "replicas must be 1, 3 or 5, not %d", cfg.Replicas)
	case int(cfg.Replicas) > len(s.servers):
		return status.Errorf(codes.InvalidArgument,
			"insufficient resources: %d replicas need %d servers, the cluster has %d",
			cfg.Replicas, cfg.Replicas, len(s.servers))
	case cfg.Storage != "file" && cfg.Storage != "memory":
		return status.Errorf(codes.InvalidArgument, "storage must be file or memory, not %q", cfg.Storage)
	case cfg.Discard != "old" && cfg.Discard != "new":
		return status.Errorf(codes.InvalidArgument, "discard must be old or new, not %q", cfg.Discard)
	case cfg.Retention != "limits" && cfg.Retention != "workqueue" && cfg.Retention != "interest":
		return status.Errorf(codes.InvalidArgument, "invalid stream config: retention %q: want limits, workqueue or interest", cfg.Retention)
	}
	return nil
}

func withDefaults(in *pb.StreamConfig) *pb.StreamConfig {
	cfg := proto.Clone(in).(*pb.StreamConfig)
	if len(cfg.Subjects) == 0 {
		cfg.Subjects = []string{cfg.Name}
	}
	if cfg.Replicas == 0 {
		cfg.Replicas = 1
	}
	if cfg.Storage == "" {
		cfg.Storage = "file"
	}
	if cfg.Discard == "" {
		cfg.Discard = "old"
	}
	if cfg.Retention == "" {
		cfg.Retention = "limits"
	}
	if cfg.DupeWindowNs == 0 {
		cfg.DupeWindowNs = int64(2 * time.Minute)
	}
	return cfg
}

// StreamCreate implements pb.StrataServer.
func (s *Server) StreamCreate(_ context.Context, in *pb.StreamConfig) (*pb.Stream, error) {
	cfg := withDefaults(in)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(cfg); err != nil {
		return nil, err
	}
	if _, ok := s.streams[cfg.Name]; ok {
		return nil, status.Errorf(codes.AlreadyExists, "stream name already in use: %s", cfg.Name)
	}
	st := &stream{cfg: cfg, created: time.Now().UnixNano(), ids: make(map[string]uint64),
		consumers: make(map[string]*consumer)}
	for _, srv := range s.servers[:cfg.Replicas] {
		st.peers = append(st.peers, srv.Name)
	}
	s.streams[cfg.Name] = st
	s.order = append(s.order, cfg.Name)
	return s.info(cfg.Name), nil
}

// StreamRestoreBegin implements pb.StrataServer: it creates the stream
// marked as being restored (the fake stores no restored messages).
func (s *Server) StreamRestoreBegin(ctx context.Context, in *pb.StreamConfig) (*pb.Stream, error) {
	info, err := s.StreamCreate(ctx, in)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.streams[in.GetName()].restoring = true
	info.Restoring = true
	return info, nil
}

// StreamUpdate implements pb.StrataServer.
func (s *Server) StreamUpdate(_ context.Context, in *pb.StreamConfig) (*pb.Stream, error) {
	cfg := withDefaults(in)
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.stream(cfg.Name)
	if err != nil {
		return nil, err
	}
	if err := s.check(cfg); err != nil {
		return nil, err
	}
	if cfg.Retention != st.cfg.Retention {
		return nil, status.Errorf(codes.InvalidArgument, "invalid stream config: retention cannot change (%s to %s)", st.cfg.Retention, cfg.Retention)
	}
	st.cfg = cfg
	st.peers = st.peers[:0]
	for _, srv := range s.servers[:cfg.Replicas] {
		st.peers = append(st.peers, srv.Name)
	}
	return s.info(cfg.Name), nil
}

// StreamInfo implements pb.StrataServer.
func (s *Server) StreamInfo(_ context.Context, in *pb.StreamRequest) (*pb.Stream, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.stream(in.GetName()); err != nil {
		return nil, err
	}
	return s.info(in.GetName()), nil
}

// StreamList implements pb.StrataServer.
func (s *Server) StreamList(context.Context, *pb.StreamListRequest) (*pb.StreamListResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	resp := &pb.StreamListResponse{}
	for _, name := range s.order {
		resp.Streams = append(resp.Streams, s.info(name))
	}
	return resp, nil
}

// StreamDelete implements pb.StrataServer.
func (s *Server) StreamDelete(_ context.Context, in *pb.StreamRequest) (*pb.Empty, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.stream(in.GetName()); err != nil {
		return nil, err
	}
	delete(s.streams, in.GetName())
	for i, n := range s.order {
		if n == in.GetName() {
			s.order = append(s.order[:i], s.order[i+1:]...)
			break
		}
	}
	return &pb.Empty{}, nil
}

// StreamPurge implements pb.StrataServer.
func (s *Server) StreamPurge(_ context.Context, in *pb.StreamRequest) (*pb.PurgeResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.stream(in.GetName())
	if err != nil {
		return nil, err
	}
	n := uint64(len(st.msgs))
	st.msgs = nil
	st.deleted += n
	return &pb.PurgeResponse{Purged: n}, nil
}

// stream returns the named stream or a NotFound status; s.mu is held.
func (s *Server) stream(name string) (*stream, error) {
	st, ok := s.streams[name]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "stream not found: %s", name)
	}
	return st, nil
}

// info describes a stream; s.mu is held.
func (s *Server) info(name string) *pb.Stream {
	st := s.streams[name]
	state := &pb.StreamState{LastSeq: st.lastSeq, LastTime: st.lastT, Deleted: st.deleted, FirstSeq: st.lastSeq + 1}
	for _, m := range st.msgs {
		state.Messages++
		state.Bytes += msgSize(m)
	}
	if len(st.msgs) > 0 {
		state.FirstSeq, state.FirstTime = st.msgs[0].Seq, st.msgs[0].Time
	}
	ci := s.clusters[name]
	if ci == nil {
		ci = &pb.ClusterInfo{Name: s.cluster, Leader: st.peers[0], RaftTerm: 1, RaftIndex: st.lastSeq + 1}
		for _, p := range st.peers[1:] {
			ci.Replicas = append(ci.Replicas, &pb.PeerInfo{Name: p, Current: true, ActiveNs: int64(70 * time.Millisecond)})
		}
	}
	return &pb.Stream{
		Config: proto.Clone(st.cfg).(*pb.StreamConfig), State: state, Cluster: ci,
		Created: st.created, Peers: append([]string(nil), st.peers...), Restoring: st.restoring,
		Consumers: uint64(len(st.consumers)),
	}
}

func msgSize(m *pb.Msg) uint64 {
	n := len(m.Subject) + len(m.Data) + len(m.MsgId) + 16
	for _, h := range m.Headers {
		n += len(h.Key) + len(h.Value)
	}
	return uint64(n)
}

// String describes the fake, for test failure messages.
func (s *Server) String() string { return fmt.Sprintf("fake strata at %s", s.Addr) }
