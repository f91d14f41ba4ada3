package api

import (
	"context"
	"fmt"
	"slices"

	"github.com/stratadb/strata/client/pb"
	"github.com/stratadb/strata/core/meta"
	"github.com/stratadb/strata/core/placement"
)

// StreamStepDown hands a stream's leadership to another replica, on the
// stream leader, and waits for the new leader.
func (s *Server) StreamStepDown(ctx context.Context, req *pb.StreamRequest) (*pb.StepDownResponse, error) {
	local, c, fctx, err := s.streamRoute(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	if local == nil {
		return c.StreamStepDown(fctx, req)
	}
	if len(local.Stream().Peers) < 2 {
		return nil, fmt.Errorf("%w: stream %s has one replica: no other can lead", errInvalid, req.GetName())
	}
	old := local.Leader()
	if err := local.StepDown(); err != nil {
		return nil, err
	}
	next, err := s.awaitLeader(ctx, "stream "+req.GetName(), old, local.Leader)
	return &pb.StepDownResponse{OldLeader: old, NewLeader: next}, err
}

// MetaStepDown hands the meta group's leadership to another server.
func (s *Server) MetaStepDown(ctx context.Context, req *pb.Empty) (*pb.StepDownResponse, error) {
	c, fctx, err := s.metaRoute(ctx)
	if err != nil {
		return nil, err
	}
	if c != nil {
		return c.MetaStepDown(fctx, req)
	}
	r := s.cfg.Meta.Raft()
	if err := r.LeadershipTransfer().Error(); err != nil {
		return nil, err
	}
	leader := func() string { _, id := r.LeaderWithID(); return string(id) }
	next, err := s.awaitLeader(ctx, "the meta group", s.cfg.Self, leader)
	return &pb.StepDownResponse{OldLeader: s.cfg.Self, NewLeader: next}, err
}

// awaitLeader waits until leader names a server other than old.
func (s *Server) awaitLeader(ctx context.Context, what, old string, leader func() string) (string, error) {
	var next string
	err := s.waitFor(ctx, what, func() (bool, error) {
		next = leader()
		return next != "" && next != old, nil
	})
	return next, err
}

// StreamPeerRemove, on the meta leader, replaces a peer of a stream by a
// server placement picks; the stream's leader then adds the new replica
// and removes the old one.
func (s *Server) StreamPeerRemove(ctx context.Context, req *pb.PeerRemoveRequest) (*pb.Stream, error) {
	c, fctx, err := s.metaRoute(ctx)
	if err != nil {
		return nil, err
	}
	if c != nil {
		info, err := c.StreamPeerRemove(fctx, req)
		if err != nil {
			return nil, err
		}
		return info, s.awaitMeta(ctx, req.GetStream(), info.GetPeers())
	}
	peers, err := s.replacePeer(req.GetStream(), req.GetPeer())
	if err != nil {
		return nil, err
	}
	return s.awaitPeers(ctx, req.GetStream(), peers)
}

func (s *Server) replacePeer(name, peer string) ([]string, error) {
	cur, ok := s.cfg.MetaFSM.Stream(name)
	if !ok {
		return nil, fmt.Errorf("%w: %s", meta.ErrStreamNotFound, name)
	}
	if !slices.Contains(cur.Peers, peer) {
		return nil, fmt.Errorf("%w: %s is not a peer of stream %s (peers: %v)", errInvalid, peer, name, cur.Peers)
	}
	repl, err := placement.Replace(s.candidates(), cur.Peers, peer, placement.Request{Tags: cur.Config.Tags})
	if err != nil {
		return nil, fmt.Errorf("stream %s: no server can take the place of %s: %w", name, peer, err)
	}
	next := cur
	next.Peers = append(slices.DeleteFunc(slices.Clone(cur.Peers), func(p string) bool { return p == peer }), repl)
	data, err := meta.UpdateStream(next)
	if err != nil {
		return nil, err
	}
	return next.Peers, s.applyMeta(data)
}
