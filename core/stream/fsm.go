package stream

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

var _ raft.FSM = (*FSM)(nil)

// Publish refusals, returned per message in a Result.
var (
	// ErrMaxMsgs refuses a publish to a full stream with discard new.
	ErrMaxMsgs = errors.New("maximum messages exceeded")
	// ErrMaxBytes refuses a publish to a full stream with discard new.
	ErrMaxBytes = errors.New("maximum bytes exceeded")
	// ErrMsgTooLarge refuses a message larger than the stream's max_msg_size.
	ErrMsgTooLarge = errors.New("message size exceeds maximum allowed")
)

// Result is the outcome of one publish: its sequence (the original one
// for a duplicate), or why it was refused.
type Result struct {
	Seq       uint64
	Duplicate bool
	Err       error
}

// PurgeResult is what a purge entry returns.
type PurgeResult struct{ Purged uint64 }

// Catchup fetches the stored messages with sequences in [first, last]
// from a current replica, in order, calling fn for each. Messages the
// replica no longer holds are skipped.
type Catchup func(ctx context.Context, first, last uint64, fn func(Message) error) error

// FSMConfig configures a stream's FSM.
type FSMConfig struct {
	Config  Config
	Store   Store
	Catchup Catchup
	Logger  hclog.Logger
	// CatchupTimeout bounds fetching messages after a snapshot install.
	CatchupTimeout time.Duration
	// OnCorrupt, if set, is called with every ErrStoreCorrupt error a
	// read (Get) ends in, before it is returned.
	OnCorrupt func(error)
}

// FSM applies a stream group's entries to its message store.
type FSM struct {
	mu      sync.Mutex
	cfg     Config
	store   Store
	dupes   *dedupe
	skip    uint64 // entries up to this index are already in the store
	applied uint64
	// seen is the index of the last command entry Apply has finished
	// (applied or skipped), or what the store or a snapshot holds; see
	// CommandIndex.
	seen     atomic.Uint64
	catchup  Catchup
	ctimeout time.Duration
	corrupt  func(error)
	logger   hclog.Logger
	// storeMu guards the store pointer for readers that do not take mu
	// (State, Get): a memory stream's Restore replaces its store.
	storeMu sync.RWMutex
	// appendedMu guards appended, closed and replaced at each store change.
	appendedMu sync.Mutex
	appended   chan struct{}
}

// NewFSM returns the FSM of a stream whose store may already hold state
// from before a restart; entries the store has applied are skipped.
func NewFSM(c FSMConfig) *FSM {
	if c.Logger == nil {
		c.Logger = hclog.NewNullLogger()
	}
	if c.CatchupTimeout == 0 {
		c.CatchupTimeout = time.Minute
	}
	f := &FSM{
		cfg: c.Config, store: c.Store, skip: c.Store.Applied(), applied: c.Store.Applied(),
		catchup: c.Catchup, ctimeout: c.CatchupTimeout, corrupt: c.OnCorrupt, logger: c.Logger,
	}
	f.seen.Store(f.applied)
	f.dupes = rebuildDedupe(f.store, int64(f.cfg.DupeWindow))
	return f
}

// CommandIndex returns the index up to which every command entry has been
// applied to the store (raftgroup.CommandIndexer): reads wait for it, not
// for raft's AppliedIndex, which runs ahead of the FSM.
func (f *FSM) CommandIndex() uint64 { return f.seen.Load() }

// Config returns the stream's current config.
func (f *FSM) Config() Config {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cfg
}

// StoreApplied returns the last Raft index the message store holds.
func (f *FSM) StoreApplied() uint64 { return f.currentStore().Applied() }

// State returns the stream's state on this replica.
func (f *FSM) State() State { return f.currentStore().State() }

// Get returns a stored message.
func (f *FSM) Get(seq uint64) (Message, error) {
	m, err := f.currentStore().Get(seq)
	if f.corrupt != nil && errors.Is(err, ErrStoreCorrupt) {
		f.corrupt(err)
	}
	return m, err
}

func (f *FSM) currentStore() Store {
	f.storeMu.RLock()
	defer f.storeMu.RUnlock()
	return f.store
}

