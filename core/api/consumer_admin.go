package api

import (
	"fmt"
	"time"

	"github.com/stratadb/strata/core/consumer"
	"github.com/stratadb/strata/core/meta"
)

// createConsumer runs on the meta leader: it checks c against its stream
// and records it on the stream's peers, with the state it starts from
// when restore is set. The same config again is accepted and changes
// nothing.
func (s *Server) createConsumer(streamName string, c consumer.Config, restore *consumer.State) (meta.Consumer, error) {
	st, ok := s.cfg.MetaFSM.Stream(streamName)
	if !ok {
		return meta.Consumer{}, fmt.Errorf("%w: %s", meta.ErrStreamNotFound, streamName)
	}
	if c.Ephemeral() && c.Name == "" {
		c.Name = "eph-" + randomID()
	}
	c.Finish(st.Config.Replicas)
	if err := c.Validate(st.Config.Subjects, len(st.Peers)); err != nil {
		return meta.Consumer{}, err
	}
	if cur, ok := s.cfg.MetaFSM.Consumer(streamName, c.Name); ok && cur.Config.Equal(c) {
		return cur, nil
	}
	peers := meta.FollowPeers(nil, st.Peers, c.Replicas)
	m := meta.Consumer{
		Stream: streamName, Config: c, Peers: peers, Bootstrap: peers, StreamGroup: st.Group,
		Group: st.Group + "-" + c.Name + "-" + randomID(), Created: time.Now().UnixNano(), Restore: restore,
	}
	if err := s.cfg.MetaFSM.CheckCreateConsumer(m); err != nil {
		return meta.Consumer{}, err
	}
	data, err := meta.CreateConsumer(m)
	if err != nil {
		return meta.Consumer{}, err
	}
	return m, s.applyMeta(data)
}

// updateConsumer runs on the meta leader: it changes a consumer's
// mutable fields.
func (s *Server) updateConsumer(streamName string, c consumer.Config) (meta.Consumer, error) {
	cur, ok := s.cfg.MetaFSM.Consumer(streamName, c.Name)
	if !ok {
		return cur, fmt.Errorf("%w: %s on stream %s", meta.ErrConsumerNotFound, c.Name, streamName)
	}
	st, _ := s.cfg.MetaFSM.Stream(streamName)
	c.Finish(st.Config.Replicas)
	if err := cur.Config.CheckUpdate(c); err != nil {
		return cur, err
	}
	if err := c.Validate(st.Config.Subjects, len(st.Peers)); err != nil {
		return cur, err
	}
	next := cur
	next.Config = c
	data, err := meta.UpdateConsumer(next)
	if err != nil {
		return cur, err
	}
	return next, s.applyMeta(data)
}

func (s *Server) deleteConsumer(streamName, name string) error {
	if _, ok := s.cfg.MetaFSM.Consumer(streamName, name); !ok {
		if _, ok := s.cfg.MetaFSM.Stream(streamName); !ok {
			return fmt.Errorf("%w: %s", meta.ErrStreamNotFound, streamName)
		}
		return fmt.Errorf("%w: %s on stream %s", meta.ErrConsumerNotFound, name, streamName)
	}
	data, err := meta.DeleteConsumer(streamName, name)
	if err != nil {
		return err
	}
	return s.applyMeta(data)
}
