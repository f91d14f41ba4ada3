package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/stratadb/strata/client/pb"
)

// FetchOptions shape one pull request.
type FetchOptions struct {
	// Batch is how many messages at most the request returns (0: 1).
	Batch int
	// MaxBytes bounds the bytes of the messages returned (0: no bound).
	MaxBytes int
	// Expires is how long the server waits to fill the batch (0: its
	// default, 30s).
	Expires time.Duration
	// NoWait makes the server answer at once with the messages there are.
	NoWait bool
	// Heartbeat makes the server send a heartbeat this often while it
	// waits. When three in a row do not arrive, the request is given up:
	// before any message arrived it is opened again, on the next server.
	Heartbeat time.Duration
}

// defaultExpires is the server's wait for a pull request without Expires.
const defaultExpires = 30 * time.Second

// fetchGrace is how much longer than its expiry the client waits for a
// pull request to end, at least.
const fetchGrace = 5 * time.Second

// missedHeartbeats is how many heartbeat intervals without a word from
// the server give a pull request up.
const missedHeartbeats = 3

func (o FetchOptions) request(stream, consumer string) (*pb.FetchRequest, error) {
	switch {
	case o.Batch < 0:
		return nil, fmt.Errorf("%w: batch %d", ErrInvalid, o.Batch)
	case o.MaxBytes < 0:
		return nil, fmt.Errorf("%w: max bytes %d", ErrInvalid, o.MaxBytes)
	case o.Expires < 0 || o.Heartbeat < 0:
		return nil, fmt.Errorf("%w: negative duration", ErrInvalid)
	}
	return &pb.FetchRequest{
		Stream: stream, Consumer: consumer, Batch: int32(max(o.Batch, 1)), MaxBytes: int64(o.MaxBytes),
		ExpiresNs: int64(o.Expires), NoWait: o.NoWait, HeartbeatNs: int64(o.Heartbeat),
	}, nil
}

// ConsumerMsg is a message delivered by a consumer. Ack, Nak, InProgress
// and Term acknowledge it; a message that is not acked is delivered again
// after the consumer's ack wait.
type ConsumerMsg struct {
	Msg
	// ConsumerSeq is the delivery's sequence in the consumer.
	ConsumerSeq uint64 `json:"consumer_seq"`
	// Delivered is which delivery of the message this is (1 for the first).
	Delivered uint64 `json:"delivered"`
	// Pending counts the messages left for the consumer after this one.
	Pending uint64 `json:"pending"`

	c                *Client
	stream, consumer string
	acks             *acker // Consume's batching acker; nil: each ack is a call
	ackNone          bool   // the consumer expects no acks
	acked            uint32 // 1 once acked, naked or termed; atomic, so that the type stays copyable
}

// Stream is the name of the stream the message is in.
func (m *ConsumerMsg) Stream() string { return m.stream }

// Consumer is the name of the consumer that delivered the message.
func (m *ConsumerMsg) Consumer() string { return m.consumer }

// Ack acknowledges the message: the consumer is done with it.
func (m *ConsumerMsg) Ack(ctx context.Context) error {
	return m.ack(ctx, Ack{Seq: m.Seq, Kind: AckKindAck}, true)
}

// Nak asks for the message again, after delay (0: at once).
func (m *ConsumerMsg) Nak(ctx context.Context, delay time.Duration) error {
	return m.ack(ctx, Ack{Seq: m.Seq, Kind: AckKindNak, Delay: delay}, true)
}

// InProgress tells that the message is still being worked on: its ack
// wait starts again. It may be sent more than once.
func (m *ConsumerMsg) InProgress(ctx context.Context) error {
	return m.ack(ctx, Ack{Seq: m.Seq, Kind: AckKindProgress}, false)
}

// Term tells never to deliver the message again.
func (m *ConsumerMsg) Term(ctx context.Context) error {
	return m.ack(ctx, Ack{Seq: m.Seq, Kind: AckKindTerm}, true)
}

// ack sends a, or queues it with the subscription's acker. Ack, Nak and
// Term are final: a second one is an error.
func (m *ConsumerMsg) ack(ctx context.Context, a Ack, final bool) error {
	if m.c == nil {
		return fmt.Errorf("%w: message %d was not delivered by a consumer", ErrInvalid, m.Seq)
	}
	if final && !atomic.CompareAndSwapUint32(&m.acked, 0, 1) || !final && m.isAcked() {
		return fmt.Errorf("%w: message %d was already acknowledged", ErrInvalid, m.Seq)
	}
	if m.ackNone || m.acks != nil && m.acks.add(a) {
		return nil
	}
	if _, _, err := m.c.AckBatch(ctx, m.stream, m.consumer, []Ack{a}); err != nil {
		if final {
			atomic.StoreUint32(&m.acked, 0)
		}
		return err
	}
	return nil
}

func (m *ConsumerMsg) isAcked() bool { return atomic.LoadUint32(&m.acked) == 1 }

