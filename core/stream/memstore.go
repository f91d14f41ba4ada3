package stream

import (
	"fmt"
	"sync"
)

var _ Store = (*MemStore)(nil)

// MemStore is a Store in memory, for streams with memory storage: it
// does not survive a restart, so its stream's replica catches up from
// the Raft log and snapshots instead.
type MemStore struct {
	mu      sync.RWMutex
	msgs    []Message // msgs[i].Seq == state.FirstSeq+i
	state   State
	applied uint64
	closed  bool
}

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore {
	return &MemStore{state: State{FirstSeq: 1}}
}

// Update appends and removes messages under the write lock.
func (s *MemStore) Update(u Update) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrStoreClosed
	}
	if err := checkAppend(s.state, u.Append); err != nil {
		return err
	}
	for _, m := range u.Append {
		s.msgs = append(s.msgs, copyMessage(m))
		s.state = appendState(s.state, m, m.Size())
	}
	s.removeThrough(u.RemoveThrough)
	if u.Applied != 0 {
		s.applied = u.Applied
	}
	return nil
}

// removeThrough drops the messages with sequences through r.
func (s *MemStore) removeThrough(r uint64) {
	held := s.state.FirstSeq // the sequence of s.msgs[0]
	st, _ := trimState(s.state, r, func(first uint64) (int64, uint64, error) {
		bytes := s.state.Bytes
		for _, m := range s.msgs[:first-held] {
			bytes -= m.Size()
		}
		return s.msgs[first-held].Time, bytes, nil
	})
	switch n := st.FirstSeq - held; {
	case st.Msgs == 0:
		clear(s.msgs) // let the collector have the data
		s.msgs = nil
	case n > 0:
		clear(s.msgs[:n])
		s.msgs = s.msgs[n:]
	}
	s.state = st
}

// Get returns message seq. Its Data and Header are shared: the caller
// must not modify them.
func (s *MemStore) Get(seq uint64) (Message, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return Message{}, ErrStoreClosed
	}
	if seq < s.state.FirstSeq || seq > s.state.LastSeq {
		return Message{}, ErrMsgNotFound
	}
	return s.msgs[seq-s.state.FirstSeq], nil
}

// State returns what the store holds.
func (s *MemStore) State() State {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.state
}

// Applied returns the last Update's Applied index that was not 0.
func (s *MemStore) Applied() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.applied
}

// Sync does nothing: a MemStore is never durable.
func (s *MemStore) Sync() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrStoreClosed
	}
	return nil
}

// Close drops the messages: they live only in memory.
func (s *MemStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrStoreClosed
	}
	s.closed = true
	s.msgs = nil
	return nil
}

// Delete is Close.
func (s *MemStore) Delete() error {
	return s.Close()
}

// copyMessage returns m with its own copies of Data and Header, so the
// caller's buffers (a Raft log entry's) are not kept alive or shared.
func copyMessage(m Message) Message {
	if m.Data != nil {
		m.Data = append(make([]byte, 0, len(m.Data)), m.Data...)
	}
	if m.Header != nil {
		m.Header = append(make([]Header, 0, len(m.Header)), m.Header...)
	}
	return m
}

// The state arithmetic below is shared by the stores. A store's messages
// are always the contiguous sequences FirstSeq..LastSeq.

// checkAppend returns ErrBadUpdate unless msgs' sequences continue st.
func checkAppend(st State, msgs []Message) error {
	for i, m := range msgs {
		if want := st.LastSeq + 1 + uint64(i); m.Seq != want {
			return fmt.Errorf("%w: message %d of %d has sequence %d, want %d",
				ErrBadUpdate, i+1, len(msgs), m.Seq, want)
		}
	}
	return nil
}

// appendState returns st with m, of size bytes, appended.
func appendState(st State, m Message, size uint64) State {
	if st.Msgs == 0 {
		st.FirstSeq, st.FirstTime = m.Seq, m.Time
	}
	st.Msgs++
	st.Bytes += size
	st.LastSeq, st.LastTime = m.Seq, m.Time
	return st
}

// trimState returns st without the messages with sequences through r.
// When some remain, rest(first) returns the time of message first, the
// new first one, and the bytes of messages first..LastSeq.
func trimState(st State, r uint64, rest func(first uint64) (int64, uint64, error)) (State, error) {
	if r < st.FirstSeq {
		return st, nil
	}
	if r >= st.LastSeq {
		// Everything goes; past LastSeq the sequences are skipped.
		st.Deleted += st.Msgs
		st.LastSeq = r
		st.FirstSeq = r + 1
		st.Msgs, st.Bytes, st.FirstTime = 0, 0, 0
		return st, nil
	}
	t, bytes, err := rest(r + 1)
	if err != nil {
		return st, err
	}
	gone := r + 1 - st.FirstSeq
	st.Deleted += gone
	st.Msgs -= gone
	st.Bytes = bytes
	st.FirstSeq, st.FirstTime = r+1, t
	return st, nil
}
