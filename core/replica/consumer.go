package replica

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/core/consumer"
	"github.com/stratadb/strata/core/meta"
	"github.com/stratadb/strata/core/raftgroup"
)

// ErrNotConsumerLeader is returned for a consumer call on a replica that
// does not lead the consumer's group.
var ErrNotConsumerLeader = errors.New("not the consumer leader")

// Consumer is one durable consumer's replica on this node: its Raft
// group, its state machine and, while this node leads the group, the
// leader that hands out the local stream replica's messages.
type Consumer struct {
	mu     sync.Mutex
	cons   meta.Consumer
	group  *raftgroup.Group
	fsm    *consumer.FSM
	leader *consumer.Leader
	stream *Replica
	logger hclog.Logger
}

// ConsumerGroupID returns the cluster-port id of a consumer's Raft group.
func ConsumerGroupID(c meta.Consumer) string { return "consumer:" + c.Group }

// Meta returns the consumer as last recorded by the meta group.
func (c *Consumer) Meta() meta.Consumer {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cons
}

func (c *Consumer) setMeta(m meta.Consumer) {
	c.mu.Lock()
	c.cons = m
	c.mu.Unlock()
}

func (c *Consumer) key() string { return consumerKey(c.Meta().Stream, c.Meta().Config.Name) }

func consumerKey(stream, name string) string { return stream + "/" + name }

// Group returns the consumer's Raft group on this node.
func (c *Consumer) Group() *raftgroup.Group { return c.group }

// FSM returns the consumer's state machine.
func (c *Consumer) FSM() *consumer.FSM { return c.fsm }

// Info returns the consumer's counts, read against the local stream.
func (c *Consumer) Info() consumer.Info {
	info := c.fsm.Info(c.stream.FSM())
	info.Waiting = c.leader.Waiting()
	return info
}

// IsLeader reports whether this replica leads the consumer's group.
func (c *Consumer) IsLeader() bool { return c.group.Raft().State() == raft.Leader }

// Leader returns the consumer leader's server name, or "" if unknown.
func (c *Consumer) Leader() string {
	_, id := c.group.Raft().LeaderWithID()
	return string(id)
}

// Fetch hands out messages, on the leader.
func (c *Consumer) Fetch(ctx context.Context, req consumer.FetchRequest, send func([]consumer.Delivery) error, heartbeat func() error) error {
	if !c.IsLeader() {
		return ErrNotConsumerLeader
	}
	return c.leader.Fetch(ctx, req, send, heartbeat)
}

// Ack takes acks, on the leader.
func (c *Consumer) Ack(ctx context.Context, acks []consumer.Ack) (consumer.AckResult, error) {
	if !c.IsLeader() {
		return consumer.AckResult{}, ErrNotConsumerLeader
	}
	return c.leader.Ack(ctx, acks)
}

// StepDown hands the consumer's leadership to another replica.
func (c *Consumer) StepDown() error {
	if !c.IsLeader() {
		return ErrNotConsumerLeader
	}
	return c.group.Raft().LeadershipTransfer().Error()
}

// lead brings, on the leader, the FSM's config and the group's voters in
// line with the meta state.
func (c *Consumer) lead(address func(string) (raft.ServerAddress, bool)) error {
	if !c.IsLeader() {
		return nil
	}
	m := c.Meta()
	if !c.fsm.Config().Equal(m.Config) {
		if err := consumer.ApplyConfig(c.group.Raft(), m.Config, opTimeout); err != nil {
			return err
		}
	}
	return voters{group: c.group, name: "consumer " + c.key(), logger: c.logger}.align(m.Peers, address)
}

// retired reports whether this server is out of the consumer's group.
func (c *Consumer) retired(self string) bool {
	return groupRetired(c.group.Raft(), self)
}

func (c *Consumer) close() error {
	c.leader.Close()
	return c.group.Shutdown()
}

// Inactive reports whether an ephemeral consumer led here has gone
// without pull requests or acks for its inactive threshold. Durable
// consumers are never inactive.
func (c *Consumer) Inactive(now time.Time) bool {
	cfg := c.Meta().Config
	if !cfg.Ephemeral() || !c.IsLeader() || c.leader.Waiting() > 0 {
		return false
	}
	return now.Sub(c.leader.LastActive()) > cfg.InactiveThreshold
}
