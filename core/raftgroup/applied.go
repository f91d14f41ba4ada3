package raftgroup

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
)

// CommandIndexer is implemented by an FSM that reports how far it has
// applied the log: every LogCommand entry up to CommandIndex is applied.
//
// raft.Raft.AppliedIndex cannot tell: raft advances it when it hands a
// batch of entries to the FSM goroutine, before the FSM has applied them.
// A node that restarts with its FSM behind its log (a message store that
// lost its unsynced tail) re-applies thousands of entries that way.
type CommandIndexer interface {
	CommandIndex() uint64
}

// applied answers whether the FSM has applied the log up to an index.
type applied struct {
	raft *raft.Raft
	logs raft.LogStore
	fsm  CommandIndexer // nil: raft's AppliedIndex is all there is
	// proven is an index up to which every command is known applied,
	// found by reading the entries after CommandIndex from the log.
	proven atomic.Uint64
}

func newApplied(r *raft.Raft, logs raft.LogStore, fsm raft.FSM) *applied {
	ci, _ := fsm.(CommandIndexer)
	return &applied{raft: r, logs: logs, fsm: ci}
}

// WaitApplied waits until the group's FSM has applied every entry up to
// index, or ctx ends. With an FSM that is a CommandIndexer it waits for
// the FSM itself; otherwise for raft's AppliedIndex.
func (g *Group) WaitApplied(ctx context.Context, index uint64) error {
	for !g.applied.through(index) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
	return nil
}

func (a *applied) through(index uint64) bool {
	if a.fsm != nil && a.fsm.CommandIndex() >= index {
		return true
	}
	if a.raft.AppliedIndex() < index {
		return false
	}
	if a.fsm == nil {
		return true
	}
	// Noop, barrier and configuration entries never reach FSM.Apply, so
	// CommandIndex stays behind an index that ends with them.
	from := max(a.fsm.CommandIndex(), a.proven.Load()) + 1
	if from > index {
		return true
	}
	if !a.noCommands(from, index) {
		return false
	}
	a.prove(index)
	return true
}

// noCommands reports whether the log holds no command entry in [from, to].
// Entries compacted away (below FirstIndex) are in a snapshot the FSM
// holds.
func (a *applied) noCommands(from, to uint64) bool {
	first, err := a.logs.FirstIndex()
	if err != nil {
		return false
	}
	var l raft.Log
	for i := max(from, first); i <= to; i++ {
		if err := a.logs.GetLog(i, &l); err != nil {
			return false // compacted while read, or unreadable: the caller tries again
		}
		if l.Type == raft.LogCommand {
			return false
		}
	}
	return true
}

func (a *applied) prove(index uint64) {
	for {
		p := a.proven.Load()
		if p >= index || a.proven.CompareAndSwap(p, index) {
			return
		}
	}
}
