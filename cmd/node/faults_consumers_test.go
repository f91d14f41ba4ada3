//go:build faults

package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stratadb/strata/client"
)

// Consumer scenarios of the fault suite: an R3 durable consumer with
// explicit acks, read by several workers while publishers write, and one
// server or all of them killed under it. Checked on the recorded history:
// every acknowledged publish is delivered at least once, no message is
// delivered by a fetch that began after its ack was confirmed, the
// consumer drains, and ack pending never exceeds max ack pending.

const (
	consumerFaultWorkers    = 3
	consumerFaultMaxPending = 64
	consumerFaultAckWait    = 2 * time.Second
)

func (fc *faultCluster) consumerInfo(stream, name string) *client.ConsumerInfo {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	info, err := fc.c.ConsumerInfo(ctx, stream, name)
	if err != nil {
		fc.t.Fatalf("%s/%s: info: %v", stream, name, err)
	}
	return info
}

// consumerFollower is a server holding a replica of the consumer other
// than its leader.
func (fc *faultCluster) consumerFollower(stream, name string) *server {
	info := fc.consumerInfo(stream, name)
	for _, p := range info.Peers {
		if p != info.Cluster.Leader {
			return byName(fc.t, fc.servers, p)
		}
	}
	fc.t.Fatalf("%s/%s has no follower: %v", stream, name, info.Peers)
	return nil
}

// consumerScenario injects a fault on a stream and its consumer WORK.
type consumerScenario struct {
	name  string
	fault func(fc *faultCluster, stream string)
}

// separateLeaders steps the consumer's leadership down until another
// server than the stream's leader holds it, so that killing one leader
// leaves the other in place; it returns the consumer's leader.
func (fc *faultCluster) separateLeaders(st string) *server {
	for range 5 {
		leader := fc.consumerInfo(st, "WORK").Cluster.Leader
		if leader != fc.streamLeader(st).name {
			return byName(fc.t, fc.servers, leader)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, _, err := fc.c.ConsumerStepDown(ctx, st, "WORK")
		cancel()
		if err != nil {
			fc.t.Fatalf("%s/WORK: step-down: %v", st, err)
		}
	}
	fc.t.Fatalf("%s/WORK: its leadership stays with the stream's leader", st)
	return nil
}

var consumerScenarios = []consumerScenario{
	{"kill -9 the consumer leader (not the stream leader)", func(fc *faultCluster, st string) {
		killAndRestart(fc, fc.separateLeaders(st))
	}},
	{"kill -9 the stream leader (not the consumer leader)", func(fc *faultCluster, st string) {
		fc.separateLeaders(st)
		killAndRestart(fc, fc.streamLeader(st))
	}},
	{"kill -9 a consumer follower", func(fc *faultCluster, st string) {
		killAndRestart(fc, fc.consumerFollower(st, "WORK"))
	}},
	{"restart the whole cluster at once (kill -9)", func(fc *faultCluster, _ string) {
		for _, s := range fc.servers {
			s.kill()
		}
		for _, s := range fc.servers {
			fc.restart(s)
		}
	}},
}

// ackPendingSampler records the largest ack pending the consumer's info
// reports while it runs.
type ackPendingSampler struct {
	mu      sync.Mutex
	max     int
	samples int
	stop    chan struct{}
	done    chan struct{}
}

func sampleAckPending(c *client.Client, stream, name string) *ackPendingSampler {
	s := &ackPendingSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-tick.C:
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			info, err := c.ConsumerInfo(ctx, stream, name)
			cancel()
			if err == nil {
				s.mu.Lock()
				s.max, s.samples = max(s.max, int(info.State.AckPending)), s.samples+1
				s.mu.Unlock()
			}
		}
	}()
	return s
}

func (s *ackPendingSampler) finish() (maxPending, samples int) {
	close(s.stop)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.max, s.samples
}

// consumerResult is one row of the consumer summary table.
type consumerResult struct {
	scenario                           string
	acked, delivered, redelivered      int
	again, maxAckPending, samples, end int
}

// runConsumerScenario creates the stream and its consumer, runs the
// publishers and the workers, injects the fault and checks the history.
func runConsumerScenario(t *testing.T, fc *faultCluster, name string, sc consumerScenario) consumerResult {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := fc.c.AddStream(ctx, client.StreamConfig{Name: name, Subjects: []string{name + ".>"}, Replicas: 3}); err != nil {
		t.Fatalf("%s: %v", sc.name, err)
	}
	cfg := client.ConsumerConfig{Durable: "WORK", AckWait: consumerFaultAckWait, MaxAckPending: consumerFaultMaxPending}
	if _, err := fc.c.AddConsumer(ctx, name, cfg); err != nil {
		t.Fatalf("%s: %v", sc.name, err)
	}
	w := startWorkload(fc.c, name)
	c := newConsumed()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range consumerFaultWorkers {
		wg.Go(func() { c.work(ctx, fc.c, name, "WORK", stop) })
	}
	sampler := sampleAckPending(fc.c, name, "WORK")
	waitForCount(t, sc.name+": 200 confirmed acks", c.confirmedCount, 200)
	sc.fault(fc, name)
	waitFormed(t, fc.servers)
	time.Sleep(faultLoadAfter)
	w.finish()
	waitForCount(t, sc.name+": every acknowledged publish delivered",
		func() int { return c.deliveredOf(w.h.acked) }, len(w.h.acked))
	// The workers go on until the consumer drains: an ack a new leader
	// ignored is only settled by the redelivery after the ack wait.
	final := waitDrained(t, fc.c, name, "WORK")
	close(stop)
	wg.Wait()
	maxPending, samples := sampler.finish()
	c.checkIDs(t, w.h.acked)
	if maxPending > consumerFaultMaxPending {
		t.Errorf("%s: ack pending reached %d, max ack pending is %d", sc.name, maxPending, consumerFaultMaxPending)
	}
	if samples == 0 {
		t.Errorf("%s: ack pending never sampled", sc.name)
	}
	return consumerResult{scenario: sc.name, acked: len(w.h.acked), delivered: c.total(), redelivered: c.total() - c.distinct(),
		again: len(c.again), maxAckPending: maxPending, samples: samples, end: int(final.State.AckPending)}
}

// TestConsumerFaults runs every consumer scenario on one three-server
// cluster, each on a stream and consumer of its own, and prints the
// summary table of docs/reliability.md.
func TestConsumerFaults(t *testing.T) {
	needBinaries(t)
	servers, proxies := newProxiedCluster(t, 3)
	for _, s := range servers {
		s.start(t, 1)
	}
	waitFormed(t, servers)
	fc := &faultCluster{t: t, servers: servers, proxies: proxies, c: connectAll(t, servers), run: 1}
	var rows []consumerResult
	for i, sc := range consumerScenarios {
		r := runConsumerScenario(t, fc, fmt.Sprintf("C%d", i+1), sc)
		t.Logf("%s: %d acked publishes, %d deliveries, %d redelivered, %d delivered after a confirmed ack, max ack pending seen %d (%d samples)",
			r.scenario, r.acked, r.delivered, r.redelivered, r.again, r.maxAckPending, r.samples)
		rows = append(rows, r)
	}
	printConsumerSummary(rows)
}

func printConsumerSummary(rows []consumerResult) {
	var b strings.Builder
	b.WriteString("\n| scenario | acked publishes | deliveries | deliveries again | delivered after a confirmed ack | max ack pending seen (limit 64) | pending at the end |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- |\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d | %d |\n", r.scenario, r.acked, r.delivered, r.redelivered, r.again, r.maxAckPending, r.end)
	}
	fmt.Fprint(os.Stdout, b.String())
}
