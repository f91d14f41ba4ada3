package consumer

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/internal/wire"
)

// ErrBadState refuses a restore state that cannot be a consumer's, or
// that is ahead of its stream.
var ErrBadState = errors.New("invalid consumer restore state")

// Clone returns a deep copy of s.
func (s State) Clone() State { return s.clone() }

// Clamp returns s as it stands against a copy of its stream that ends
// at last: deliveries of later messages are forgotten (pending, initial,
// Delivered and AckFloor go no further than last), acks are kept.
func (s State) Clamp(last uint64) State {
	s = s.clone()
	for seq := range s.Pending {
		if seq > last {
			delete(s.Pending, seq)
		}
	}
	for i, seq := range s.Initial {
		if seq > last {
			s.Initial = s.Initial[:i]
			break
		}
	}
	if len(s.Initial) == 0 {
		s.Initial = nil
	}
	s.Delivered.Stream = min(s.Delivered.Stream, last)
	s.AckFloor.Stream = min(s.AckFloor.Stream, last)
	return s
}

// CheckRestore reports why s cannot start a consumer of a stream whose
// last sequence is last: it must be a started state, no further than
// last, with its ack floor, pending and initial messages no further than
// Delivered.
func (s State) CheckRestore(last uint64) error {
	switch {
	case !s.Started:
		return fmt.Errorf("%w: not started", ErrBadState)
	case s.Delivered.Stream > last:
		return fmt.Errorf("%w: delivered stream sequence %d is ahead of the stream's last sequence %d", ErrBadState, s.Delivered.Stream, last)
	case s.AckFloor.Stream > s.Delivered.Stream || s.AckFloor.Consumer > s.Delivered.Consumer:
		return fmt.Errorf("%w: ack floor %+v is ahead of delivered %+v", ErrBadState, s.AckFloor, s.Delivered)
	}
	for seq, p := range s.Pending {
		if seq == 0 || seq > s.Delivered.Stream || p.Count == 0 || p.Consumer > s.Delivered.Consumer {
			return fmt.Errorf("%w: pending sequence %d (%+v) with delivered %+v", ErrBadState, seq, p, s.Delivered)
		}
	}
	for i, seq := range s.Initial {
		if seq == 0 || seq > s.Delivered.Stream || i > 0 && seq <= s.Initial[i-1] {
			return fmt.Errorf("%w: initial sequences %v with delivered stream sequence %d", ErrBadState, s.Initial, s.Delivered.Stream)
		}
	}
	return nil
}

// encodeRestore encodes an opRestore of st taken at time now (Unix ns).
func encodeRestore(now int64, st State) ([]byte, error) {
	data, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("consumer: encode restore state: %w", err)
	}
	b := binary.BigEndian.AppendUint64([]byte{opRestore}, uint64(now))
	return append(b, data...), nil
}

func decodeRestore(b []byte) (int64, State, error) {
	d := wire.NewReader(b, ErrBadEntry)
	now := int64(d.Uint64())
	if err := d.Err(); err != nil {
		return 0, State{}, err
	}
	var st State
	if err := json.Unmarshal(b[8:], &st); err != nil {
		return 0, State{}, fmt.Errorf("%w: restore state: %w", ErrBadEntry, err)
	}
	return now, st, nil
}

// applyRestore replaces a consumer's state that is not started yet with
// a restored one: its pending messages were delivered at now, and are
// delivered again once their ack wait passes, their counts kept.
func (f *FSM) applyRestore(now int64, st State) {
	if f.st.Started {
		return
	}
	st = st.clone()
	if st.Pending == nil {
		st.Pending = map[uint64]Pending{}
	}
	for seq, p := range st.Pending {
		p.Count = max(p.Count, 1)
		p.Time, p.Deadline = now, now+int64(f.cfg.AckWaitFor(p.Count))
		st.Pending[seq] = p
	}
	st.Started = true
	st.setFloor()
	f.st = st
}

// proposeRestore proposes the leader's restore state as the consumer's
// start, once the local stream replica holds every message it delivered;
// until then it proposes nothing (the stream replica is catching up).
// Called with mu held.
func (l *Leader) proposeRestore(name string) error {
	if last := l.src.State().LastSeq; l.restore.Delivered.Stream > last {
		l.logger.Debug("restored consumer waits for its stream replica", "consumer", name,
			"delivered", l.restore.Delivered.Stream, "last_seq", last)
		return nil
	}
	data, err := encodeRestore(time.Now().UnixNano(), *l.restore)
	if err != nil {
		return err
	}
	if _, err := l.propose(data); err != nil {
		return err
	}
	l.logger.Info("consumer state restored", "consumer", name, "delivered", l.restore.Delivered.Stream,
		"ack_floor", l.restore.AckFloor.Stream, "pending", len(l.restore.Pending))
	return nil
}

// started reports whether the FSM has its start position.
func (l *Leader) started() bool {
	var started bool
	l.fsm.view(func(_ Config, st *State) { started = st.Started })
	return started
}

// Export returns, on the group's leader, the consumer's config and a copy
// of its state once every entry committed before the call is applied.
func Export(r *raft.Raft, f *FSM, timeout time.Duration) (Config, State, error) {
	if r.State() != raft.Leader {
		return Config{}, State{}, ErrNotLeader
	}
	if err := r.Barrier(timeout).Error(); err != nil {
		return Config{}, State{}, leadershipError(err)
	}
	var (
		cfg Config
		st  State
	)
	f.view(func(c Config, s *State) { cfg, st = c, s.clone() })
	return cfg, st, nil
}