// Apply applies one entry; it returns []Result, PurgeResult or an error.
func (f *FSM) Apply(l *raft.Log) any {
	if l.Type != raft.LogCommand {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	defer f.seen.Store(l.Index)
	if len(l.Data) == 0 {
		return nil
	}
	if l.Index <= f.skip {
		// Already in the store: applied stays what the store holds, so
		// a snapshot taken during the replay describes the store.
		return nil
	}
	f.applied = l.Index
	switch l.Data[0] {
	case opPublish:
		now, batch, err := decodePublish(l.Data[1:])
		if err != nil {
			return fmt.Errorf("stream %s: index %d: %w", f.cfg.Name, l.Index, err)
		}
		return f.applyPublish(now, batch, l.Index)
	case opPurge:
		return f.applyPurge(l.Index)
	case opConfig:
		return f.applyConfig(l.Data[1:], l.Index)
	case opRemove:
		return f.applyRemove(l.Data[1:], l.Index)
	case opRestore, opRestoreAfter:
		return f.applyRestore(l.Data[0], l.Data[1:], l.Index)
	case opRemoveMsgs:
		return f.applyRemoveMsgs(l.Data[1:], l.Index)
	default:
		return fmt.Errorf("stream %s: index %d: %w: op %d", f.cfg.Name, l.Index, errBadEntry, l.Data[0])
	}
}

func (f *FSM) applyPublish(now int64, batch []Publish, index uint64) []Result {
	f.dupes.expire(now - int64(f.cfg.DupeWindow))
	st := f.store.State()
	tally := tally{msgs: st.Msgs, bytes: st.Bytes}
	results := make([]Result, len(batch))
	msgs := make([]Message, 0, len(batch))
	next := st.LastSeq + 1
	for i, p := range batch {
		if seq, ok := f.dupes.lookup(p.MsgID); ok && p.MsgID != "" {
			results[i] = Result{Seq: seq, Duplicate: true}
			continue
		}
		if err := f.admit(p, tally); err != nil {
			results[i] = Result{Err: err}
			continue
		}
		m := Message{Seq: next, Subject: p.Subject, Header: p.Header, Data: p.Data, Time: now, MsgID: p.MsgID}
		msgs = append(msgs, m)
		tally.add(m.Size())
		if p.MsgID != "" {
			f.dupes.add(p.MsgID, next, now)
		}
		results[i] = Result{Seq: next}
		next++
	}
	trim := f.trimThrough(st, msgs, nil)
	start := time.Now()
	f.update(Update{Append: msgs, RemoveThrough: trim, Applied: index})
	ObserveStage(StageStore, start)
	f.dupes.forgetThrough(trim)
	return results
}

// admit refuses a message too large, or one a full discard-new stream
// has no room for.
func (f *FSM) admit(p Publish, t tally) error {
	size := p.size()
	if uint64(len(p.Data)) > f.cfg.maxMsgSize() {
		return ErrMsgTooLarge
	}
	if f.cfg.Discard != DiscardNew {
		return nil
	}
	if f.cfg.MaxMsgs > 0 && t.msgs+1 > uint64(f.cfg.MaxMsgs) {
		return ErrMaxMsgs
	}
	if f.cfg.MaxBytes > 0 && t.bytes+size > uint64(f.cfg.MaxBytes) {
		return ErrMaxBytes
	}
	return nil
}

func (f *FSM) applyPurge(index uint64) PurgeResult {
	st := f.store.State()
	f.update(Update{RemoveThrough: st.LastSeq, Applied: index})
	f.dupes.forgetThrough(st.LastSeq)
	return PurgeResult{Purged: st.Msgs}
}

// update applies u to the store. A store that cannot take an update
// leaves this replica unable to follow the log: like raft on a failed
// log store, the node stops rather than diverge.
func (f *FSM) update(u Update) {
	if err := f.store.Update(u); err != nil {
		f.logger.Error("message store update failed", "stream", f.cfg.Name, "error", err)
		panic(fmt.Sprintf("stream %s: message store update failed: %v", f.cfg.Name, err))
	}
	if len(u.Append) > 0 || u.RemoveThrough > 0 {
		f.notifyAppended()
	}
}

// Appended returns a channel that is closed at the next change to the
// store: messages appended (publish, restore) or removed (purge, limits,
// max_age), or a snapshot installed. Take the channel before reading the
// state it is to announce changes of.
func (f *FSM) Appended() <-chan struct{} {
	f.appendedMu.Lock()
	defer f.appendedMu.Unlock()
	if f.appended == nil {
		f.appended = make(chan struct{})
	}
	return f.appended
}

// notifyAppended wakes the waiters of Appended.
func (f *FSM) notifyAppended() {
	f.appendedMu.Lock()
	defer f.appendedMu.Unlock()
	if f.appended != nil {
		close(f.appended)
		f.appended = nil
	}
}

// Delete removes the stream's stored messages.
func (f *FSM) Delete() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.store.Delete()
}

// CloseStore closes the FSM's store, keeping the data.
func (f *FSM) CloseStore() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.store.Close()
}
