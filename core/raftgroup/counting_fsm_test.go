package raftgroup

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/hashicorp/raft"
)

func TestEntryIDRoundTrip(t *testing.T) {
	e := EncodeEntry(0xdeadbeef, 128)
	if len(e) != 128 {
		t.Fatalf("len %d", len(e))
	}
	if id, err := EntryID(e); err != nil || id != 0xdeadbeef {
		t.Fatalf("EntryID = %x, %v", id, err)
	}
	if len(EncodeEntry(1, 2)) != EntryIDLen {
		t.Fatal("short size not padded to EntryIDLen")
	}
	if _, err := EntryID([]byte{1, 2}); !errors.Is(err, ErrShortEntry) {
		t.Fatalf("short entry: %v", err)
	}
}

func TestFSMStateIsOrderIndependent(t *testing.T) {
	var a, b, c FSMState
	for _, id := range []uint64{1, 2, 3, 4} {
		a.Add(id)
	}
	for _, id := range []uint64{4, 3, 2, 1} {
		b.Add(id)
	}
	for _, id := range []uint64{1, 2, 3, 3} {
		c.Add(id)
	}
	if !a.SameEntries(b) {
		t.Fatalf("order changed state: %+v vs %+v", a, b)
	}
	if a.SameEntries(c) {
		t.Fatalf("different ids gave the same state: %+v", a)
	}
}

func TestCountingFSMApplyBatchSkipsNonCommands(t *testing.T) {
	f := NewCountingFSM()
	resp := f.ApplyBatch([]*raft.Log{
		{Index: 1, Type: raft.LogConfiguration, Data: []byte{0}},
		{Index: 2, Type: raft.LogCommand, Data: EncodeEntry(7, 16)},
		{Index: 3, Type: raft.LogCommand, Data: []byte{1}},
	})
	if len(resp) != 3 || resp[1] != nil || !errors.Is(resp[2].(error), ErrShortEntry) {
		t.Fatalf("responses %v", resp)
	}
	var want FSMState
	want.Add(7)
	if got := f.State(); !got.SameEntries(want) || got.LastIndex != 2 {
		t.Fatalf("state %+v, want %+v at index 2", got, want)
	}
}

type memSink struct {
	bytes.Buffer
	closed, cancelled bool
}

func (s *memSink) ID() string    { return "mem" }
func (s *memSink) Close() error  { s.closed = true; return nil }
func (s *memSink) Cancel() error { s.cancelled = true; return nil }

func TestCountingFSMSnapshotRestore(t *testing.T) {
	f := NewCountingFSM()
	for id := uint64(1); id <= 10; id++ {
		f.Apply(&raft.Log{Index: id + 2, Type: raft.LogCommand, Data: EncodeEntry(id, 8)})
	}
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	f.Apply(&raft.Log{Index: 13, Data: EncodeEntry(11, 8)}) // after the snapshot
	sink := &memSink{}
	if err := snap.Persist(sink); err != nil || !sink.closed {
		t.Fatalf("persist: %v closed=%v", err, sink.closed)
	}
	snap.Release()

	g := NewCountingFSM()
	g.Apply(&raft.Log{Index: 1, Data: EncodeEntry(99, 8)}) // discarded by Restore
	if err := g.Restore(io.NopCloser(bytes.NewReader(sink.Bytes()))); err != nil {
		t.Fatal(err)
	}
	want := expectedState(1, 11)
	if got := g.State(); !got.SameEntries(want) || got.LastIndex != 12 {
		t.Fatalf("restored %+v, want %+v at index 12", got, want)
	}
}

func TestCountingFSMRestoreRejectsGarbage(t *testing.T) {
	good := FSMState{Count: 1}.encode()
	bad := append([]byte{9}, good[1:]...)
	for name, data := range map[string][]byte{"short": good[:5], "version": bad, "empty": nil} {
		f := NewCountingFSM()
		if err := f.Restore(io.NopCloser(bytes.NewReader(data))); !errors.Is(err, ErrBadSnapshot) {
			t.Fatalf("%s: %v", name, err)
		}
	}
}
