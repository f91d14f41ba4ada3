package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"google.golang.org/grpc/codes"

	"github.com/stratadb/strata/client/pb"
)

// AsyncPublisher publishes over one PublishStream with up to a window of
// acks outstanding. Publish may be called from several goroutines; acks
// resolve in publish order. It lives until Close or until the context
// given to PublishAsync ends.
type AsyncPublisher struct {
	stream pb.Strata_PublishStreamClient
	cancel context.CancelFunc
	sem    chan struct{} // one slot per outstanding ack
	done   chan struct{} // closed when the stream ended

	mu      sync.Mutex
	nextID  uint64
	pending map[uint64]*AckFuture
	queue   []*pb.PubRequest // published, not yet sent
	wake    chan struct{}    // tells send the queue is not empty
	err     error            // why the stream ended
}

// maxBatch bounds the requests (and acks) in one message on the stream.
const maxBatch = 1024

// AckFuture is the pending ack of one async publish.
type AckFuture struct {
	done chan struct{}
	ack  *PubAck
	err  error
}

// Done is closed when the ack (or the error) arrived.
func (f *AckFuture) Done() <-chan struct{} { return f.done }

// Result returns the ack or the error; call it after Done is closed.
func (f *AckFuture) Result() (*PubAck, error) {
	<-f.done
	return f.ack, f.err
}

// Wait waits for the ack or the error, or until ctx ends.
func (f *AckFuture) Wait(ctx context.Context) (*PubAck, error) {
	select {
	case <-f.done:
		return f.ack, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (f *AckFuture) resolve(ack *PubAck, err error) {
	f.ack, f.err = ack, err
	close(f.done)
}

// PublishAsync opens a publisher with up to window acks outstanding. The
// publisher lives until Close or until ctx ends. It is not retried: when
// its stream breaks, every outstanding ack fails and the publisher is
// done; open a new one.
func (c *Client) PublishAsync(ctx context.Context, window int) (*AsyncPublisher, error) {
	if window < 1 {
		return nil, fmt.Errorf("%w: window %d, want at least 1", ErrInvalid, window)
	}
	sctx, cancel := context.WithCancel(ctx)
	var stream pb.Strata_PublishStreamClient
	// Opening the stream sends nothing, so it is retried like a read; the
	// stream itself lives on sctx, not on an attempt's timeout.
	err := c.call(ctx, true, ErrNoStreamForSubject, func(_ context.Context, api pb.StrataClient) error {
		var err error
		stream, err = api.PublishStream(sctx)
		return err
	})
	if err != nil {
		cancel()
		return nil, err
	}
	p := &AsyncPublisher{
		stream: stream, cancel: cancel,
		sem: make(chan struct{}, window), done: make(chan struct{}),
		pending: make(map[uint64]*AckFuture), wake: make(chan struct{}, 1),
	}
	go p.receive()
	go p.send()
	return p, nil
}

// Publish sends one message and returns its pending ack. It blocks while
// window acks are outstanding. It fails when the publisher is done.
func (p *AsyncPublisher) Publish(subject string, data []byte, opts ...PubOpt) (*AckFuture, error) {
	req, err := pubRequest(subject, data, opts)
	if err != nil {
		return nil, err
	}
	select {
	case p.sem <- struct{}{}:
	case <-p.done:
		return nil, p.err
	}
	f := &AckFuture{done: make(chan struct{})}
	p.mu.Lock()
	if p.err != nil {
		p.mu.Unlock()
		return nil, p.err
	}
	p.nextID++
	req.Id = p.nextID
	p.pending[req.Id] = f
	p.queue = append(p.queue, req)
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
	return f, nil
}

// send sends what Publish queued, as one batch per wake-up: while a batch
// is on the wire, the next one gathers.
func (p *AsyncPublisher) send() {
	for {
		select {
		case <-p.wake:
		case <-p.done:
			return
		}
		for {
			p.mu.Lock()
			n := min(len(p.queue), maxBatch)
			batch := &pb.PubBatch{Msgs: p.queue[:n:n]}
			p.queue = p.queue[n:]
			p.mu.Unlock()
			if n == 0 {
				break
			}
			if err := p.stream.Send(batch); err != nil {
				return // receive sees the stream end and fails what is pending
			}
		}
	}
}

// receive resolves futures as acks arrive, and fails the outstanding ones
// when the stream ends.
func (p *AsyncPublisher) receive() {
	for {
		batch, err := p.stream.Recv()
		if err != nil {
			p.fail(err)
			return
		}
		for _, ack := range batch.GetAcks() {
			p.resolve(ack)
		}
	}
}

func (p *AsyncPublisher) resolve(ack *pb.PubAck) {
	p.mu.Lock()
	f := p.pending[ack.GetId()]
	delete(p.pending, ack.GetId())
	p.mu.Unlock()
	if f == nil {
		return
	}
	if code := codes.Code(ack.GetErrorCode()); code != codes.OK {
		f.resolve(nil, statusError(code, ack.GetError(), ErrNoStreamForSubject))
	} else {
		f.resolve(ackFromPB(ack), nil)
	}
	<-p.sem
}

// fail ends the publisher with err and fails every outstanding future.
func (p *AsyncPublisher) fail(err error) {
	p.mu.Lock()
	if p.err == nil {
		if errors.Is(err, io.EOF) {
			err = fmt.Errorf("%w: publish stream ended by the server", ErrUnavailable)
		}
		p.err = mapError(err, ErrNoStreamForSubject)
	}
	pending := p.pending
	p.pending = nil
	p.mu.Unlock()
	for _, f := range pending {
		f.resolve(nil, p.err)
	}
	close(p.done)
	p.cancel()
}

// Flush waits until every message published so far is acked or failed.
// It returns ctx's error, or the publisher's error when its stream ended.
func (p *AsyncPublisher) Flush(ctx context.Context) error {
	p.mu.Lock()
	futures := make([]*AckFuture, 0, len(p.pending))
	for _, f := range p.pending {
		futures = append(futures, f)
	}
	err := p.err
	p.mu.Unlock()
	for _, f := range futures {
		select {
		case <-f.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err == nil {
		p.mu.Lock()
		err = p.err
		p.mu.Unlock()
	}
	if err != nil && !errors.Is(err, ErrClosed) {
		return err
	}
	return nil
}

// Outstanding returns how many acks are outstanding.
func (p *AsyncPublisher) Outstanding() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.pending)
}

// Close ends the publisher at once: acks still outstanding fail with
// ErrClosed. Call Flush first to wait for them.
func (p *AsyncPublisher) Close() error {
	p.mu.Lock()
	if p.err == nil {
		p.err = fmt.Errorf("publisher %w", ErrClosed)
	}
	p.mu.Unlock()
	p.cancel()
	<-p.done
	return nil
}
