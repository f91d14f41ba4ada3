package api

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/hashicorp/raft"
	"google.golang.org/grpc/metadata"

	"github.com/stratadb/strata/client/pb"
	"github.com/stratadb/strata/core/meta"
	"github.com/stratadb/strata/core/replica"
)

const (
	// hopsKey is the metadata key counting how often a call was forwarded.
	hopsKey = "strata-hops"
	// maxHops bounds forwarding: a non-peer forwards to a peer, which
	// forwards to its leader (or, starting, to another peer).
	maxHops = 3
	// leaderPoll is how often a call waiting for a leader looks again.
	leaderPoll = 25 * time.Millisecond
)

// forwardCtx returns ctx for a call forwarded to another node.
func forwardCtx(ctx context.Context) (context.Context, error) {
	hops := 0
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if v := md.Get(hopsKey); len(v) > 0 {
			hops, _ = strconv.Atoi(v[0])
		}
	}
	if hops >= maxHops {
		return nil, ErrTooManyHops
	}
	return metadata.AppendToOutgoingContext(ctx, hopsKey, strconv.Itoa(hops+1)), nil
}

// waitFor polls find until it answers, ctx ends or LeaderWait passes.
func (s *Server) waitFor(ctx context.Context, what string, find func() (bool, error)) error {
	deadline := time.Now().Add(s.cfg.LeaderWait)
	for {
		ok, err := find()
		if ok || err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w for %s", ErrNoLeader, what)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(leaderPoll):
		}
	}
}

// clientOf returns a client for the named server's client port.
func (s *Server) clientOf(name string) (pb.StrataClient, error) {
	srv, ok := s.cfg.MetaFSM.Server(name)
	if !ok || srv.Client == "" {
		return nil, fmt.Errorf("%w: server %s has no known client address", ErrNoLeader, name)
	}
	return s.pool.client(srv.Client)
}

// metaRoute returns nil when this node leads the meta group, or a
// client of the meta leader.
func (s *Server) metaRoute(ctx context.Context) (pb.StrataClient, context.Context, error) {
	var leader raft.ServerID
	err := s.waitFor(ctx, "the meta group", func() (bool, error) {
		_, leader = s.cfg.Meta.Raft().LeaderWithID()
		return leader != "" && (string(leader) == s.cfg.Self || s.reachable(string(leader))), nil
	})
	if err != nil {
		return nil, nil, err
	}
	if string(leader) == s.cfg.Self && s.cfg.Meta.Raft().State() == raft.Leader {
		return nil, ctx, nil
	}
	fctx, err := forwardCtx(ctx)
	if err != nil {
		return nil, nil, err
	}
	c, err := s.clientOf(string(leader))
	return c, fctx, err
}

// streamRoute returns the local replica when this node leads the stream,
// or a client of the node to forward to: the leader if this node is a
// peer and knows it, else one of the stream's peers.
func (s *Server) streamRoute(ctx context.Context, name string) (*replica.Replica, pb.StrataClient, context.Context, error) {
	st, err := s.lookupStream(ctx, name)
	if err != nil {
		return nil, nil, nil, err
	}
	return routeTo(ctx, s, "stream "+name, func() (*replica.Replica, string) { return s.streamTarget(st) })
}

// routeTo waits until find names a local leader (returned) or a reachable
// server to forward to, and returns a client of that server and the
// forwarded call's context.
func routeTo[L any](ctx context.Context, s *Server, what string, find func() (*L, string)) (*L, pb.StrataClient, context.Context, error) {
	var local *L
	var target string
	err := s.waitFor(ctx, what, func() (bool, error) {
		local, target = find()
		return local != nil || target != "" && s.reachable(target), nil
	})
	if err != nil || local != nil {
		return local, nil, ctx, err
	}
	fctx, err := forwardCtx(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	c, err := s.clientOf(target)
	return nil, c, fctx, err
}

func (s *Server) streamTarget(st meta.Stream) (*replica.Replica, string) {
	if r, ok := s.cfg.Replicas.Get(st.Config.Name); ok && r.Stream().Group == st.Group {
		if r.IsLeader() {
			return r, ""
		}
		// A leader the meta state no longer places here is on its way
		// out (peer-remove): wait for the group to elect among the peers.
		if leader := r.Leader(); slices.Contains(st.Peers, leader) {
			return nil, leader
		}
		return nil, ""
	}
	// A replica stopped here because its files are damaged is not
	// starting: another peer serves.
	if slices.Contains(st.Peers, s.cfg.Self) && !s.cfg.Replicas.Quarantined(st.Config.Name) {
		return nil, "" // placed here, replica starting: wait for it
	}
	return nil, s.livePeer(st.Peers)
}

// livePeer returns a peer other than this node, chosen at random so
// that a client retrying past a dead peer soon reaches a live one.
func (s *Server) livePeer(peers []string) string {
	others := make([]string, 0, len(peers))
	for _, p := range peers {
		if p != s.cfg.Self {
			others = append(others, p)
		}
	}
	if len(others) == 0 {
		return ""
	}
	return others[rand.IntN(len(others))]
}

// lookupStream returns the named stream from the meta state. A call
// forwarded here comes from a node that knew the stream, and a node that
// has just started may not have replayed the meta log yet: in both cases
// this node's meta state may only be behind, so it waits for it.
func (s *Server) lookupStream(ctx context.Context, name string) (meta.Stream, error) {
	st, ok := s.cfg.MetaFSM.Stream(name)
	if ok {
		return st, nil
	}
	if forwarded(ctx) || !s.metaCurrent() {
		err := s.waitFor(ctx, "stream "+name, func() (bool, error) {
			st, ok = s.cfg.MetaFSM.Stream(name)
			return ok || !forwarded(ctx) && s.metaCurrent(), nil
		})
		if err != nil {
			// Not knowing is not "not found": a client told so would
			// believe the stream (or its message) is gone, as the fault
			// tests' reader did after a whole-cluster restart.
			return st, fmt.Errorf("stream %s: meta state not current: %w", name, err)
		}
		if ok {
			return st, nil
		}
	}
	return st, fmt.Errorf("%w: %s", meta.ErrStreamNotFound, name)
}

// metaCurrent reports whether this node's meta state is up to date as far
// as it can tell: it knows the meta leader and has applied its whole log.
func (s *Server) metaCurrent() bool {
	r := s.cfg.Meta.Raft()
	_, leader := r.LeaderWithID()
	applied := r.AppliedIndex()
	return leader != "" && applied > 0 && applied >= r.CommitIndex() && applied >= r.LastIndex()
}

// forwarded reports whether another node forwarded this call.
func forwarded(ctx context.Context) bool {
	md, ok := metadata.FromIncomingContext(ctx)
	return ok && len(md.Get(hopsKey)) > 0
}

// ownCall returns ctx for a call this node makes on its own behalf while
// serving another: its forwarding count starts afresh.
func ownCall(ctx context.Context) context.Context {
	return metadata.NewIncomingContext(ctx, metadata.MD{})
}

// reachable reports whether the named server's client port is not known
// to refuse connections.
func (s *Server) reachable(name string) bool {
	srv, ok := s.cfg.MetaFSM.Server(name)
	return !ok || s.pool.reachable(srv.Client)
}
