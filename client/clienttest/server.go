// Package clienttest is an in-process fake Strata server for tests of
// code that uses package client or the strata commands: it serves the
// real gRPC API (client/pb) on 127.0.0.1 from memory, with hooks to
// inject errors, hold acks and break publish streams.
package clienttest

import (
	"context"
	"net"
	"path"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/stratadb/strata/client/pb"
)

var _ pb.StrataServer = (*Server)(nil)

// Server is a fake Strata cluster: one process answering for the servers
// it lists. Streams are placed on the first Replicas servers, the first of
// them leading; a stream's consumers on the first of the stream's peers.
type Server struct {
	pb.UnimplementedStrataServer

	// Addr is the address the server listens on.
	Addr string

	grpc *grpc.Server

	mu       sync.Mutex
	cluster  string
	servers  []*pb.ServerInfo
	meta     *pb.ClusterInfo
	streams  map[string]*stream
	order    []string // stream names in creation order
	clusters map[string]*pb.ClusterInfo
	calls    map[string]int
	inject   map[string][]error
	received int           // PublishStream requests received
	resume   chan struct{} // non-nil while acks are held
	brk      chan struct{} // closed by BreakStreams
	brkErr   error
	metadata []map[string][]string

	ephemerals int                // ephemeral consumers named so far
	stalls     int                // ConsumerFetch requests still to stall
	fetches    []*pb.FetchRequest // ConsumerFetch requests received
	acks       []*pb.Ack          // acks ConsumerAck received
}

// Start serves a fake three-server cluster "C1" (n1, n2, n3, meta leader
// n1) on a free 127.0.0.1 port until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := newServer(ln.Addr().String())
	s.grpc = grpc.NewServer(
		grpc.UnaryInterceptor(s.unary), grpc.StreamInterceptor(s.streaming))
	pb.RegisterStrataServer(s.grpc, s)
	go s.grpc.Serve(ln)
	t.Cleanup(s.Stop)
	return s
}

// newServer returns a fake that is not serving yet, answering as if at addr.
func newServer(addr string) *Server {
	s := &Server{
		Addr: addr, cluster: "C1", streams: make(map[string]*stream),
		clusters: make(map[string]*pb.ClusterInfo), calls: make(map[string]int),
		inject: make(map[string][]error), brk: make(chan struct{}),
	}
	for i, n := range []string{"n1", "n2", "n3"} {
		s.servers = append(s.servers, &pb.ServerInfo{
			Name: n, ClusterAddr: "127.0.0.1:622" + string(rune('2'+i)), ClientAddr: addr,
			HttpAddr: "127.0.0.1:822" + string(rune('2'+i)), Tags: []string{"az:" + string(rune('a'+i))},
		})
	}
	s.meta = &pb.ClusterInfo{Name: "C1", Leader: "n1", Replicas: []*pb.PeerInfo{
		{Name: "n2", Current: true, ActiveNs: int64(250 * time.Millisecond)},
		{Name: "n3", Current: true, ActiveNs: int64(250 * time.Millisecond)},
	}}
	return s
}

// Stop stops serving at once.
func (s *Server) Stop() {
	if s.grpc != nil {
		s.grpc.Stop()
	}
}

// unary counts calls, records metadata and returns injected errors.
func (s *Server) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if err := s.enter(ctx, info.FullMethod); err != nil {
		return nil, err
	}
	return h(ctx, req)
}

func (s *Server) streaming(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	if err := s.enter(ss.Context(), info.FullMethod); err != nil {
		return err
	}
	return h(srv, ss)
}

func (s *Server) enter(ctx context.Context, fullMethod string) error {
	method := path.Base(fullMethod)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[method]++
	if md, ok := metadataFrom(ctx); ok {
		s.metadata = append(s.metadata, md)
	}
	if errs := s.inject[method]; len(errs) > 0 {
		s.inject[method] = errs[1:]
		return errs[0]
	}
	return nil
}

// FailNext makes the next calls of method (e.g. "Publish", "StreamInfo")
// return errs, one per call, before calls succeed again.
func (s *Server) FailNext(method string, errs ...error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inject[method] = append(s.inject[method], errs...)
}

// Calls returns how many calls of method arrived (failed ones included).
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// TotalCalls returns how many calls of any method arrived.
func (s *Server) TotalCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		n += c
	}
	return n
}

// LastMetadata returns the metadata of the last call ("user", "password").
func (s *Server) LastMetadata() map[string][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.metadata) == 0 {
		return nil
	}
	return s.metadata[len(s.metadata)-1]
}

// SetMeta replaces the meta group's state that ServerReport returns.
func (s *Server) SetMeta(ci *pb.ClusterInfo) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.meta = ci
}

// SetServers replaces the servers the fake answers for.
func (s *Server) SetServers(servers ...*pb.ServerInfo) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.servers = servers
}

// SetCluster replaces the Raft group state reported for a stream.
func (s *Server) SetCluster(stream string, ci *pb.ClusterInfo) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clusters[stream] = ci
}
