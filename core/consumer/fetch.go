package consumer

import (
	"context"
	"strconv"
	"time"

	"github.com/stratadb/strata/core/stream"
)

const (
	// MsgSizeHeader carries, on a headers-only delivery, the size of the
	// data left out.
	MsgSizeHeader = "Strata-Msg-Size"
	// DefaultFetchExpires is how long a fetch waits when it names no time.
	DefaultFetchExpires = 30 * time.Second
	// leaderCheck is how often a waiting fetch checks it still leads.
	leaderCheck = 100 * time.Millisecond
)

// FetchRequest is one pull request.
type FetchRequest struct {
	// Batch is the most messages to hand out (less than 1 counts as 1).
	Batch int
	// MaxBytes bounds the bytes handed out (0: no bound); at least one
	// message is always allowed.
	MaxBytes int
	// Expires is how long to wait for messages (0: DefaultFetchExpires).
	Expires time.Duration
	// NoWait returns at once with what is available, maybe nothing.
	NoWait bool
	// Heartbeat: while waiting, heartbeat is called every Heartbeat (0:
	// never).
	Heartbeat time.Duration
}

func (r FetchRequest) withDefaults() FetchRequest {
	r.Batch = max(r.Batch, 1)
	r.MaxBytes = max(r.MaxBytes, 0)
	if r.Expires <= 0 {
		r.Expires = DefaultFetchExpires
	}
	return r
}

// Delivery is one message handed out.
type Delivery struct {
	// Msg is the message; with HeadersOnly its Data is nil and the
	// MsgSizeHeader header holds the data's length.
	Msg         stream.Message
	ConsumerSeq uint64
	// Count says which delivery of the message this is (1: the first).
	Count uint64
	// Pending is the messages left for the consumer after this one
	// (unprocessed; approximate with filters).
	Pending uint64
}

// Fetch hands out up to req.Batch messages: each group of deliveries is
// proposed as one raft entry, and sent only after it committed, with
// what the FSM accepted of it. Fetch returns nil when the batch is full
// or its bytes spent, the request expired, or (NoWait) nothing more is
// available; ctx's error when ctx ends; ErrNotLeader if leadership is
// lost; ErrMaxWaiting when more than Config.MaxWaiting fetches run at
// once; and the error of send or heartbeat.
func (l *Leader) Fetch(ctx context.Context, req FetchRequest, send func([]Delivery) error, heartbeat func() error) error {
	if l.closed() {
		return ErrClosed
	}
	if !l.isLeader() {
		return ErrNotLeader
	}
	l.touch()
	defer l.touch()
	n := l.waiting.Add(1)
	defer l.waiting.Add(-1)
	if limit := l.fsm.Config().MaxWaiting; limit > 0 && n > int64(limit) {
		return ErrMaxWaiting
	}
	f := &fetcher{l: l, req: req.withDefaults(), send: send, heartbeat: heartbeat}
	f.left = f.req.Batch
	return f.run(ctx)
}

// fetcher is one Fetch in progress.
type fetcher struct {
	l         *Leader
	req       FetchRequest
	send      func([]Delivery) error
	heartbeat func() error
	left      int // messages still wanted
	bytes     int // bytes handed out

	expiry <-chan time.Time
	beat   <-chan time.Time
	check  <-chan time.Time
}

func (f *fetcher) run(ctx context.Context) error {
	expiry := time.NewTimer(f.req.Expires)
	defer expiry.Stop()
	check := time.NewTicker(leaderCheck)
	defer check.Stop()
	f.expiry, f.check = expiry.C, check.C
	if f.req.Heartbeat > 0 && f.heartbeat != nil {
		beat := time.NewTicker(f.req.Heartbeat)
		defer beat.Stop()
		f.beat = beat.C
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		appended, changed := f.l.src.Appended(), f.l.fsm.Changed()
		r, err := f.l.deliverOnce(f.budget())
		if err != nil {
			return err
		}
		f.l.acked(r.processed)
		if len(r.deliveries) > 0 {
			if err := f.send(r.deliveries); err != nil {
				return err
			}
			f.left -= len(r.deliveries)
			f.bytes += r.bytes
		}
		switch {
		case f.left <= 0 || r.full || (f.req.MaxBytes > 0 && f.bytes >= f.req.MaxBytes):
			return nil
		case len(r.deliveries) > 0 || r.again:
			if f.expired() {
				return nil
			}
			continue
		case f.req.NoWait:
			return nil
		}
		if done, err := f.wait(ctx, r.nextDue, appended, changed); done || err != nil {
			return err
		}
	}
}

// budget is what the next round may hand out.
func (f *fetcher) budget() budget {
	b := budget{msgs: f.left, first: f.bytes == 0}
	if f.req.MaxBytes > 0 {
		b.bytes = max(f.req.MaxBytes-f.bytes, 1)
	}
	return b
}

func (f *fetcher) expired() bool {
	select {
	case <-f.expiry:
		return true
	default:
		return false
	}
}

// wait waits for something that may make messages available, sending
// heartbeats meanwhile; done says the fetch is over.
func (f *fetcher) wait(ctx context.Context, nextDue int64, appended, changed <-chan struct{}) (bool, error) {
	var due <-chan time.Time
	if nextDue > 0 {
		t := time.NewTimer(max(time.Until(time.Unix(0, nextDue)), 0))
		defer t.Stop()
		due = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return true, ctx.Err()
		case <-f.expiry:
			return true, nil
		case <-f.l.stop:
			return true, ErrClosed
		case <-f.beat:
			if err := f.heartbeat(); err != nil {
				return true, err
			}
		case <-f.check:
			if !f.l.isLeader() {
				return true, ErrNotLeader
			}
		case <-appended:
			return false, nil
		case <-changed:
			return false, nil
		case <-due:
			return false, nil
		}
	}
}

// headersOnly returns m without its data, its size in a header.
func headersOnly(m stream.Message) stream.Message {
	h := make([]stream.Header, len(m.Header), len(m.Header)+1)
	copy(h, m.Header)
	m.Header = append(h, stream.Header{Key: MsgSizeHeader, Value: strconv.Itoa(len(m.Data))})
	m.Data = nil
	return m
}
