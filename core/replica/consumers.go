package replica

import (
	"slices"
	"sort"

	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/core/consumer"
	"github.com/stratadb/strata/core/meta"
)

// GetConsumer returns the replica of a stream's consumer, if this node
// holds one.
func (s *Set) GetConsumer(stream, name string) (*Consumer, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.consumers[consumerKey(stream, name)]
	return c, ok
}

// Consumers returns the consumer replicas sorted by stream and name.
func (s *Set) Consumers() []*Consumer {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*Consumer, 0, len(s.consumers))
	for _, c := range s.consumers {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key() < out[j].key() })
	return out
}

// ReconcileConsumers starts the consumer replicas placed on this node
// (once the replica of their stream runs here), stops and drops those no
// longer placed here, and, where this node leads, aligns config and
// voters. Errors are logged; the next call retries.
func (s *Set) ReconcileConsumers(consumers []meta.Consumer) {
	want := map[string]meta.Consumer{}
	all := map[string]meta.Consumer{}
	for _, c := range consumers {
		all[consumerKey(c.Stream, c.Config.Name)] = c
		if slices.Contains(c.Peers, s.cfg.Self) {
			want[consumerKey(c.Stream, c.Config.Name)] = c
		}
	}
	s.stopUnwantedConsumers(want, all)
	for key, m := range want {
		c, ok := s.GetConsumer(m.Stream, m.Config.Name)
		if !ok {
			var err error
			if c, err = s.startConsumer(m); err != nil {
				s.logger.Debug("consumer replica not started yet", "consumer", key, "error", err)
				continue
			}
		}
		c.setMeta(m)
		if err := c.lead(s.cfg.Address); err != nil {
			s.logger.Warn("aligning consumer group failed; will retry", "consumer", key, "error", err)
		}
	}
	byStream := map[string][]meta.Consumer{}
	for _, c := range consumers {
		byStream[c.Stream] = append(byStream[c.Stream], c)
	}
	for _, r := range s.All() {
		s.retain(r, byStream[r.Name()])
	}
}

// stopUnwantedConsumers removes the replicas of deleted consumers (or of
// consumers whose stream replica left this node) at once, and those
// placed elsewhere once their group has let this server go.
func (s *Set) stopUnwantedConsumers(want, all map[string]meta.Consumer) {
	for _, c := range s.Consumers() {
		key, cur := c.key(), c.Meta()
		if m, ok := want[key]; ok && m.Group == cur.Group {
			if r, ok := s.Get(cur.Stream); ok && r == c.stream {
				continue
			}
		} else if m, ok := all[key]; ok && m.Group == cur.Group {
			c.setMeta(m)
			if c.IsLeader() {
				_ = c.lead(s.cfg.Address)
			}
			if !c.retired(s.cfg.Self) {
				continue
			}
		}
		s.removeConsumer(c)
	}
}

func (s *Set) removeConsumer(c *Consumer) {
	s.mu.Lock()
	delete(s.consumers, c.key())
	s.mu.Unlock()
	m := c.Meta()
	s.logger.Info("removing consumer replica", "stream", m.Stream, "consumer", m.Config.Name, "group", m.Group)
	if err := c.close(); err != nil {
		s.logger.Warn("stopping consumer replica", "consumer", c.key(), "error", err)
	}
	if s.cfg.DropGroup != nil {
		if err := s.cfg.DropGroup(ConsumerGroupID(m)); err != nil {
			s.logger.Warn("deleting the removed consumer's Raft data", "consumer", c.key(), "error", err)
		}
	}
}

// startConsumer starts a consumer's group on this node, beside the local
// replica of its stream, and bootstraps it when the consumer is new.
func (s *Set) startConsumer(m meta.Consumer) (*Consumer, error) {
	s.mu.RLock()
	closed := s.closed
	s.mu.RUnlock()
	if closed {
		return nil, errClosed
	}
	r, ok := s.Get(m.Stream)
	if !ok || r.Stream().Group != m.StreamGroup {
		return nil, errNoStreamReplica
	}
	c := &Consumer{cons: m, stream: r, logger: s.logger}
	c.fsm = consumer.NewFSM(m.Config, s.logger.Named("consumer"))
	stores := s.cfg.Stores(ConsumerGroupID(m))
	hasState, err := raft.HasExistingState(stores.Log, stores.Stable, stores.Snapshots)
	if err != nil {
		return nil, err
	}
	rc := *s.cfg.Raft
	if c.group, err = s.runGroup(ConsumerGroupID(m), m.Stream+"."+m.Config.Name, stores, c.fsm, &rc, m.Bootstrap, hasState); err != nil {
		return nil, err
	}
	c.leader = consumer.NewLeader(consumer.LeaderConfig{
		Raft: c.group.Raft(), FSM: c.fsm, Source: r.FSM(), Logger: s.logger.Named("consumer"),
		Restore: m.Restore,
	})
	s.mu.Lock()
	s.consumers[c.key()] = c
	s.mu.Unlock()
	s.logger.Info("consumer replica started", "stream", m.Stream, "consumer", m.Config.Name, "group", m.Group, "peers", m.Peers)
	return c, nil
}
