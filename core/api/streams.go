package api

import (
	"context"
	"fmt"
	"slices"

	"github.com/stratadb/strata/client/pb"
	"github.com/stratadb/strata/core/meta"
	"github.com/stratadb/strata/core/stream"
)

// StreamCreate creates a stream on the meta leader and returns its info
// once the stream's group has a leader.
func (s *Server) StreamCreate(ctx context.Context, req *pb.StreamConfig) (*pb.Stream, error) {
	c, fctx, err := s.metaRoute(ctx)
	if err != nil {
		return nil, err
	}
	if c != nil {
		info, err := c.StreamCreate(fctx, req)
		if err != nil {
			return nil, err
		}
		return info, s.awaitMeta(ctx, req.GetName(), info.GetPeers())
	}
	if err := s.createStream(configFromPB(req), false, accountOf(ctx)); err != nil {
		return nil, err
	}
	return s.StreamInfo(ownCall(ctx), &pb.StreamRequest{Name: req.GetName()})
}

// StreamUpdate changes a stream's limits or replicas on the meta leader.
func (s *Server) StreamUpdate(ctx context.Context, req *pb.StreamConfig) (*pb.Stream, error) {
	c, fctx, err := s.metaRoute(ctx)
	if err != nil {
		return nil, err
	}
	if c != nil {
		info, err := c.StreamUpdate(fctx, req)
		if err != nil {
			return nil, err
		}
		return info, s.awaitMeta(ctx, req.GetName(), info.GetPeers())
	}
	if err := stream.ValidStoredName(req.GetName()); err != nil {
		return nil, err
	}
	leader := ""
	if info, err := s.StreamInfo(ownCall(ctx), &pb.StreamRequest{Name: req.GetName()}); err == nil {
		leader = info.GetCluster().GetLeader()
	}
	peers, err := s.updateStream(configFromPB(req), leader)
	if err != nil {
		return nil, err
	}
	return s.awaitPeers(ctx, req.GetName(), peers)
}

// StreamDelete removes a stream on the meta leader.
func (s *Server) StreamDelete(ctx context.Context, req *pb.StreamRequest) (*pb.Empty, error) {
	c, fctx, err := s.metaRoute(ctx)
	if err != nil {
		return nil, err
	}
	if c != nil {
		if _, err := c.StreamDelete(fctx, req); err != nil {
			return nil, err
		}
		return &pb.Empty{}, s.awaitMeta(ctx, req.GetName(), nil)
	}
	return &pb.Empty{}, s.deleteStream(req.GetName())
}

// StreamPurge removes a stream's messages through its leader.
func (s *Server) StreamPurge(ctx context.Context, req *pb.StreamRequest) (*pb.PurgeResponse, error) {
	local, c, fctx, err := s.streamRoute(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	if local == nil {
		return c.StreamPurge(fctx, req)
	}
	n, err := local.Purge()
	if err != nil {
		return nil, err
	}
	return &pb.PurgeResponse{Purged: n}, nil
}

// StreamInfo answers from the stream leader: config, state and how each
// replica is doing.
func (s *Server) StreamInfo(ctx context.Context, req *pb.StreamRequest) (*pb.Stream, error) {
	local, c, fctx, err := s.streamRoute(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	if local == nil {
		return c.StreamInfo(fctx, req)
	}
	st := local.Stream()
	if cur, ok := s.cfg.MetaFSM.Stream(st.Config.Name); ok && cur.Group == st.Group {
		st = cur // the replica set catches up with the meta state a moment later
	}
	return &pb.Stream{
		Config:    configToPB(st.Config),
		State:     stateToPB(local.FSM().State()),
		Cluster:   s.clusterInfo(local.Group()),
		Created:   st.Created,
		Peers:     st.Peers,
		Restoring: st.Restoring,
		Consumers: uint64(len(s.cfg.MetaFSM.Consumers(st.Config.Name))),
	}, nil
}

// StreamList returns every stream's info; a stream whose leader cannot
// be reached is listed with its config and no state.
func (s *Server) StreamList(ctx context.Context, _ *pb.StreamListRequest) (*pb.StreamListResponse, error) {
	out := &pb.StreamListResponse{}
	for _, st := range s.cfg.MetaFSM.Streams() {
		info, err := s.StreamInfo(ownCall(ctx), &pb.StreamRequest{Name: st.Config.Name})
		if err != nil {
			s.logger.Debug("stream info for list failed", "stream", st.Config.Name, "error", err)
			info = &pb.Stream{Config: configToPB(st.Config), State: &pb.StreamState{},
				Cluster: &pb.ClusterInfo{Name: s.cfg.Cluster}, Created: st.Created, Peers: st.Peers}
		}
		out.Streams = append(out.Streams, info)
	}
	return out, nil
}

// Catchup streams a local replica's messages in [first, last], after
// its first message when that lies before first: the follower learns
// from it where the stream begins, so that it tells a message removed by
// the limits (before the first) from one removed one by one (a hole).
func (s *Server) Catchup(req *pb.CatchupRequest, ss pb.Strata_CatchupServer) error {
	r, ok := s.cfg.Replicas.Get(req.GetStream())
	if !ok {
		return fmt.Errorf("%w: %s has no replica on %s", meta.ErrStreamNotFound, req.GetStream(), s.cfg.Self)
	}
	fsm := r.FSM()
	st := fsm.State()
	first := max(req.GetFirst(), st.FirstSeq)
	if st.Msgs > 0 && st.FirstSeq < req.GetFirst() {
		if m, err := fsm.Get(st.FirstSeq); err == nil {
			if err := ss.Send(toMsg(m)); err != nil {
				return err
			}
		}
	}
	for seq := first; seq <= req.GetLast(); seq++ {
		m, err := fsm.Get(seq)
		if err != nil {
			continue // removed since: the follower jumps over it
		}
		if err := ss.Send(toMsg(m)); err != nil {
			return err
		}
	}
	return nil
}

// awaitPeers returns the stream's info once its leader reports peers,
// or the last info when that takes longer than LeaderWait.
func (s *Server) awaitPeers(ctx context.Context, name string, peers []string) (*pb.Stream, error) {
	var info *pb.Stream
	err := s.waitFor(ctx, "stream "+name, func() (bool, error) {
		var err error
		info, err = s.StreamInfo(ownCall(ctx), &pb.StreamRequest{Name: name})
		return err == nil && slices.Equal(info.GetPeers(), peers), nil
	})
	if info != nil {
		return info, nil
	}
	return nil, err
}

// awaitMeta waits until this node's meta state shows what the meta
// leader just did to the stream (peers, or nil: deleted), so that the
// client's next call to this node sees it too.
func (s *Server) awaitMeta(ctx context.Context, name string, peers []string) error {
	return s.waitFor(ctx, "the meta state of stream "+name, func() (bool, error) {
		st, ok := s.cfg.MetaFSM.Stream(name)
		if peers == nil {
			return !ok, nil
		}
		return ok && slices.Equal(st.Peers, peers), nil
	})
}
