package meta

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/stratadb/strata/core/consumer"
	"github.com/stratadb/strata/core/stream"
)

// Consumer commands.
const (
	// OpCreateConsumer records a new consumer and its peers.
	OpCreateConsumer Op = "create_consumer"
	// OpUpdateConsumer replaces a consumer's config (its mutable fields).
	OpUpdateConsumer Op = "update_consumer"
	// OpDeleteConsumer removes a consumer.
	OpDeleteConsumer Op = "delete_consumer"
)

// Consumer errors.
var (
	// ErrConsumerExists refuses a create for a name taken by a consumer
	// with another config.
	ErrConsumerExists = errors.New("consumer already exists with a different config")
	// ErrConsumerNotFound is returned for a consumer the meta state lacks.
	ErrConsumerNotFound = errors.New("consumer not found")
	// ErrWorkQueueOverlap refuses a work-queue consumer whose filters
	// overlap another's: each message goes to one consumer only.
	ErrWorkQueueOverlap = errors.New("work queue stream: consumer filters overlap")
	// ErrRetentionReplicas refuses a consumer of a work-queue or interest
	// stream with fewer replicas than its stream: the stream's leader
	// reads every consumer's state from a local replica.
	ErrRetentionReplicas = errors.New("consumers of a work-queue or interest stream have the stream's replicas")
)

// Consumer is a consumer as the meta group records it. Its peers are
// its stream's (the first Config.Replicas of them), and follow the
// stream's when those change.
type Consumer struct {
	Stream    string          `json:"stream"`
	Config    consumer.Config `json:"config"`
	Peers     []string        `json:"peers"`
	Group     string          `json:"group"`
	Bootstrap []string        `json:"bootstrap"`
	Created   int64           `json:"created"`
	// StreamGroup is the group of the stream the consumer was created on:
	// a stream deleted and created again has none of its consumers.
	StreamGroup string `json:"stream_group"`
	// Restore, for a consumer restored from a backup, is the state it
	// starts from instead of its deliver policy.
	Restore *consumer.State `json:"restore,omitempty"`
}

func (c Consumer) key() string { return consumerKey(c.Stream, c.Config.Name) }

func consumerKey(stream, name string) string { return stream + "/" + name }

func (c Consumer) clone() Consumer {
	c.Peers = slices.Clone(c.Peers)
	c.Bootstrap = slices.Clone(c.Bootstrap)
	c.Config.FilterSubjects = slices.Clone(c.Config.FilterSubjects)
	c.Config.Backoff = slices.Clone(c.Config.Backoff)
	if c.Restore != nil {
		r := c.Restore.Clone()
		c.Restore = &r
	}
	return c
}

// CreateConsumer encodes the command recording c.
func CreateConsumer(c Consumer) ([]byte, error) {
	return json.Marshal(command{Op: OpCreateConsumer, Consumer: &c})
}

// UpdateConsumer encodes the command replacing a consumer's config.
func UpdateConsumer(c Consumer) ([]byte, error) {
	return json.Marshal(command{Op: OpUpdateConsumer, Consumer: &c})
}

// DeleteConsumer encodes the command removing a stream's consumer.
func DeleteConsumer(stream, name string) ([]byte, error) {
	return json.Marshal(command{Op: OpDeleteConsumer, Consumer: &Consumer{Stream: stream, Config: consumer.Config{Name: name}}})
}

func (c command) applyConsumer(st *state) error {
	if c.Consumer == nil || c.Consumer.Stream == "" || c.Consumer.Config.Name == "" {
		return fmt.Errorf("%w: %s needs a stream and a consumer name", ErrBadCommand, c.Op)
	}
	cons := c.Consumer.clone()
	switch c.Op {
	case OpCreateConsumer:
		exists, err := st.checkCreateConsumer(cons)
		if err != nil || exists {
			return err // exists: the same config again, left as it is
		}
		if st.Consumers == nil {
			st.Consumers = map[string]Consumer{}
		}
		st.Consumers[cons.key()] = cons
		return nil
	case OpUpdateConsumer:
		cur, err := st.checkUpdateConsumer(cons)
		if err != nil {
			return err
		}
		cur.Config = cons.Config
		st.Consumers[cons.key()] = cur
		return nil
	case OpDeleteConsumer:
		if _, ok := st.Consumers[cons.key()]; !ok {
			return fmt.Errorf("%w: %s on stream %s", ErrConsumerNotFound, cons.Config.Name, cons.Stream)
		}
		delete(st.Consumers, cons.key())
		return nil
	}
	return fmt.Errorf("%w %q", ErrUnknownOp, c.Op)
}

