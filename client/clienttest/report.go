package clienttest

import (
	"context"
	"slices"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/stratadb/strata/client/pb"
)

// ServerList implements pb.StrataServer.
func (s *Server) ServerList(context.Context, *pb.Empty) (*pb.ServerListResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	resp := &pb.ServerListResponse{Cluster: s.cluster}
	for _, srv := range s.servers {
		resp.Servers = append(resp.Servers, proto.Clone(srv).(*pb.ServerInfo))
	}
	return resp, nil
}

// ServerReport implements pb.StrataServer: each server's statistics count
// the stream and consumer replicas it holds; API requests count every call the fake served.
func (s *Server) ServerReport(context.Context, *pb.Empty) (*pb.ServerReportResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	resp := &pb.ServerReportResponse{Cluster: s.cluster, Meta: proto.Clone(s.meta).(*pb.ClusterInfo)}
	for _, srv := range s.servers {
		st := &pb.ServerStats{
			Name: srv.Name, Cluster: s.cluster, Version: "0.0.0-test",
			UptimeNs: int64(time.Minute),
		}
		for _, n := range s.calls {
			st.ApiRequests += uint64(n)
		}
		for _, name := range s.order {
			s.addStats(st, name)
		}
		for _, p := range s.meta.GetReplicas() {
			if p.Name == srv.Name && p.Offline {
				st.Offline = true
			}
		}
		resp.Servers = append(resp.Servers, st)
	}
	return resp, nil
}

// addStats counts stream name into st when st's server holds it.
func (s *Server) addStats(st *pb.ServerStats, name string) {
	str := s.streams[name]
	if !slices.Contains(str.peers, st.Name) {
		return
	}
	info := s.info(name)
	st.Streams++
	st.Messages += info.State.Messages
	st.Bytes += info.State.Bytes
	if str.cfg.Storage == "memory" {
		st.MemoryBytes += info.State.Bytes
	} else {
		st.FileBytes += info.State.Bytes
	}
	if str.peers[0] == st.Name {
		st.Leaders++
	}
	for _, c := range str.consumers {
		if slices.Contains(c.peers, st.Name) {
			st.Consumers++
		}
	}
}
