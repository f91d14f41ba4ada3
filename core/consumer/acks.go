package consumer

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

const (
	// maxAckBatch bounds the acks in one raft entry.
	maxAckBatch = 8192
	// ackQueue is how many Ack calls may wait for the next entry.
	ackQueue = 1024
)

// AckResult counts what an Ack call did: acks that changed a pending
// message, and acks of messages that were not pending.
type AckResult struct{ Applied, Ignored int }

// Ack proposes acks and waits for them to commit. Concurrent calls are
// gathered into one raft entry, and an entry goes out without waiting
// for the previous one to commit, so consuming at full speed costs no
// round trip per message.
func (l *Leader) Ack(ctx context.Context, acks []Ack) (AckResult, error) {
	for _, a := range acks {
		if err := a.check(); err != nil {
			return AckResult{}, err
		}
	}
	if l.closed() {
		return AckResult{}, ErrClosed
	}
	if !l.isLeader() {
		return AckResult{}, ErrNotLeader
	}
	l.touch()
	if len(acks) == 0 {
		return AckResult{}, nil
	}
	req := ackReq{acks: acks, done: make(chan ackReply, 1)}
	if err := l.acks.enqueue(ctx, req); err != nil {
		return AckResult{}, err
	}
	select {
	case r := <-req.done:
		return r.res, r.err
	case <-ctx.Done():
		return AckResult{}, ctx.Err()
	}
}

// ackReq is one Ack call waiting for its entry.
type ackReq struct {
	acks []Ack
	done chan ackReply
}

type ackReply struct {
	res AckResult
	err error
}

// ackEntry is an ack entry in raft, with the calls it answers.
type ackEntry struct {
	f    raft.ApplyFuture
	reqs []ackReq
}

// acker batches Ack calls into raft entries (like stream.Proposer).
type acker struct {
	l   *Leader
	in  chan ackReq
	out chan ackEntry

	// mu is held for reading while a call is queued, and for writing by
	// close to set closed: no call is queued after close drains the
	// queue, so every one is answered.
	mu     sync.RWMutex
	closed bool
}

func newAcker(l *Leader) *acker {
	a := &acker{l: l, in: make(chan ackReq, ackQueue), out: make(chan ackEntry, 64)}
	l.wg.Add(2)
	go a.batchLoop()
	go a.replyLoop()
	return a
}

func (a *acker) enqueue(ctx context.Context, r ackReq) error {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.closed {
		return ErrClosed
	}
	select {
	case a.in <- r:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-a.l.stop:
		return ErrClosed
	}
}

// close fails what is queued; the leader's stop must be closed first.
func (a *acker) close() {
	a.mu.Lock()
	a.closed = true
	a.mu.Unlock()
	a.failQueued()
}

func (a *acker) failQueued() {
	for {
		select {
		case r := <-a.in:
			r.done <- ackReply{err: ErrClosed}
		default:
			return
		}
	}
}

func (a *acker) batchLoop() {
	defer a.l.wg.Done()
	defer close(a.out)
	for {
		var first ackReq
		select {
		case <-a.l.stop:
			a.failQueued()
			return
		case first = <-a.in:
		}
		reqs, acks := a.collect(first)
		f := a.l.raft.Apply(encodeAck(time.Now().UnixNano(), acks), applyTimeout)
		a.out <- ackEntry{f: f, reqs: reqs}
	}
}

// collect takes first and whatever else is queued, up to maxAckBatch acks.
func (a *acker) collect(first ackReq) ([]ackReq, []Ack) {
	reqs, acks := []ackReq{first}, first.acks
	for len(acks) < maxAckBatch {
		select {
		case r := <-a.in:
			reqs = append(reqs, r)
			acks = append(acks[:len(acks):len(acks)], r.acks...)
		default:
			return reqs, acks
		}
	}
	return reqs, acks
}

func (a *acker) replyLoop() {
	defer a.l.wg.Done()
	for e := range a.out {
		res, err := ackOutcome(e)
		i := 0
		for _, r := range e.reqs {
			if err != nil {
				r.done <- ackReply{err: err}
				continue
			}
			var out AckResult
			for range r.acks {
				if res.applied[i] {
					out.Applied++
				} else {
					out.Ignored++
				}
				i++
			}
			r.done <- ackReply{res: out}
		}
		if err == nil {
			a.l.acked(res.processed)
		}
	}
}

// ackOutcome waits for an ack entry and returns the FSM's answer.
func ackOutcome(e ackEntry) (ackResult, error) {
	if err := e.f.Error(); err != nil {
		return ackResult{}, leadershipError(err)
	}
	n := 0
	for _, r := range e.reqs {
		n += len(r.acks)
	}
	switch res := e.f.Response().(type) {
	case ackResult:
		if len(res.applied) != n {
			return ackResult{}, fmt.Errorf("consumer: ack entry answered %d results for %d acks", len(res.applied), n)
		}
		return res, nil
	case error:
		return ackResult{}, res
	default:
		return ackResult{}, fmt.Errorf("consumer: unexpected ack entry response %T", res)
	}
}
