package stream

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

const (
	// DefaultMaxBatch bounds the publishes in one Raft entry.
	DefaultMaxBatch = 1024
	// DefaultMaxBatchBytes bounds one Raft entry's size.
	DefaultMaxBatchBytes = 1 << 20
	// applyTimeout bounds enqueuing one entry in raft.
	applyTimeout = 10 * time.Second
)

// ErrProposerClosed is returned for publishes after Close.
var ErrProposerClosed = errors.New("stream: proposer closed")

// pending is a publish waiting for its entry to commit.
type pending struct {
	p      Publish
	done   func(Result)
	queued time.Time
}

// inflight is an applied entry whose future the ack loop waits on.
type inflight struct {
	f       raft.ApplyFuture
	batch   []pending
	applied time.Time // when it went to raft
}

// Proposer turns publishes into Raft entries on the stream leader: it
// puts every publish waiting when the previous entry went out into the
// next one (up to DefaultMaxBatch publishes or DefaultMaxBatchBytes), and
// does not wait for an entry to commit before sending the next.
type Proposer struct {
	raft  *raft.Raft
	in    chan pending
	out   chan inflight
	stop  chan struct{}
	wg    sync.WaitGroup
	close sync.Once
	now   func() int64

	// mu is held for reading while a publish is queued, and for writing
	// by Close to set closed: no publish is queued after Close drains
	// the queue, so every one is answered.
	mu     sync.RWMutex
	closed bool
}

// NewProposer starts a proposer on r.
func NewProposer(r *raft.Raft) *Proposer {
	p := &Proposer{
		raft: r, in: make(chan pending, DefaultMaxBatch), out: make(chan inflight, 64),
		stop: make(chan struct{}), now: func() int64 { return time.Now().UnixNano() },
	}
	p.wg.Add(2)
	go p.batchLoop()
	go p.ackLoop()
	return p
}

// PublishAsync queues msg; done is called once with its result, from
// another goroutine. It blocks while the queue is full or ctx allows.
func (p *Proposer) PublishAsync(ctx context.Context, msg Publish, done func(Result)) {
	if err := p.enqueue(ctx, pending{p: msg, done: done, queued: time.Now()}); err != nil {
		done(Result{Err: err})
	}
}

// enqueue queues w unless the proposer is closed or ctx ends first.
func (p *Proposer) enqueue(ctx context.Context, w pending) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return ErrProposerClosed
	}
	select {
	case p.in <- w:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-p.stop:
		return ErrProposerClosed
	}
}

// Publish stores msg and waits for its result.
func (p *Proposer) Publish(ctx context.Context, msg Publish) Result {
	ch := make(chan Result, 1)
	p.PublishAsync(ctx, msg, func(r Result) { ch <- r })
	select {
	case r := <-ch:
		return r
	case <-ctx.Done():
		return Result{Err: ctx.Err()}
	}
}

// Close stops the proposer; queued publishes fail with ErrProposerClosed
// and entries already in raft report their outcome.
func (p *Proposer) Close() {
	p.close.Do(func() { close(p.stop) }) // wakes publishes waiting for room
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.wg.Wait()
	p.failQueued() // what was queued after batchLoop's last look
}

func (p *Proposer) batchLoop() {
	defer p.wg.Done()
	defer close(p.out)
	for {
		select { // stop first: once closed, nothing queued goes to raft
		case <-p.stop:
			p.failQueued()
			return
		default:
		}
		var first pending
		select {
		case first = <-p.in:
		case <-p.stop:
			p.failQueued()
			return
		}
		batch := p.collect(first)
		msgs := make([]Publish, len(batch))
		for i := range batch {
			msgs[i] = batch[i].p
		}
		ObserveStage(StageQueue, first.queued) // the batch's longest wait
		applied := time.Now()
		f := p.raft.Apply(encodePublish(p.now(), msgs), applyTimeout)
		p.out <- inflight{f: f, batch: batch, applied: applied}
	}
}

// collect takes first and whatever else is queued, within the bounds.
func (p *Proposer) collect(first pending) []pending {
	batch := []pending{first}
	size := first.p.size()
	for len(batch) < DefaultMaxBatch && size < DefaultMaxBatchBytes {
		select {
		case n := <-p.in:
			batch = append(batch, n)
			size += n.p.size()
		default:
			return batch
		}
	}
	return batch
}

func (p *Proposer) failQueued() {
	for {
		select {
		case n := <-p.in:
			n.done(Result{Err: ErrProposerClosed})
		default:
			return
		}
	}
}

func (p *Proposer) ackLoop() {
	defer p.wg.Done()
	for e := range p.out {
		results, err := entryResults(e)
		ObserveStage(StageRaft, e.applied)
		for i, w := range e.batch {
			if err != nil {
				w.done(Result{Err: err})
				continue
			}
			w.done(results[i])
		}
	}
}

func entryResults(e inflight) ([]Result, error) {
	if err := e.f.Error(); err != nil {
		return nil, err
	}
	switch r := e.f.Response().(type) {
	case []Result:
		if len(r) != len(e.batch) {
			return nil, fmt.Errorf("stream: entry answered %d results for %d publishes", len(r), len(e.batch))
		}
		return r, nil
	case error:
		return nil, r
	default:
		return nil, fmt.Errorf("stream: unexpected entry response %T", r)
	}
}

// Purge removes every message through raft and returns how many.
func Purge(r *raft.Raft, timeout time.Duration) (uint64, error) {
	f := r.Apply([]byte{opPurge}, timeout)
	if err := f.Error(); err != nil {
		return 0, err
	}
	switch res := f.Response().(type) {
	case PurgeResult:
		return res.Purged, nil
	case error:
		return 0, res
	default:
		return 0, fmt.Errorf("stream: unexpected purge response %T", res)
	}
}

// ApplyConfig sets the stream's limits through raft.
func ApplyConfig(r *raft.Raft, c Config, timeout time.Duration) error {
	data, err := encodeConfig(c)
	if err != nil {
		return err
	}
	f := r.Apply(data, timeout)
	if err := f.Error(); err != nil {
		return err
	}
	if err, ok := f.Response().(error); ok {
		return err
	}
	return nil
}

// RemoveThrough removes, through raft, the messages up to seq: the
// leader's max_age expiry.
func RemoveThrough(r *raft.Raft, seq uint64, timeout time.Duration) error {
	f := r.Apply(encodeRemove(seq), timeout)
	if err := f.Error(); err != nil {
		return err
	}
	if err, ok := f.Response().(error); ok {
		return err
	}
	return nil
}

// RemoveMsgs proposes removing messages seqs (increasing, at most 4096)
// one by one and waits until the entry is applied.
func RemoveMsgs(r *raft.Raft, seqs []uint64, timeout time.Duration) error {
	f := r.Apply(encodeRemoveMsgs(seqs), timeout)
	if err := f.Error(); err != nil {
		return err
	}
	if err, ok := f.Response().(error); ok {
		return err
	}
	return nil
}
