package consumer

import (
	"bytes"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/core/stream"
)

// t0 is the leader time of the first test entry, far from the wall clock:
// the FSM goes by entry times only.
const t0 = int64(1_000_000_000_000_000_000)

// testSource is a Source over a stream.MemStore that tests write to.
type testSource struct {
	*stream.MemStore
	mu     sync.Mutex
	ch     chan struct{}
	hidden map[uint64]bool // removed from the stream's interior
	// lagging, when set, is the last sequence this replica holds: one
	// behind its stream (rebuilt from peers, or catching up).
	lagging uint64
}

// State returns the stream's state as far as this replica holds it.
func (s *testSource) State() stream.State {
	st := s.MemStore.State()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lagging != 0 && st.LastSeq > s.lagging {
		st.LastSeq = s.lagging
	}
	return st
}

// lag makes the replica hold the messages through seq only, until
// catchUp.
func (s *testSource) lag(seq uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lagging = seq
}

// catchUp gives the replica back every message and wakes the leader.
func (s *testSource) catchUp() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lagging = 0
	close(s.ch)
	s.ch = make(chan struct{})
}

// Get returns a message unless it is hidden.
func (s *testSource) Get(seq uint64) (stream.Message, error) {
	s.mu.Lock()
	hidden := s.hidden[seq] || (s.lagging != 0 && seq > s.lagging)
	s.mu.Unlock()
	if hidden {
		return stream.Message{}, stream.ErrMsgNotFound
	}
	return s.MemStore.Get(seq)
}

// hide removes seq from the stream's interior, as far as Get tells.
func (s *testSource) hide(seq uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hidden == nil {
		s.hidden = map[uint64]bool{}
	}
	s.hidden[seq] = true
	close(s.ch)
	s.ch = make(chan struct{})
}

func newTestSource() *testSource {
	return &testSource{MemStore: stream.NewMemStore(), ch: make(chan struct{})}
}

// Appended returns a channel closed at the next publish or removal.
func (s *testSource) Appended() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ch
}

func (s *testSource) update(t testing.TB, u stream.Update) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.MemStore.Update(u); err != nil {
		t.Fatal(err)
	}
	close(s.ch)
	s.ch = make(chan struct{})
}

// publish appends one message per subject, at time now (0: the wall
// clock), and returns the sequence of the last.
func (s *testSource) publishAt(t testing.TB, now int64, subjects ...string) uint64 {
	t.Helper()
	if now == 0 {
		now = time.Now().UnixNano()
	}
	next := s.State().LastSeq + 1
	msgs := make([]stream.Message, len(subjects))
	for i, subj := range subjects {
		msgs[i] = stream.Message{Seq: next + uint64(i), Subject: subj, Data: []byte("data of " + subj), Time: now}
	}
	s.update(t, stream.Update{Append: msgs})
	return next + uint64(len(subjects)) - 1
}

func (s *testSource) publish(t testing.TB, subjects ...string) uint64 {
	t.Helper()
	return s.publishAt(t, 0, subjects...)
}

// publishN appends n messages on subj.
func (s *testSource) publishN(t testing.TB, subj string, n int) uint64 {
	t.Helper()
	subjects := make([]string, n)
	for i := range subjects {
		subjects[i] = subj
	}
	return s.publish(t, subjects...)
}

func (s *testSource) removeThrough(t testing.TB, seq uint64) {
	t.Helper()
	s.update(t, stream.Update{RemoveThrough: seq})
}

// fsmLog feeds entries to an FSM, numbering them.
type fsmLog struct {
	t       testing.TB
	f       *FSM
	entries []*raft.Log
}

func newFSMLog(t testing.TB, cfg Config) *fsmLog {
	return &fsmLog{t: t, f: NewFSM(cfg, nil)}
}

func (l *fsmLog) apply(data []byte) any {
	e := &raft.Log{Index: uint64(len(l.entries) + 1), Term: 1, Type: raft.LogCommand, Data: data}
	l.entries = append(l.entries, e)
	return l.f.Apply(e)
}

func (l *fsmLog) noError(res any) {
	l.t.Helper()
	if err, ok := res.(error); ok {
		l.t.Fatalf("entry %d: %v", len(l.entries), err)
	}
}

func (l *fsmLog) start(after uint64, initial ...uint64) {
	l.t.Helper()
	l.noError(l.apply(encodeStart(startEntry{startSeq: after, initial: initial})))
}

// deliver returns the stream sequences the FSM accepted.
func (l *fsmLog) deliver(now int64, seqs ...uint64) []delivered {
	l.t.Helper()
	res, ok := l.apply(encodeDeliver(now, seqs)).(deliverResult)
	if !ok {
		l.t.Fatalf("deliver entry %d answered %T", len(l.entries), res)
	}
	return res.accepted
}

func (l *fsmLog) ack(now int64, acks ...Ack) ackResult {
	l.t.Helper()
	res, ok := l.apply(encodeAck(now, acks)).(ackResult)
	if !ok {
		l.t.Fatalf("ack entry %d answered %T", len(l.entries), res)
	}
	return res
}

func (l *fsmLog) acks(now int64, seqs ...uint64) ackResult {
	l.t.Helper()
	acks := make([]Ack, len(seqs))
	for i, s := range seqs {
		acks[i] = Ack{Seq: s}
	}
	return l.ack(now, acks...)
}

func (l *fsmLog) skip(through uint64) {
	l.t.Helper()
	l.noError(l.apply(encodeSkip(through)))
}

func (l *fsmLog) drop(reason byte, seqs ...uint64) dropResult {
	l.t.Helper()
	res, ok := l.apply(encodeDrop(reason, seqs)).(dropResult)
	if !ok {
		l.t.Fatalf("drop entry %d answered %T", len(l.entries), res)
	}
	return res
}

// seqsOf returns the stream sequences of accepted deliveries.
func seqsOf(ds []delivered) []uint64 {
	out := make([]uint64, len(ds))
	for i, d := range ds {
		out[i] = d.Seq
	}
	return out
}

// pendingSeqs returns the pending stream sequences, ascending.
func pendingSeqs(st State) []uint64 {
	var out []uint64
	for seq := range st.Pending {
		out = append(out, seq)
	}
	slices.Sort(out)
	return out
}

// snapshotOf persists f's snapshot into bytes.
func snapshotOf(t testing.TB, f *FSM) []byte {
	t.Helper()
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	sink := &memSink{}
	if err := snap.Persist(sink); err != nil {
		t.Fatal(err)
	}
	snap.Release()
	return sink.Bytes()
}

type memSink struct{ bytes.Buffer }

func (s *memSink) ID() string    { return "test" }
func (s *memSink) Cancel() error { return nil }
func (s *memSink) Close() error  { return nil }

func restoreFrom(f *FSM, data []byte) error {
	return f.Restore(io.NopCloser(bytes.NewReader(data)))
}

// waitFor polls cond until it holds, failing the test after a deadline.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
