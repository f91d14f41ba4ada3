package client

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/stratadb/strata/client/pb"
)

// ConsumeOptions shape a Consume subscription. Zero fields take the
// defaults.
type ConsumeOptions struct {
	// Batch is how many messages one pull request asks for (default 100).
	Batch int
	// Expires is how long one pull request waits (default 30s).
	Expires time.Duration
	// Heartbeat is how often the server sends a heartbeat while a pull
	// waits (default 5s); three missed in a row reopen the pull, on the
	// next server.
	Heartbeat time.Duration
	// AutoAck acks each message after the handler returns, unless the
	// handler acked, naked or termed it.
	AutoAck bool
	// AckInterval is how long acks gather before they are sent as one
	// batch (default 5ms); AckBatch sends them at once when that many
	// gathered (default 100).
	AckInterval time.Duration
	AckBatch    int
	// OnError, when set, is told of the failures the subscription
	// survives: a pull or an ack batch that failed (the subscription
	// pulls again; messages whose acks were lost are delivered again).
	OnError func(error)
}

// Default Consume options.
const (
	DefaultConsumeBatch     = 100
	DefaultConsumeExpires   = 30 * time.Second
	DefaultConsumeHeartbeat = 5 * time.Second
	DefaultAckInterval      = 5 * time.Millisecond
	DefaultAckBatch         = 100
)

func (o *ConsumeOptions) finish() error {
	switch {
	case o.Batch < 0 || o.AckBatch < 0:
		return fmt.Errorf("%w: negative batch", ErrInvalid)
	case o.Expires < 0 || o.Heartbeat < 0 || o.AckInterval < 0:
		return fmt.Errorf("%w: negative duration", ErrInvalid)
	}
	if o.Batch == 0 {
		o.Batch = DefaultConsumeBatch
	}
	if o.Expires == 0 {
		o.Expires = DefaultConsumeExpires
	}
	if o.Heartbeat == 0 {
		o.Heartbeat = DefaultConsumeHeartbeat
	}
	if o.AckInterval == 0 {
		o.AckInterval = DefaultAckInterval
	}
	if o.AckBatch == 0 {
		o.AckBatch = DefaultAckBatch
	}
	if o.Heartbeat >= o.Expires {
		return fmt.Errorf("%w: heartbeat %s not shorter than expires %s", ErrInvalid, o.Heartbeat, o.Expires)
	}
	return nil
}

