package replica

import (
	"context"
	"errors"
	"slices"
	"sort"
	"sync"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/core/meta"
	"github.com/stratadb/strata/core/raftgroup"
	"github.com/stratadb/strata/core/stream"
)

// Catchup fetches a stream's messages in [first, last] from server.
type Catchup func(ctx context.Context, server, stream string, first, last uint64, fn func(stream.Message) error) error

// Config is what a Set needs from its node.
type Config struct {
	// Self is this server's name.
	Self string
	Mux  *raftgroup.Mux
	// Stores returns the plugin stores of a Raft group.
	Stores func(group string) raftgroup.Stores
	// DB holds the messages of the node's file streams.
	DB *stream.DB
	// Raft is the base Raft config of stream groups.
	Raft *raft.Config
	// Address returns a server's cluster address, from the meta state.
	Address func(server string) (raft.ServerAddress, bool)
	Catchup Catchup
	// DropGroup, if set, deletes a removed replica's Raft log, stable
	// state and snapshots from the storage plugins.
	DropGroup func(group string) error
	// Advisories, if set, logs and counts the stream groups' Raft events.
	Advisories *raftgroup.Advisories
	Logger     hclog.Logger
}

// Set is the stream replicas a node holds.
type Set struct {
	cfg      Config
	logger   hclog.Logger
	mu       sync.RWMutex
	replicas map[string]*Replica // by stream name
	// consumers are the consumer replicas, by "stream/name".
	consumers map[string]*Consumer
	// quarantined are the replicas stopped because their store is
	// corrupt, by stream name.
	quarantined map[string]quarantined
	closed      bool
}

// NewSet returns an empty set.
func NewSet(cfg Config) *Set {
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	return &Set{cfg: cfg, logger: cfg.Logger, replicas: map[string]*Replica{}, consumers: map[string]*Consumer{},
		quarantined: map[string]quarantined{}}
}

// Get returns the replica of the named stream, if this node holds one.
func (s *Set) Get(name string) (*Replica, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, ok := s.replicas[name]
	return r, ok
}

// All returns the replicas sorted by stream name.
func (s *Set) All() []*Replica {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*Replica, 0, len(s.replicas))
	for _, r := range s.replicas {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out
}

// Reconcile starts the replicas streams place on this node, stops (and
// deletes) those no longer placed here, and, where this node leads,
// aligns limits and voters. Errors are logged; the next call retries.
func (s *Set) Reconcile(streams []meta.Stream) {
	want := map[string]meta.Stream{}
	all := map[string]meta.Stream{}
	for _, st := range streams {
		all[st.Config.Name] = st
		if slices.Contains(st.Peers, s.cfg.Self) {
			want[st.Config.Name] = st
		}
	}
	s.stopUnwanted(want, all)
	s.releaseQuarantined(want)
	for name, st := range want {
		if s.Quarantined(name) {
			continue
		}
		r, ok := s.Get(name)
		if !ok {
			var err error
			if r, err = s.start(st); err != nil {
				s.logger.Error("starting stream replica failed", "stream", name, "error", err)
				continue
			}
		}
		r.setStream(st)
		if err := r.lead(s.cfg.Address); err != nil {
			s.logger.Warn("aligning stream group failed; will retry", "stream", name, "error", err)
		}
	}
}

// stopUnwanted removes the replicas of deleted streams at once. A replica
// placed elsewhere by a new peer set keeps serving until the stream's
// leader has taken it out of the group: stopping sooner could leave the
// leader short of a quorum to commit the removal.
func (s *Set) stopUnwanted(want, all map[string]meta.Stream) {
	for _, r := range s.All() {
		if st, ok := want[r.Name()]; ok && st.Group == r.Stream().Group {
			continue
		}
		if st, ok := all[r.Name()]; ok && st.Group == r.Stream().Group {
			r.setStream(st)
			if r.IsLeader() {
				_ = r.lead(s.cfg.Address) // removes this server last
			}
			if !r.retired(s.cfg.Self) {
				continue
			}
		}
		s.remove(r)
	}
}

func (s *Set) remove(r *Replica) {
	for _, c := range s.Consumers() {
		if c.stream == r {
			s.removeConsumer(c)
		}
	}
	s.mu.Lock()
	delete(s.replicas, r.Name())
	s.mu.Unlock()
	s.logger.Info("removing stream replica", "stream", r.Name(), "group", r.Stream().Group)
	if err := r.close(true); err != nil {
		s.logger.Warn("removing stream replica", "stream", r.Name(), "error", err)
	}
	if s.cfg.DropGroup != nil {
		if err := s.cfg.DropGroup(GroupID(r.Stream())); err != nil {
			s.logger.Warn("deleting the removed replica's Raft data", "stream", r.Name(), "error", err)
		}
	}
}

// Close stops every replica, keeping their data.
func (s *Set) Close() error {
	s.mu.Lock()
	s.closed = true
	rs, cs, qs := s.replicas, s.consumers, s.quarantined
	s.replicas, s.consumers, s.quarantined = map[string]*Replica{}, map[string]*Consumer{}, map[string]quarantined{}
	s.mu.Unlock()
	err := closeQuarantined(qs)
	for _, c := range cs {
		err = errors.Join(err, c.close())
	}
	for _, r := range rs {
		err = errors.Join(err, r.close(false))
	}
	return err
}
