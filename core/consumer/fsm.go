package consumer

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

var _ raft.FSM = (*FSM)(nil)

// FSM is a consumer's replicated state machine: its config and State,
// in memory, rebuilt by raft from a snapshot and the log after it.
type FSM struct {
	mu     sync.Mutex
	cfg    Config
	st     State
	logger hclog.Logger

	// changedMu guards changed, closed and replaced after every entry.
	changedMu sync.Mutex
	changed   chan struct{}
}

// NewFSM returns the FSM of a consumer with config cfg and no state yet.
func NewFSM(cfg Config, logger hclog.Logger) *FSM {
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	return &FSM{cfg: cfg, st: State{Pending: map[uint64]Pending{}}, logger: logger}
}

// Config returns the consumer's current config.
func (f *FSM) Config() Config {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cfg
}

// State returns a deep copy of the consumer's state.
func (f *FSM) State() State {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st.clone()
}

// view calls fn with the config and the state under the FSM's lock; fn
// must not keep st or change it.
func (f *FSM) view(fn func(cfg Config, st *State)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f.cfg, &f.st)
}

// Changed returns a channel closed after the next applied entry or
// restored snapshot. Take it before reading the state whose change it
// is to announce.
func (f *FSM) Changed() <-chan struct{} {
	f.changedMu.Lock()
	defer f.changedMu.Unlock()
	if f.changed == nil {
		f.changed = make(chan struct{})
	}
	return f.changed
}

func (f *FSM) notifyChanged() {
	f.changedMu.Lock()
	defer f.changedMu.Unlock()
	if f.changed != nil {
		close(f.changed)
		f.changed = nil
	}
}

// Apply applies one entry. It returns a deliverResult for opDeliver, an
// ackResult for opAck, a dropResult for opDrop, an error for an entry it
// cannot decode or a config it refuses, and nil otherwise.
func (f *FSM) Apply(l *raft.Log) any {
	if l.Type != raft.LogCommand || len(l.Data) == 0 {
		return nil
	}
	f.mu.Lock()
	res := f.apply(l.Data[0], l.Data[1:])
	name := f.cfg.Name
	f.mu.Unlock()
	f.notifyChanged()
	if err, ok := res.(error); ok {
		f.logger.Debug("entry refused", "consumer", name, "index", l.Index, "error", err)
		return fmt.Errorf("consumer %s: index %d: %w", name, l.Index, err)
	}
	return res
}

// apply decodes and applies one entry under mu.
func (f *FSM) apply(op byte, data []byte) any {
	switch op {
	case opStart:
		e, err := decodeStart(data)
		if err != nil {
			return err
		}
		f.applyStart(e)
		return nil
	case opDeliver:
		now, seqs, err := decodeDeliver(data)
		if err != nil {
			return err
		}
		return f.applyDeliver(now, seqs)
	case opAck:
		now, acks, err := decodeAck(data)
		if err != nil {
			return err
		}
		return f.applyAck(now, acks)
	default:
		return f.applyRemoval(op, data)
	}
}

// applyRemoval applies the entries that remove messages, and edits.
func (f *FSM) applyRemoval(op byte, data []byte) any {
	switch op {
	case opSkip:
		through, err := decodeSkip(data)
		if err != nil {
			return err
		}
		f.applySkip(through)
		return nil
	case opDrop:
		reason, seqs, err := decodeDrop(data)
		if err != nil {
			return err
		}
		return f.applyDrop(reason, seqs)
	case opConfig:
		c, err := decodeConfig(data)
		if err != nil {
			return err
		}
		return f.applyConfig(c)
	case opRestore:
		now, st, err := decodeRestore(data)
		if err != nil {
			return err
		}
		f.applyRestore(now, st)
		return nil
	}
	return fmt.Errorf("%w: op %d", ErrBadEntry, op)
}

// snapshotData is a consumer snapshot: config and state, never messages.
type snapshotData struct {
	Config Config `json:"config"`
	State  State  `json:"state"`
}

// Snapshot captures the config and a copy of the state.
func (f *FSM) Snapshot() (raft.FSMSnapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return &snapshot{data: snapshotData{Config: f.cfg, State: f.st.clone()}}, nil
}

// Restore replaces the config and state with a snapshot's.
func (f *FSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	var d snapshotData
	if err := json.NewDecoder(bufio.NewReader(rc)).Decode(&d); err != nil {
		return fmt.Errorf("consumer: restore: %w", err)
	}
	if d.State.Pending == nil {
		d.State.Pending = map[uint64]Pending{}
	}
	f.mu.Lock()
	f.cfg, f.st = d.Config, d.State
	f.mu.Unlock()
	f.notifyChanged()
	return nil
}

type snapshot struct{ data snapshotData }

func (s *snapshot) Persist(sink raft.SnapshotSink) error {
	w := bufio.NewWriter(sink)
	err := json.NewEncoder(w).Encode(s.data)
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("consumer: persist snapshot: %w", err)
	}
	return sink.Close()
}

func (s *snapshot) Release() {}

// ApplyConfig proposes a consumer edit and waits for it; the FSM takes
// cfg only if f.Config().CheckUpdate(cfg) == nil, and answers its error
// otherwise.
func ApplyConfig(r *raft.Raft, cfg Config, timeout time.Duration) error {
	data, err := encodeConfig(cfg)
	if err != nil {
		return err
	}
	fut := r.Apply(data, timeout)
	if err := fut.Error(); err != nil {
		return leadershipError(err)
	}
	if err, ok := fut.Response().(error); ok {
		return err
	}
	return nil
}