// Subscription is a running Consume.
type Subscription struct {
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

// Stop ends the subscription: no message is handed to the handler after
// the one it is handling. It does not wait; Wait does. Stop may be called
// from the handler and more than once.
func (s *Subscription) Stop() { s.cancel() }

// Done is closed once the subscription ended and its acks were sent.
func (s *Subscription) Done() <-chan struct{} { return s.done }

// Wait waits until the subscription ended and the acks its handler gave
// were sent. It returns nil when it was stopped (Stop, or the end of the
// context given to Consume), or the error that ended it, such as
// ErrConsumerNotFound once the consumer was deleted.
func (s *Subscription) Wait() error {
	<-s.done
	return s.err
}

// Consume hands every message of a consumer to handler, one at a time in
// delivery order, until Stop or until ctx ends. A goroutine pulls batches
// of opts.Batch messages, asking for the next batch only once the handler
// went through the previous one, so a slow handler slows the pulls rather
// than piling messages up. The acks the handler gives (ConsumerMsg.Ack,
// Nak, InProgress, Term) are gathered and sent in batches. A pull that
// fails, or whose heartbeats stop, is opened again (on the next server);
// the subscription ends on its own only when the consumer or its stream
// is gone.
func (c *Client) Consume(ctx context.Context, stream, consumer string, handler func(*ConsumerMsg), opts ConsumeOptions) (*Subscription, error) {
	if err := checkNames(stream, consumer); err != nil {
		return nil, err
	}
	if handler == nil {
		return nil, fmt.Errorf("%w: nil handler", ErrInvalid)
	}
	if err := opts.finish(); err != nil {
		return nil, err
	}
	info, err := c.ConsumerInfo(ctx, stream, consumer)
	if err != nil {
		return nil, err
	}
	sctx, cancel := context.WithCancel(ctx)
	sub := &Subscription{cancel: cancel, done: make(chan struct{})}
	r := &consumeRun{
		c: c, handler: handler, opts: opts, ackNone: info.Config.AckPolicy == AckNonePolicy,
		req: &pb.FetchRequest{
			Stream: stream, Consumer: consumer, Batch: int32(opts.Batch),
			ExpiresNs: int64(opts.Expires), HeartbeatNs: int64(opts.Heartbeat),
		},
	}
	if !r.ackNone {
		r.acks = newAcker(c, stream, consumer, opts)
	}
	go func() {
		defer close(sub.done)
		defer cancel()
		sub.err = r.run(sctx)
		if r.acks != nil {
			r.acks.close()
		}
	}()
	return sub, nil
}

// consumeRun is the pulling side of a subscription.
type consumeRun struct {
	c       *Client
	req     *pb.FetchRequest
	handler func(*ConsumerMsg)
	opts    ConsumeOptions
	acks    *acker
	ackNone bool
}

// run pulls until ctx ends or an error that no retry mends.
func (r *consumeRun) run(ctx context.Context) error {
	backoff := r.c.opts.RetryBackoff
	for ctx.Err() == nil {
		start := time.Now()
		n, err := r.c.pull(ctx, r.req, func(ms []*ConsumerMsg) error { return r.handle(ctx, ms) })
		switch {
		case ctx.Err() != nil:
			return nil
		case err == nil && (n > 0 || time.Since(start) >= r.opts.Expires/2):
			backoff = r.c.opts.RetryBackoff
			continue
		case err == nil:
			// An empty pull that ended early (say, the leader moved):
			// pull again, but not in a tight loop.
		case permanent(err):
			return err
		case n > 0:
			r.report(fmt.Errorf("pull from consumer %s: %w", r.req.GetConsumer(), err))
			backoff = r.c.opts.RetryBackoff
			continue
		default:
			r.report(fmt.Errorf("pull from consumer %s: %w", r.req.GetConsumer(), err))
		}
		if sleep(ctx, backoff) != nil {
			return nil
		}
		backoff = min(2*backoff, r.c.opts.MaxBackoff)
	}
	return nil
}

// handle gives the messages of one batch to the handler.
func (r *consumeRun) handle(ctx context.Context, ms []*ConsumerMsg) error {
	for _, m := range ms {
		if err := ctx.Err(); err != nil {
			return err // the rest is delivered again after the ack wait
		}
		m.acks, m.ackNone = r.acks, r.ackNone
		r.handler(m)
		if r.opts.AutoAck && !m.isAcked() {
			if err := m.Ack(ctx); err != nil {
				r.report(err)
			}
		}
	}
	return nil
}

func (r *consumeRun) report(err error) {
	if r.opts.OnError != nil {
		r.opts.OnError(err)
	}
}

// permanent reports whether err will not go away by pulling again.
func permanent(err error) bool {
	return errors.Is(err, ErrConsumerNotFound) || errors.Is(err, ErrStreamNotFound) ||
		errors.Is(err, ErrInvalid) || errors.Is(err, ErrClosed)
}

// acker gathers the acks of a subscription's handler and sends them in
// batches: at most interval after the first one, or at once when max
// gathered.
type acker struct {
	c                *Client
	stream, consumer string
	interval         time.Duration
	max              int
	onErr            func(error)

	mu     sync.Mutex
	queue  []Ack
	closed bool
	wake   chan struct{} // the queue got its first ack, or filled up
	stop   chan struct{}
	done   chan struct{}
}

func newAcker(c *Client, stream, consumer string, opts ConsumeOptions) *acker {
	a := &acker{
		c: c, stream: stream, consumer: consumer, interval: opts.AckInterval, max: opts.AckBatch,
		onErr: opts.OnError, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
	go a.run()
	return a
}

// add queues an ack; false when the acker is closed.
func (a *acker) add(ack Ack) bool {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return false
	}
	a.queue = append(a.queue, ack)
	n := len(a.queue)
	a.mu.Unlock()
	if n == 1 || n >= a.max {
		select {
		case a.wake <- struct{}{}:
		default:
		}
	}
	return true
}

func (a *acker) run() {
	defer close(a.done)
	timer := time.NewTimer(a.interval)
	timer.Stop()
	for {
		n := a.pending()
		if n == 0 {
			select {
			case <-a.wake:
				continue
			case <-a.stop:
				a.flush()
				return
			}
		}
		if n < a.max {
			timer.Reset(a.interval)
			select {
			case <-timer.C:
			case <-a.wake:
			case <-a.stop:
				timer.Stop()
				a.flush()
				return
			}
			timer.Stop()
		}
		a.send(a.take())
	}
}

func (a *acker) pending() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.queue)
}

// take removes up to max acks from the queue.
func (a *acker) take() []Ack {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := min(len(a.queue), a.max)
	batch := a.queue[:n:n]
	a.queue = a.queue[n:]
	return batch
}

// flush sends everything queued.
func (a *acker) flush() {
	for batch := a.take(); len(batch) > 0; batch = a.take() {
		a.send(batch)
	}
}

func (a *acker) send(batch []Ack) {
	if len(batch) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), max(a.c.opts.Timeout, fetchGrace))
	defer cancel()
	if _, _, err := a.c.AckBatch(ctx, a.stream, a.consumer, batch); err != nil && a.onErr != nil {
		a.onErr(fmt.Errorf("acks of %d messages of consumer %s: %w", len(batch), a.consumer, err))
	}
}

// close sends what is queued and stops; later acks are sent one by one.
func (a *acker) close() {
	a.mu.Lock()
	a.closed = true
	a.mu.Unlock()
	close(a.stop)
	<-a.done
}