// Fetch pulls up to opts.Batch messages from a consumer and returns them
// once the batch is full, the request expired or, with NoWait, at once;
// no message within the wait is an empty result, not an error. A request
// that fails as Unavailable before any message arrived is retried on the
// next server like other calls; after messages arrived, Fetch returns
// them (a message not acked is delivered again anyway). The client's
// per-call timeout does not apply; ctx bounds the wait, and the wait is
// at most opts.Expires and a few seconds more.
func (c *Client) Fetch(ctx context.Context, stream, consumer string, opts FetchOptions) ([]*ConsumerMsg, error) {
	if err := checkNames(stream, consumer); err != nil {
		return nil, err
	}
	req, err := opts.request(stream, consumer)
	if err != nil {
		return nil, err
	}
	var out []*ConsumerMsg
	_, err = c.pull(ctx, req, func(ms []*ConsumerMsg) error {
		out = append(out, ms...)
		return nil
	})
	if err != nil && len(out) == 0 {
		return nil, err
	}
	return out, nil
}

// pull runs one pull request, calling deliver with each batch of messages
// as it arrives, and returns how many arrived. While none did, an
// Unavailable failure is retried on the next server.
func (c *Client) pull(ctx context.Context, req *pb.FetchRequest, deliver func([]*ConsumerMsg) error) (int, error) {
	backoff := c.opts.RetryBackoff
	for attempt := 0; ; attempt++ {
		n, err := c.pullOnce(ctx, req, deliver)
		if err == nil || n > 0 || status.Code(err) != codes.Unavailable || attempt >= c.opts.MaxRetries {
			return n, mapError(err, ErrConsumerNotFound)
		}
		if werr := sleep(ctx, backoff); werr != nil {
			return n, fmt.Errorf("%w (gave up retrying: %w)", mapError(err, ErrConsumerNotFound), werr)
		}
		backoff = min(2*backoff, c.opts.MaxBackoff)
	}
}

// pullOnce runs a pull request on the current server. It gives the
// request up when missedHeartbeats heartbeats did not arrive, as an
// Unavailable error, or when it outlasts pullBound; the time deliver
// takes counts for neither. After an Unavailable error the next call goes
// to the next server.
func (c *Client) pullOnce(ctx context.Context, req *pb.FetchRequest, deliver func([]*ConsumerMsg) error) (int, error) {
	api, idx, err := c.api()
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var missed, late atomic.Bool
	bound := newClock(c.pullBound(req), func() {
		late.Store(true)
		cancel()
	})
	defer bound.stop()
	var watchdog *clock
	silence := missedHeartbeats * time.Duration(req.GetHeartbeatNs())
	if silence > 0 {
		watchdog = newClock(silence, func() {
			missed.Store(true)
			cancel()
		})
		defer watchdog.stop()
	}
	n := 0
	fs, err := api.ConsumerFetch(ctx, req)
	for err == nil {
		var b *pb.FetchBatch
		if b, err = fs.Recv(); err != nil {
			break
		}
		if len(b.GetMsgs()) > 0 {
			n += len(b.GetMsgs())
			bound.pause()
			watchdog.pause()
			if err = deliver(c.consumerMsgs(req, b.GetMsgs())); err != nil {
				return n, err
			}
			bound.resume()
		}
		if b.GetDone() {
			return n, nil
		}
		watchdog.restart()
	}
	switch {
	case errors.Is(err, io.EOF):
		return n, nil
	case missed.Load():
		err = status.Errorf(codes.Unavailable, "no heartbeat from the server in %s", silence)
	case late.Load():
		err = status.Errorf(codes.DeadlineExceeded, "pull request not ended by the server within %s", c.pullBound(req))
	}
	if status.Code(err) == codes.Unavailable {
		c.next(idx)
	}
	return n, err
}

// clock calls f after d of running time; pause and resume stop and
// restart it, restart starts a new d. A nil clock does nothing.
type clock struct {
	t       *time.Timer
	d       time.Duration
	left    time.Duration
	armed   time.Time
	running bool
	fired   bool
}

func newClock(d time.Duration, f func()) *clock {
	return &clock{t: time.AfterFunc(d, f), d: d, left: d, armed: time.Now(), running: true}
}

func (k *clock) pause() {
	if k == nil || !k.running {
		return
	}
	k.running = false
	if !k.t.Stop() {
		k.fired = true
		return
	}
	k.left -= time.Since(k.armed)
}

func (k *clock) resume() {
	if k == nil || k.running || k.fired {
		return
	}
	k.running, k.armed = true, time.Now()
	k.t.Reset(max(k.left, 0))
}

func (k *clock) restart() {
	if k == nil {
		return
	}
	k.pause()
	k.left = k.d
	k.resume()
}

func (k *clock) stop() {
	if k != nil {
		k.t.Stop()
	}
}

// pullBound is the longest a pull request may take: its wait and a grace.
func (c *Client) pullBound(req *pb.FetchRequest) time.Duration {
	grace := max(c.opts.Timeout, fetchGrace)
	if req.GetNoWait() {
		return grace
	}
	wait := time.Duration(req.GetExpiresNs())
	if wait <= 0 {
		wait = defaultExpires
	}
	return wait + grace
}

func (c *Client) consumerMsgs(req *pb.FetchRequest, ms []*pb.ConsumerMsg) []*ConsumerMsg {
	out := make([]*ConsumerMsg, len(ms))
	for i, m := range ms {
		out[i] = &ConsumerMsg{
			Msg: *msgFromPB(m.GetMsg()), ConsumerSeq: m.GetConsumerSeq(), Delivered: m.GetDelivered(),
			Pending: m.GetPending(), c: c, stream: req.GetStream(), consumer: req.GetConsumer(),
		}
	}
	return out
}
