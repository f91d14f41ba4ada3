package replica

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"time"

	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/core/meta"
	"github.com/stratadb/strata/core/raftgroup"
	"github.com/stratadb/strata/core/stream"
)

var (
	// errClosed refuses starting a replica on a closed set.
	errClosed = errors.New("replica set closed")
	// errNoStreamReplica defers a consumer replica until its stream's
	// replica runs on this node.
	errNoStreamReplica = errors.New("the stream's replica does not run here yet")
)

// installTimeout bounds a snapshot install on a stream group, the
// transport's deadline for it: a follower installing a file stream's
// snapshot fetches the messages it lacks from the leader before it
// answers (at roughly 100k messages/s here), and a deadline shorter than
// that would make it retry the install forever. Dead peers are still
// noticed at once (their connections reset) and slow ones by raft's
// heartbeats, which do not wait on this.
const installTimeout = 2 * time.Minute

// GroupID returns the cluster-port id of a stream's Raft group.
func GroupID(s meta.Stream) string { return "stream:" + s.Group }

// start opens the stream's store, starts its group and, if the stream is
// new and this server is one of its first peers, bootstraps the group.
func (s *Set) start(st meta.Stream) (*Replica, error) {
	s.mu.RLock()
	closed := s.closed
	s.mu.RUnlock()
	if closed {
		return nil, errClosed
	}
	store, err := s.openStore(st)
	if err != nil {
		return nil, err
	}
	r := &Replica{stream: st, logger: s.logger}
	r.fsm = stream.NewFSM(stream.FSMConfig{
		Config: st.Config, Store: store, Logger: s.logger.Named("fsm"), CatchupTimeout: installTimeout,
		OnCorrupt: func(err error) { go s.quarantine(r, err) },
		Catchup: func(ctx context.Context, first, last uint64, fn func(stream.Message) error) error {
			return s.cfg.Catchup(ctx, r.Leader(), st.Config.Name, first, last, fn)
		},
	})
	if err := checkLog(s.cfg.Stores(GroupID(st)), r.fsm.StoreApplied()); err != nil {
		if errors.Is(err, errLogDamaged) {
			s.quarantineAtStart(r, err)
		} else {
			_ = r.fsm.CloseStore()
		}
		return nil, err
	}
	if r.group, err = s.startGroup(st, r.fsm); err != nil {
		_ = r.fsm.CloseStore()
		return nil, err
	}
	r.proposer = stream.NewProposer(r.group.Raft())
	s.mu.Lock()
	s.replicas[st.Config.Name] = r
	s.mu.Unlock()
	s.logger.Info("stream replica started", "stream", st.Config.Name, "group", st.Group, "peers", st.Peers)
	return r, nil
}

func (s *Set) openStore(st meta.Stream) (stream.Store, error) {
	if st.Config.Storage == stream.MemoryStorage {
		return stream.NewMemStore(), nil
	}
	return s.cfg.DB.Open(st.Group)
}

func (s *Set) startGroup(st meta.Stream, fsm *stream.FSM) (*raftgroup.Group, error) {
	stores := s.cfg.Stores(GroupID(st))
	hasState, err := raft.HasExistingState(stores.Log, stores.Stable, stores.Snapshots)
	if err != nil {
		return nil, err
	}
	rc := *s.cfg.Raft
	// A file stream's store outlives restarts: raft need not restore it,
	// but must not start from a snapshot the store has not applied.
	if rc.NoSnapshotRestoreOnStart = st.Config.Storage == stream.FileStorage; rc.NoSnapshotRestoreOnStart {
		var n int
		if stores.Snapshots, n, err = hideUnapplied(stores.Snapshots, fsm.StoreApplied()); err != nil {
			return nil, err
		}
		if n > 0 {
			s.logger.Warn("message store is behind the group's snapshots: starting without them",
				"stream", st.Config.Name, "snapshots", n, "store_applied", fsm.StoreApplied())
		}
	}
	return s.runGroup(GroupID(st), st.Config.Name, stores, fsm, &rc, st.Bootstrap, hasState)
}

// runGroup starts a Raft group on the node's mux and, if it has no state
// and this server is one of the peers it was created with, bootstraps it.
func (s *Set) runGroup(id, name string, stores raftgroup.Stores, fsm raft.FSM, rc *raft.Config,
	bootstrap []string, hasState bool) (*raftgroup.Group, error) {
	cfg := raftgroup.DefaultConfig()
	cfg.LocalID, cfg.GroupID, cfg.Stores, cfg.FSM = raft.ServerID(s.cfg.Self), id, stores, fsm
	cfg.Raft, cfg.Logger = rc, s.logger.Named(name)
	cfg.TransportTimeout = installTimeout
	cfg.Advisories = s.cfg.Advisories
	if !hasState && preferredLeader(id, bootstrap) == s.cfg.Self {
		cfg.FirstElection = rc.LeaderLeaseTimeout
	}
	g, err := raftgroup.Start(s.cfg.Mux, cfg)
	if err != nil {
		return nil, err
	}
	if hasState || !slices.Contains(bootstrap, s.cfg.Self) {
		return g, nil
	}
	servers := make([]raft.Server, 0, len(bootstrap))
	for _, p := range bootstrap {
		addr, ok := s.cfg.Address(p)
		if !ok {
			_ = g.Shutdown()
			return nil, fmt.Errorf("peer %s has no known address", p)
		}
		servers = append(servers, raft.Server{Suffrage: raft.Voter, ID: raft.ServerID(p), Address: addr})
	}
	if err := g.Bootstrap(servers); err != nil {
		_ = g.Shutdown()
		return nil, err
	}
	return g, nil
}

// preferredLeader is the peer of a new group that campaigns first (see
// raftgroup.Config.FirstElection): chosen by the group id's hash, which
// carries a random suffix, so new groups' leaders spread over their peers
// and every peer computes the same one.
func preferredLeader(group string, bootstrap []string) string {
	if len(bootstrap) == 0 {
		return ""
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(group))
	return bootstrap[h.Sum32()%uint32(len(bootstrap))]
}
