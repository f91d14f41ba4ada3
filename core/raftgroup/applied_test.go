package raftgroup

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

var _ CommandIndexer = (*gateFSM)(nil)

// gateFSM is a CountingFSM whose Apply waits for its gate to open, so a
// test can hold an entry between raft handing it to the FSM goroutine
// (raft's AppliedIndex already counts it) and the FSM applying it.
type gateFSM struct {
	*CountingFSM
	gate chan struct{}
	once sync.Once
	seen atomic.Uint64
}

func newGateFSM() *gateFSM { return &gateFSM{CountingFSM: NewCountingFSM(), gate: make(chan struct{})} }

func (f *gateFSM) open() { f.once.Do(func() { close(f.gate) }) }

func (f *gateFSM) Apply(l *raft.Log) any {
	<-f.gate
	defer f.seen.Store(l.Index)
	return f.CountingFSM.Apply(l)
}

func (f *gateFSM) ApplyBatch(logs []*raft.Log) []any {
	<-f.gate
	resp := f.CountingFSM.ApplyBatch(logs)
	for _, l := range logs {
		if l.Type == raft.LogCommand {
			f.seen.Store(l.Index)
		}
	}
	return resp
}

func (f *gateFSM) CommandIndex() uint64 { return f.seen.Load() }

func TestWaitAppliedWaitsForTheFSM(t *testing.T) {
	fsm := newGateFSM()
	c := NewCluster(t, ClusterConfig{Nodes: 1, Groups: []string{"g"}, NewFSM: func() raft.FSM { return fsm }})
	t.Cleanup(fsm.open) // runs before the cluster's Shutdown, which waits for the FSM
	rf := c.Leader("g")
	g := c.Group(0, "g")

	// Only the configuration and the leader's no-op are in the log: the
	// FSM has no command to apply, and WaitApplied proves it from the log.
	if err := waitApplied(t, g, rf.LastIndex(), 5*time.Second); err != nil {
		t.Fatalf("no command in the log: %v", err)
	}

	last := rf.LastIndex() + 1
	f := rf.Apply(EncodeEntry(1, 8), 0)
	deadline := time.Now().Add(10 * time.Second)
	for rf.AppliedIndex() < last {
		if time.Now().After(deadline) {
			t.Fatalf("raft never handed entry %d to the FSM", last)
		}
		time.Sleep(time.Millisecond)
	}
	// Raft counts the entry as applied; the FSM has not applied it.
	if err := waitApplied(t, g, last, 100*time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitApplied with the entry held in the FSM: %v, want deadline exceeded", err)
	}
	fsm.open()
	if err := waitApplied(t, g, last, 5*time.Second); err != nil {
		t.Fatalf("WaitApplied once the FSM applied: %v", err)
	}
	if err := f.Error(); err != nil {
		t.Fatal(err)
	}
	if got := fsm.State().Count; got != 1 {
		t.Fatalf("FSM applied %d entries, want 1", got)
	}
	// A barrier adds an entry the FSM never sees; the command before it
	// is applied, so WaitApplied returns.
	if err := rf.Barrier(5 * time.Second).Error(); err != nil {
		t.Fatal(err)
	}
	if err := waitApplied(t, g, rf.LastIndex(), 5*time.Second); err != nil {
		t.Fatalf("after a barrier: %v", err)
	}
}

func TestWaitAppliedWithoutCommandIndex(t *testing.T) {
	c := MakeCluster(t, 1, []string{"g"}, nil, nil)
	rf := c.Leader("g")
	if err := rf.Apply(EncodeEntry(1, 8), 5*time.Second).Error(); err != nil {
		t.Fatal(err)
	}
	if err := waitApplied(t, c.Group(0, "g"), rf.LastIndex(), 5*time.Second); err != nil {
		t.Fatal(err)
	}
}

func waitApplied(t *testing.T, g *Group, index uint64, d time.Duration) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return g.WaitApplied(ctx, index)
}
