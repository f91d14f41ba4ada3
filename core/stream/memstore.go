package stream

import (
	"fmt"
	"sync"
)

var _ Store = (*MemStore)(nil)

// memBlock is how many messages a MemStore block holds. Messages live in
// blocks rather than one slice, so an append copies at most one block
// (as it grows to memBlock) and removals free whole blocks.
const memBlock = 512

// MemStore is a Store in memory, for streams with memory storage: it
// does not survive a restart, so its stream's replica catches up from
// the Raft log and snapshots instead.
type MemStore struct {
	mu sync.RWMutex
	// blocks hold the messages FirstSeq..LastSeq after skip removed
	// slots of blocks[0]; every block but the last is full.
	blocks  [][]Message
	skip    int
	holes   holes // their slots hold empty messages
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
	if err := checkUpdate(s.state, u); err != nil {
		return err
	}
	arena := make([]byte, 0, dataLen(u.Append))
	for _, m := range u.Append {
		m, arena = copyMessage(m, arena)
		s.push(m)
		s.state = appendState(s.state, m, m.Size())
	}
	s.remove(planRemoval(s.state, s.holes, u))
	if u.Applied != 0 {
		s.applied = u.Applied
	}
	return nil
}

// push appends m to the last block.
func (s *MemStore) push(m Message) {
	if n := len(s.blocks); n == 0 || len(s.blocks[n-1]) == memBlock {
		s.blocks = append(s.blocks, nil) // grows as needed: small streams stay small
	}
	last := &s.blocks[len(s.blocks)-1]
	*last = append(*last, m)
}

// at returns the message with sequence seq, which the store holds.
func (s *MemStore) at(seq uint64) *Message {
	i := int(seq-s.state.FirstSeq) + s.skip
	return &s.blocks[i/memBlock][i%memBlock]
}

// remove drops the messages of r: the prefix through r.through and the
// interior ones.
func (s *MemStore) remove(r removal) {
	old := s.state
	sizes := make([]uint64, len(r.interior))
	for i, seq := range r.interior {
		sizes[i] = s.at(seq).Size()
	}
	st, _ := removeState(old, s.holes, r, sizes, func(first uint64) (int64, uint64, error) {
		bytes := old.Bytes
		for seq := old.FirstSeq; seq < first; seq++ {
			if _, hole := s.holes[seq]; !hole {
				bytes -= s.at(seq).Size()
			}
		}
		return s.at(first).Time, bytes, nil
	})
	s.holes = s.holes.next(r, sizes)
	if st.Msgs == 0 {
		s.blocks, s.skip, s.holes = nil, 0, nil
		s.state = st
		return
	}
	for _, seq := range r.interior {
		*s.at(seq) = Message{} // let the collector have its data
	}
	for seq := old.FirstSeq; seq < st.FirstSeq; seq++ {
		*s.at(seq) = Message{}
	}
	s.skip += int(st.FirstSeq - old.FirstSeq)
	for s.skip >= memBlock {
		s.blocks[0] = nil
		s.blocks = s.blocks[1:]
		s.skip -= memBlock
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
	if _, hole := s.holes[seq]; hole || seq < s.state.FirstSeq || seq > s.state.LastSeq {
		return Message{}, ErrMsgNotFound
	}
	return *s.at(seq), nil
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
	s.blocks = nil
	return nil
}

// Delete is Close.
func (s *MemStore) Delete() error {
	return s.Close()
}

// copyMessage returns m with its own copy of Header, and of Data taken
// from arena's spare capacity, so the caller's buffers (a Raft log
// entry's) are neither kept alive nor shared. It returns the rest of
// arena.
func copyMessage(m Message, arena []byte) (Message, []byte) {
	if m.Data != nil {
		n := len(arena)
		arena = append(arena, m.Data...)
		m.Data = arena[n:len(arena):len(arena)]
	}
	if m.Header != nil {
		m.Header = append(make([]Header, 0, len(m.Header)), m.Header...)
	}
	return m, arena
}

// dataLen is the sum of the lengths of msgs' Data.
func dataLen(msgs []Message) int {
	n := 0
	for _, m := range msgs {
		n += len(m.Data)
	}
	return n
}

// The state arithmetic below is shared by the stores. A store's messages
// are the sequences FirstSeq..LastSeq but for its holes (holes.go).

// checkUpdate returns ErrBadUpdate unless u's appends continue st and it
// removes at most MaxRemove messages one by one.
func checkUpdate(st State, u Update) error {
	if len(u.Remove) > MaxRemove {
		return fmt.Errorf("%w: %d messages removed one by one, at most %d", ErrBadUpdate, len(u.Remove), MaxRemove)
	}
	return checkAppend(st, u.Append)
}

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
