package main

import (
	"context"
	"crypto/rand"
	"slices"
	"sync"
	"time"

	"github.com/stratadb/strata/client"
)

// benchResult is a bench run's outcome, printed as text or as JSON.
type benchResult struct {
	Subject     string        `json:"subject"`
	Stream      string        `json:"stream"`
	Mode        string        `json:"mode"`
	Msgs        int           `json:"msgs"`
	Size        int           `json:"size"`
	Duration    time.Duration `json:"duration_ns"`
	MsgsPerSec  float64       `json:"msgs_per_sec"`
	BytesPerSec float64       `json:"bytes_per_sec"`
	Latency     latencyStats  `json:"latency"`
	Clients     []benchClient `json:"clients"`
}

// benchClient is one publisher's share of a run.
type benchClient struct {
	Msgs        int           `json:"msgs"`
	Duration    time.Duration `json:"duration_ns"`
	MsgsPerSec  float64       `json:"msgs_per_sec"`
	BytesPerSec float64       `json:"bytes_per_sec"`

	start, end time.Time
	latencies  []time.Duration
}

// latencyStats are percentiles of the time from publish to ack.
type latencyStats struct {
	P50 time.Duration `json:"p50_ns"`
	P90 time.Duration `json:"p90_ns"`
	P99 time.Duration `json:"p99_ns"`
	Max time.Duration `json:"max_ns"`
}

// runClients publishes o.msgs messages from o.clients connections, each
// starting at a different address, and gathers the results.
func (o *benchPubOptions) runClients(ctx context.Context, addrs []string, progress func(int)) (*benchResult, error) {
	payload := make([]byte, o.size)
	rand.Read(payload)
	conns, closeAll, err := o.conn.connectClients(ctx, addrs, o.clients)
	if err != nil {
		return nil, err
	}
	defer closeAll()
	results := make([]benchClient, o.clients)
	err = runEach(ctx, len(conns), func(ctx context.Context, i int) error {
		publish := o.publishAsync
		if o.sync {
			publish = o.publishSync
		}
		var err error
		results[i], err = publish(ctx, conns[i], share(o.msgs, o.clients, i), payload, progress)
		return err
	})
	if err != nil {
		return nil, err
	}
	return o.summarize(results), nil
}

// connectClients opens n connections, the i-th starting at addrs[i%len],
// and returns them with a func that closes them all.
func (o *connOptions) connectClients(ctx context.Context, addrs []string, n int) ([]*client.Client, func(), error) {
	conns := make([]*client.Client, 0, n)
	closeAll := func() {
		for _, c := range conns {
			c.Close()
		}
	}
	for i := range n {
		cctx, cancel := o.withTimeout(ctx)
		c, err := o.connectTo(cctx, rotate(addrs, i))
		cancel()
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		conns = append(conns, c)
	}
	return conns, closeAll, nil
}

// runEach runs fn(ctx, i) for i in [0, n) at once and waits for them all.
// The first error cancels the others' ctx and is returned: it is the
// cause, the others fail because of it.
func runEach(ctx context.Context, n int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for i := range n {
		wg.Go(func() {
			if err := fn(ctx, i); err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				cancel()
			}
		})
	}
	wg.Wait()
	return firstErr
}

// share is client i's part of msgs split among n clients.
func share(msgs, n, i int) int {
	k := msgs / n
	if i < msgs%n {
		k++
	}
	return k
}

// publishSync publishes n messages, each after the previous one's ack.
func (o *benchPubOptions) publishSync(ctx context.Context, c *client.Client, n int, payload []byte, progress func(int)) (benchClient, error) {
	r := benchClient{Msgs: n, latencies: make([]time.Duration, 0, n), start: time.Now()}
	for range n {
		t0 := time.Now()
		if _, err := c.Publish(ctx, o.subject, payload); err != nil {
			return r, err
		}
		r.latencies = append(r.latencies, time.Since(t0))
		progress(1)
	}
	r.end = time.Now()
	return r, nil
}

// publishAsync publishes n messages with up to o.batch acks outstanding;
// a message's latency runs from its publish to its ack.
func (o *benchPubOptions) publishAsync(ctx context.Context, c *client.Client, n int, payload []byte, progress func(int)) (benchClient, error) {
	r := benchClient{Msgs: n, latencies: make([]time.Duration, 0, n), start: time.Now()}
	p, err := c.PublishAsync(ctx, o.batch)
	if err != nil {
		return r, err
	}
	defer p.Close()
	type sent struct {
		f  *client.AckFuture
		at time.Time
	}
	queue := make(chan sent, o.batch+1)
	acked := make(chan error, 1)
	go func() {
		var first error
		for s := range queue {
			if _, err := s.f.Wait(ctx); err != nil && first == nil {
				first = err
			}
			r.latencies = append(r.latencies, time.Since(s.at))
			progress(1)
		}
		acked <- first
	}()
	sentN := 0
	for ; sentN < n && !closed(o.until); sentN++ {
		at := time.Now()
		f, perr := p.Publish(o.subject, payload)
		if perr != nil {
			err = perr
			break
		}
		queue <- sent{f, at}
	}
	close(queue)
	if aerr := <-acked; err == nil {
		err = aerr
	}
	r.Msgs, r.end = sentN, time.Now()
	return r, err
}

// closed reports whether ch is closed; a nil ch never is.
func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func rotate(addrs []string, i int) []string {
	i %= len(addrs)
	return append(slices.Clone(addrs[i:]), addrs[:i]...)
}
