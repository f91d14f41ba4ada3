// Package replica owns the stream replicas a node holds: for every stream
// the meta group places on this server it runs the stream's Raft group on
// the node's storage plugins and its message store, bootstraps it when
// the stream is new, and, where this node leads the group, brings the
// group's limits and membership in line with the meta state. A replica
// whose message store or Raft log is found damaged is stopped and set
// aside (quarantine.go) until the meta state moves it elsewhere.
package replica

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/core/meta"
	"github.com/stratadb/strata/core/raftgroup"
	"github.com/stratadb/strata/core/stream"
)

// The stream FSM tells the group how far it has applied, so reads wait for it.
var _ raftgroup.CommandIndexer = (*stream.FSM)(nil)

// opTimeout bounds one membership change or config entry on a stream group.
const opTimeout = 5 * time.Second

// ErrNotLeader is returned for a write to a replica that does not lead.
var ErrNotLeader = errors.New("not the stream leader")

// Replica is one stream's replica on this node.
type Replica struct {
	mu       sync.Mutex
	stream   meta.Stream
	group    *raftgroup.Group
	fsm      *stream.FSM
	proposer *stream.Proposer
	order    restoreOrder
	logger   hclog.Logger
}

// Name returns the stream's name.
func (r *Replica) Name() string { return r.Stream().Config.Name }

// Stream returns the stream as last recorded by the meta group.
func (r *Replica) Stream() meta.Stream {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stream
}

func (r *Replica) setStream(s meta.Stream) {
	r.mu.Lock()
	r.stream = s
	r.mu.Unlock()
}

// Group returns the stream's Raft group on this node.
func (r *Replica) Group() *raftgroup.Group { return r.group }

// FSM returns the stream's state machine (config, state, messages).
func (r *Replica) FSM() *stream.FSM { return r.fsm }

// IsLeader reports whether this replica leads the stream group.
func (r *Replica) IsLeader() bool { return r.group.Raft().State() == raft.Leader }

// Leader returns the stream leader's server name, or "" if unknown.
func (r *Replica) Leader() string {
	_, id := r.group.Raft().LeaderWithID()
	return string(id)
}

// Publish stores msg through the stream leader, which must be this node.
func (r *Replica) Publish(ctx context.Context, msg stream.Publish) stream.Result {
	return r.proposer.Publish(ctx, msg)
}

// PublishAsync queues msg; done receives its result.
func (r *Replica) PublishAsync(ctx context.Context, msg stream.Publish, done func(stream.Result)) {
	r.proposer.PublishAsync(ctx, msg, done)
}

// Purge removes every message, on the leader.
func (r *Replica) Purge() (uint64, error) {
	if !r.IsLeader() {
		return 0, ErrNotLeader
	}
	return stream.Purge(r.group.Raft(), opTimeout)
}

// StepDown hands the stream's leadership to another replica.
func (r *Replica) StepDown() error {
	if !r.IsLeader() {
		return ErrNotLeader
	}
	return r.group.Raft().LeadershipTransfer().Error()
}

// lead brings, on the leader, the FSM's config and the group's voters in
// line with the meta state, and expires messages past max_age.
func (r *Replica) lead(address func(string) (raft.ServerAddress, bool)) error {
	if !r.IsLeader() {
		return nil
	}
	s := r.Stream()
	if !configEqual(r.fsm.Config(), s.Config) {
		if err := stream.ApplyConfig(r.group.Raft(), s.Config, opTimeout); err != nil {
			return fmt.Errorf("apply config: %w", err)
		}
	}
	if err := r.expire(); err != nil {
		return fmt.Errorf("expire: %w", err)
	}
	return r.alignVoters(s.Peers, address)
}

// expire proposes removing the messages older than max_age.
func (r *Replica) expire() error {
	through := r.fsm.ExpireThrough(time.Now().UnixNano())
	if through == 0 {
		return nil
	}
	return stream.RemoveThrough(r.group.Raft(), through, opTimeout)
}

func configEqual(a, b stream.Config) bool {
	return a.MaxMsgs == b.MaxMsgs && a.MaxBytes == b.MaxBytes && a.MaxAge == b.MaxAge &&
		a.MaxMsgSize == b.MaxMsgSize && a.Discard == b.Discard && a.DupeWindow == b.DupeWindow &&
		a.Replicas == b.Replicas && slices.Equal(a.Subjects, b.Subjects)
}

// retiredAfter is how long a replica no longer placed here waits without
// word from its leader before it counts itself removed from the group.
const retiredAfter = 5 * time.Second

// retired reports whether this server is out of the group: its
// configuration no longer lists it, or its leader has stopped contacting
// it for retiredAfter (a removed server may never learn of its removal).
func (r *Replica) retired(self string) bool { return groupRetired(r.group.Raft(), self) }

// groupRetired reports whether self is out of the group rf runs.
func groupRetired(rf *raft.Raft, self string) bool {
	if rf.State() == raft.Leader {
		return false
	}
	f := rf.GetConfiguration()
	if f.Error() == nil && !slices.ContainsFunc(f.Configuration().Servers, func(s raft.Server) bool {
		return string(s.ID) == self
	}) {
		return true
	}
	last := rf.LastContact()
	return !last.IsZero() && time.Since(last) > retiredAfter
}

// close stops the replica; with remove, its messages are deleted.
func (r *Replica) close(remove bool) error {
	r.proposer.Close()
	err := r.group.Shutdown()
	if remove {
		return errors.Join(err, r.fsm.Delete())
	}
	return errors.Join(err, r.fsm.CloseStore())
}

// ReadBarrier makes a read on the leader linearizable: it confirms with a
// quorum that this replica still leads (a leader cut off from the others
// may not know yet that another was elected) and waits until its store
// has applied every entry in its log when the read began, which covers
// every publish acknowledged so far.
func (r *Replica) ReadBarrier(ctx context.Context) error {
	rf := r.group.Raft()
	last := rf.LastIndex()
	if err := r.group.VerifyLeader(); err != nil {
		return err
	}
	return r.group.WaitApplied(ctx, last)
}