// checkCreateConsumer checks a create; exists says the consumer is there
// with the same config (the create is accepted and changes nothing).
func (st *state) checkCreateConsumer(c Consumer) (exists bool, err error) {
	s, ok := st.Streams[c.Stream]
	if !ok {
		return false, fmt.Errorf("%w: %s", ErrStreamNotFound, c.Stream)
	}
	if c.StreamGroup != s.Group {
		return false, fmt.Errorf("%w: stream %s was recreated", ErrBadCommand, c.Stream)
	}
	if len(c.Peers) == 0 || c.Group == "" {
		return false, fmt.Errorf("%w: create_consumer needs peers and a group", ErrBadCommand)
	}
	if err := c.Config.Validate(s.Config.Subjects, len(s.Peers)); err != nil {
		return false, err
	}
	if cur, ok := st.Consumers[c.key()]; ok {
		if cur.Config.Equal(c.Config) {
			return true, nil
		}
		return false, fmt.Errorf("%w: %s on stream %s", ErrConsumerExists, c.Config.Name, c.Stream)
	}
	return false, st.checkRetention(s, c)
}

// checkRetention refuses, on a work-queue or interest stream, a consumer
// with fewer replicas than the stream, and on a work queue one whose
// filters overlap another consumer's.
func (st *state) checkRetention(s Stream, c Consumer) error {
	if s.Config.Retention != stream.WorkQueueRetention && s.Config.Retention != stream.InterestRetention {
		return nil
	}
	if c.Config.Replicas != len(s.Peers) {
		return fmt.Errorf("%w: consumer %s has %d, stream %s %d", ErrRetentionReplicas, c.Config.Name, c.Config.Replicas, s.Config.Name, len(s.Peers))
	}
	if s.Config.Retention != stream.WorkQueueRetention {
		return nil
	}
	for _, other := range st.consumersOf(c.Stream) {
		if other.Config.Name != c.Config.Name && other.Config.OverlapsFilters(c.Config) {
			return fmt.Errorf("%w: consumers %s and %s", ErrWorkQueueOverlap, other.Config.Name, c.Config.Name)
		}
	}
	return nil
}

func (st *state) checkUpdateConsumer(c Consumer) (Consumer, error) {
	cur, ok := st.Consumers[c.key()]
	if !ok {
		return cur, fmt.Errorf("%w: %s on stream %s", ErrConsumerNotFound, c.Config.Name, c.Stream)
	}
	if err := cur.Config.CheckUpdate(c.Config); err != nil {
		return cur, err
	}
	s := st.Streams[c.Stream]
	return cur, c.Config.Validate(s.Config.Subjects, len(s.Peers))
}

// consumersOf returns a stream's consumers sorted by name.
func (st *state) consumersOf(stream string) []Consumer {
	var out []Consumer
	for _, c := range st.Consumers {
		if c.Stream == stream {
			out = append(out, c.clone())
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Config.Name < out[j].Config.Name })
	return out
}

// followStream brings every consumer of s in line with the stream: gone
// with it when it is deleted or recreated, and on its peers when they
// change (consumer peers that remain stay, new stream peers take the
// places of the others, as many as the consumer's replicas).
func (st *state) followStream(name string) {
	s, ok := st.Streams[name]
	for key, c := range st.Consumers {
		if c.Stream != name {
			continue
		}
		if !ok || c.StreamGroup != s.Group {
			delete(st.Consumers, key)
			continue
		}
		c.Peers = FollowPeers(c.Peers, s.Peers, c.Config.Replicas)
		st.Consumers[key] = c
	}
}

// FollowPeers returns a consumer's peers after its stream's peers became
// streamPeers: the current peers still in the stream, then stream peers
// in their order, up to n.
func FollowPeers(cur, streamPeers []string, n int) []string {
	out := make([]string, 0, n)
	for _, p := range cur {
		if slices.Contains(streamPeers, p) && len(out) < n {
			out = append(out, p)
		}
	}
	for _, p := range streamPeers {
		if !slices.Contains(out, p) && len(out) < n {
			out = append(out, p)
		}
	}
	return out
}

// Consumers returns a stream's consumers sorted by name.
func (f *FSM) Consumers(stream string) []Consumer {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.state.consumersOf(stream)
}

// AllConsumers returns every consumer, sorted by stream and name.
func (f *FSM) AllConsumers() []Consumer {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make([]Consumer, 0, len(f.state.Consumers))
	for _, c := range f.state.Consumers {
		out = append(out, c.clone())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key() < out[j].key() })
	return out
}

// Consumer returns a stream's consumer, if recorded.
func (f *FSM) Consumer(stream, name string) (Consumer, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	c, ok := f.state.Consumers[consumerKey(stream, name)]
	return c.clone(), ok
}

// CheckCreateConsumer reports why c cannot be created now, or nil.
func (f *FSM) CheckCreateConsumer(c Consumer) error {
	f.mu.RLock()
	defer f.mu.RUnlock()
	_, err := f.state.checkCreateConsumer(c)
	return err
}
