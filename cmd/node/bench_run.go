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
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	conns := make([]*client.Client, 0, o.clients)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range o.clients {
		cctx, ccancel := o.conn.withTimeout(ctx)
		c, err := o.conn.connectTo(cctx, rotate(addrs, i))
		ccancel()
		if err != nil {
			return nil, err
		}
		conns = append(conns, c)
	}
	results := make([]benchClient, o.clients)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error // the cause: the others fail because it cancels them
	)
	for i, c := range conns {
		n := o.msgs / o.clients
		if i < o.msgs%o.clients {
			n++
		}
		wg.Go(func() {
			publish := o.publishAsync
			if o.sync {
				publish = o.publishSync
			}
			var err error
			results[i], err = publish(ctx, c, n, payload, progress)
			if err != nil {
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
	if firstErr != nil {
		return nil, firstErr
	}
	return o.summarize(results), nil
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
	for range n {
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
	r.end = time.Now()
	return r, err
}

func rotate(addrs []string, i int) []string {
	i %= len(addrs)
	return append(slices.Clone(addrs[i:]), addrs[:i]...)
}
