package api

import (
	"context"
	"fmt"
	"slices"

	"github.com/stratadb/strata/client/pb"
	"github.com/stratadb/strata/core/meta"
	"github.com/stratadb/strata/core/replica"
)

// consumerRoute returns the local consumer replica when this node leads
// the consumer's group, or a client of the node to forward to: the
// leader if this node holds a replica and knows it, else a peer.
func (s *Server) consumerRoute(ctx context.Context, stream, name string) (*replica.Consumer, pb.StrataClient, context.Context, error) {
	m, err := s.lookupConsumer(ctx, stream, name)
	if err != nil {
		return nil, nil, nil, err
	}
	what := fmt.Sprintf("consumer %s on stream %s", name, stream)
	return routeTo(ctx, s, what, func() (*replica.Consumer, string) { return s.consumerTarget(m) })
}

func (s *Server) consumerTarget(m meta.Consumer) (*replica.Consumer, string) {
	if c, ok := s.cfg.Replicas.GetConsumer(m.Stream, m.Config.Name); ok && c.Meta().Group == m.Group {
		if c.IsLeader() {
			return c, ""
		}
		if leader := c.Leader(); slices.Contains(m.Peers, leader) {
			return nil, leader
		}
		return nil, ""
	}
	if slices.Contains(m.Peers, s.cfg.Self) {
		return nil, "" // placed here, replica starting: wait for it
	}
	return nil, s.livePeer(m.Peers)
}

// lookupConsumer returns a stream's consumer from the meta state, waiting
// while this node's meta state may be behind (see lookupStream).
func (s *Server) lookupConsumer(ctx context.Context, stream, name string) (meta.Consumer, error) {
	if _, err := s.lookupStream(ctx, stream); err != nil {
		return meta.Consumer{}, err
	}
	m, ok := s.cfg.MetaFSM.Consumer(stream, name)
	if ok {
		return m, nil
	}
	if forwarded(ctx) || !s.metaCurrent() {
		err := s.waitFor(ctx, "consumer "+name, func() (bool, error) {
			m, ok = s.cfg.MetaFSM.Consumer(stream, name)
			return ok || !forwarded(ctx) && s.metaCurrent(), nil
		})
		if err != nil {
			return m, fmt.Errorf("consumer %s on stream %s: meta state not current: %w", name, stream, err)
		}
		if ok {
			return m, nil
		}
	}
	return m, fmt.Errorf("%w: %s on stream %s", meta.ErrConsumerNotFound, name, stream)
}
