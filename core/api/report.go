package api

import (
	"context"
	"errors"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/client/pb"
	"github.com/stratadb/strata/core/raftgroup"
	"github.com/stratadb/strata/core/stream"
)

// statsTimeout bounds asking one server for its statistics.
const statsTimeout = 2 * time.Second

// clusterInfo describes a group this node leads: each other voter with
// whether it is current, when the leader last heard from it and how many
// entries it lags.
func (s *Server) clusterInfo(g *raftgroup.Group) *pb.ClusterInfo {
	r := g.Raft()
	info := &pb.ClusterInfo{Name: s.cfg.Cluster, RaftIndex: r.LastIndex()}
	if _, id := r.LeaderWithID(); id != "" {
		info.Leader = string(id)
	}
	if st := r.Stats(); st["term"] != "" {
		info.RaftTerm, _ = strconv.ParseUint(st["term"], 10, 64)
	}
	seen := map[raft.ServerID]raftgroup.PeerState{}
	for _, p := range g.Peers() {
		seen[p.ID] = p
	}
	f := r.GetConfiguration()
	if f.Error() != nil {
		return info
	}
	for _, srv := range f.Configuration().Servers {
		if string(srv.ID) == info.Leader {
			continue
		}
		info.Replicas = append(info.Replicas, peerInfo(string(srv.ID), seen[srv.ID], info.RaftIndex))
	}
	return info
}

func peerInfo(name string, p raftgroup.PeerState, last uint64) *pb.PeerInfo {
	out := &pb.PeerInfo{Name: name, Offline: true}
	if p.LastContact.IsZero() {
		out.Lag = last
		return out
	}
	ago := time.Since(p.LastContact)
	out.ActiveNs = int64(ago)
	out.Offline = ago > offlineAfter
	if p.MatchIndex < last {
		out.Lag = last - p.MatchIndex
	}
	out.Current = !out.Offline && out.Lag == 0
	return out
}

// ServerList lists the servers the meta state records.
func (s *Server) ServerList(context.Context, *pb.Empty) (*pb.ServerListResponse, error) {
	out := &pb.ServerListResponse{Cluster: s.cfg.Cluster}
	for _, srv := range s.cfg.MetaFSM.Servers() {
		out.Servers = append(out.Servers, &pb.ServerInfo{
			Name: srv.Name, ClusterAddr: srv.Cluster, ClientAddr: srv.Client, HttpAddr: srv.HTTP, Tags: srv.Tags,
		})
	}
	return out, nil
}

// ServerReport asks every server for its statistics and the meta leader
// for the meta group's state.
func (s *Server) ServerReport(ctx context.Context, req *pb.Empty) (*pb.ServerReportResponse, error) {
	c, fctx, err := s.metaRoute(ctx)
	if err != nil {
		return nil, err
	}
	if c != nil {
		return c.ServerReport(fctx, req)
	}
	out := &pb.ServerReportResponse{Cluster: s.cfg.Cluster, Meta: s.clusterInfo(s.cfg.Meta)}
	servers := s.cfg.MetaFSM.Servers()
	out.Servers = make([]*pb.ServerStats, len(servers))
	var wg sync.WaitGroup
	for i, srv := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out.Servers[i] = s.statsOf(ctx, srv.Name)
		}()
	}
	wg.Wait()
	return out, nil
}

func (s *Server) statsOf(ctx context.Context, name string) *pb.ServerStats {
	if name == s.cfg.Self {
		st, _ := s.LocalStats(ctx, &pb.Empty{})
		return st
	}
	ctx, cancel := context.WithTimeout(ctx, statsTimeout)
	defer cancel()
	c, err := s.clientOf(name)
	if err == nil {
		var st *pb.ServerStats
		if st, err = c.LocalStats(ctx, &pb.Empty{}); err == nil {
			return st
		}
	}
	return &pb.ServerStats{Name: name, Cluster: s.cfg.Cluster, Offline: true}
}

// LocalStats returns this server's own statistics.
func (s *Server) LocalStats(context.Context, *pb.Empty) (*pb.ServerStats, error) {
	st := &pb.ServerStats{
		Name: s.cfg.Self, Cluster: s.cfg.Cluster, ApiRequests: s.Requests(), ApiErrors: s.Errors(),
		UptimeNs: int64(time.Since(s.started)), Version: Version,
	}
	if s.cfg.StorageFault != nil {
		if err := s.cfg.StorageFault(); err != nil {
			st.Fault = err.Error()
		}
	}
	for _, r := range s.cfg.Replicas.All() {
		state := r.FSM().State()
		st.Streams++
		st.Messages += state.Msgs
		st.Bytes += state.Bytes
		if r.Stream().Config.Storage == stream.MemoryStorage {
			st.MemoryBytes += state.Bytes
		} else {
			st.FileBytes += state.Bytes
		}
		if r.IsLeader() {
			st.Leaders++
		}
	}
	for _, c := range s.cfg.Replicas.Consumers() {
		st.Consumers++
		if c.IsLeader() {
			st.Leaders++
		}
	}
	return st, nil
}

// Version is the server version LocalStats reports.
var Version = "0.1.0-dev"

// CatchupFrom fetches a stream's messages in [first, last] from the named
// server's replica, for a replica that installed a snapshot.
func (s *Server) CatchupFrom(ctx context.Context, server, name string, first, last uint64, fn func(stream.Message) error) error {
	if server == "" {
		return ErrNoLeader
	}
	c, err := s.clientOf(server)
	if err != nil {
		return err
	}
	cs, err := c.Catchup(ctx, &pb.CatchupRequest{Stream: name, First: first, Last: last})
	if err != nil {
		return err
	}
	for {
		m, err := cs.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(fromMsg(m)); err != nil {
			return err
		}
	}
}

func fromMsg(m *pb.Msg) stream.Message {
	out := stream.Message{Seq: m.GetSeq(), Subject: m.GetSubject(), Data: m.GetData(), Time: m.GetTime(), MsgID: m.GetMsgId()}
	for _, h := range m.GetHeaders() {
		out.Header = append(out.Header, stream.Header{Key: h.GetKey(), Value: h.GetValue()})
	}
	return out
}
