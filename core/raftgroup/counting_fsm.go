package raftgroup

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/hashicorp/raft"
)

var (
	_ raft.BatchingFSM = (*CountingFSM)(nil)
	_ raft.FSMSnapshot = fsmSnapshot{}
)

// EntryIDLen is the size of the id prefix of a CountingFSM entry.
const EntryIDLen = 8

const fsmSnapshotVersion byte = 1

var (
	// ErrShortEntry is returned (as the Apply response) for entries shorter than EntryIDLen.
	ErrShortEntry = errors.New("raftgroup: entry shorter than its id")
	// ErrBadSnapshot is returned by CountingFSM.Restore for an unreadable snapshot.
	ErrBadSnapshot = errors.New("raftgroup: bad counting fsm snapshot")
)

// EncodeEntry returns a size-byte entry (at least EntryIDLen) carrying id in
// its first 8 bytes, big endian; the rest is zero padding.
func EncodeEntry(id uint64, size int) []byte {
	b := make([]byte, max(size, EntryIDLen))
	binary.BigEndian.PutUint64(b, id)
	return b
}

// EntryID returns the id carried by an entry made by EncodeEntry.
func EntryID(data []byte) (uint64, error) {
	if len(data) < EntryIDLen {
		return 0, fmt.Errorf("%w: %d bytes", ErrShortEntry, len(data))
	}
	return binary.BigEndian.Uint64(data), nil
}

// FSMState summarises the set of entry ids a CountingFSM has applied. Two
// FSMs that applied the same multiset of ids have equal Count, Sum, Xor and
// MaxID whatever the order; Sum and Xor are over a mixed (splitmix64) id so
// that different sets rarely collide.
type FSMState struct {
	Count     uint64 `json:"count"`
	Sum       uint64 `json:"sum"`
	Xor       uint64 `json:"xor"`
	MaxID     uint64 `json:"max_id"`
	LastIndex uint64 `json:"last_index"` // raft index of the last applied entry
}

// Add records one applied entry id. Callers can build the expected state of
// a run by calling Add on a zero FSMState for every id they applied.
func (s *FSMState) Add(id uint64) {
	h := mix64(id)
	s.Count++
	s.Sum += h
	s.Xor ^= h
	s.MaxID = max(s.MaxID, id)
}

// SameEntries reports whether s and o summarise the same ids (LastIndex is ignored).
func (s FSMState) SameEntries(o FSMState) bool {
	return s.Count == o.Count && s.Sum == o.Sum && s.Xor == o.Xor && s.MaxID == o.MaxID
}

// mix64 is the splitmix64 finaliser.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// CountingFSM is a raft.FSM for tests and benchmarks: each entry carries a
// uint64 id (EncodeEntry) and the FSM keeps an FSMState over the applied ids.
// Its snapshots hold that state, so Restore reproduces it exactly.
type CountingFSM struct {
	mu    sync.Mutex
	state FSMState
}

// NewCountingFSM returns an empty CountingFSM.
func NewCountingFSM() *CountingFSM { return &CountingFSM{} }

// State returns a copy of the current state.
func (f *CountingFSM) State() FSMState {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.state
}

// Apply records the entry's id; it returns nil, or an error for a short entry.
func (f *CountingFSM) Apply(l *raft.Log) any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.applyLocked(l)
}

// ApplyBatch records each command entry's id under one lock.
func (f *CountingFSM) ApplyBatch(logs []*raft.Log) []any {
	resp := make([]any, len(logs))
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, l := range logs {
		if l.Type == raft.LogCommand {
			resp[i] = f.applyLocked(l)
		}
	}
	return resp
}

func (f *CountingFSM) applyLocked(l *raft.Log) any {
	id, err := EntryID(l.Data)
	if err != nil {
		return err
	}
	f.state.Add(id)
	f.state.LastIndex = l.Index
	return nil
}

// Snapshot captures the current state.
func (f *CountingFSM) Snapshot() (raft.FSMSnapshot, error) {
	return fsmSnapshot{state: f.State()}, nil
}

// Restore replaces the state with the one in the snapshot.
func (f *CountingFSM) Restore(rc io.ReadCloser) error {
	defer func() { _ = rc.Close() }()
	st, err := decodeFSMState(rc)
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.state = st
	f.mu.Unlock()
	return nil
}

const fsmSnapshotLen = 1 + 5*8

func (s FSMState) encode() []byte {
	b := make([]byte, 1, fsmSnapshotLen)
	b[0] = fsmSnapshotVersion
	for _, v := range []uint64{s.Count, s.Sum, s.Xor, s.MaxID, s.LastIndex} {
		b = binary.BigEndian.AppendUint64(b, v)
	}
	return b
}

func decodeFSMState(r io.Reader) (FSMState, error) {
	var b [fsmSnapshotLen]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return FSMState{}, fmt.Errorf("%w: %w", ErrBadSnapshot, err)
	}
	if b[0] != fsmSnapshotVersion {
		return FSMState{}, fmt.Errorf("%w: version %d", ErrBadSnapshot, b[0])
	}
	u := func(i int) uint64 { return binary.BigEndian.Uint64(b[1+8*i:]) }
	return FSMState{Count: u(0), Sum: u(1), Xor: u(2), MaxID: u(3), LastIndex: u(4)}, nil
}

type fsmSnapshot struct{ state FSMState }

func (s fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := sink.Write(s.state.encode()); err != nil {
		_ = sink.Cancel()
		return err
	}
	return sink.Close()
}

func (fsmSnapshot) Release() {}
