package main

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stratadb/strata/client"
)

// consumed is what workers of a consumer saw: every stream sequence
// delivered, and when the consumer's leader confirmed each ack.
type consumed struct {
	mu        sync.Mutex
	delivered map[uint64]int
	confirmed map[uint64]time.Time
	// again lists confirmed messages delivered again by a fetch that began
	// after the ack was confirmed: a lost ack. (A fetch already waiting
	// when the ack returned may race with it and is not counted.)
	again []uint64
}

func newConsumed() *consumed {
	return &consumed{delivered: map[uint64]int{}, confirmed: map[uint64]time.Time{}}
}

// deliver records seq delivered by a fetch that began at fetched.
func (c *consumed) deliver(seq uint64, fetched time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.delivered[seq]++
	if at, ok := c.confirmed[seq]; ok && fetched.After(at) {
		c.again = append(c.again, seq)
	}
}

func (c *consumed) confirm(seqs []uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	for _, s := range seqs {
		if _, ok := c.confirmed[s]; !ok {
			c.confirmed[s] = now
		}
	}
}

// deliveredOf counts the sequences of ids delivered at least once.
func (c *consumed) deliveredOf(ids map[string]uint64) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, seq := range ids {
		if c.delivered[seq] > 0 {
			n++
		}
	}
	return n
}

func (c *consumed) confirmedCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.confirmed)
}

// work fetches and acks explicitly until stop is closed, recording every
// delivery and every confirmed ack. Errors (a leader killed under it) are
// retried: the workers must ride through faults.
func (c *consumed) work(ctx context.Context, cl *client.Client, stream, name string, stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		fetched := time.Now()
		fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		msgs, err := cl.Fetch(fctx, stream, name, client.FetchOptions{Batch: 50, Expires: time.Second})
		cancel()
		if err != nil {
			time.Sleep(20 * time.Millisecond) // a server down: do not spin
			continue
		}
		if len(msgs) == 0 {
			continue
		}
		acks := make([]client.Ack, len(msgs))
		seqs := make([]uint64, len(msgs))
		for i, m := range msgs {
			c.deliver(m.Seq, fetched)
			acks[i], seqs[i] = client.Ack{Seq: m.Seq}, m.Seq
		}
		actx, cancel := context.WithTimeout(ctx, 10*time.Second)
		// An ack the leader ignored (a delivery a new leader does not
		// know) is no confirmation: the message comes again.
		if _, ignored, err := cl.AckBatch(actx, stream, name, acks); err == nil && ignored == 0 {
			c.confirm(seqs)
		}
		cancel()
	}
}

// check verifies that every acknowledged publish was delivered, that no
// message whose ack was confirmed came again, and that the consumer
// drains: nothing pending, nothing unprocessed.
func (c *consumed) check(t *testing.T, a *acked) {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	c.checkIDs(t, a.ids)
}

// checkIDs is check on acknowledged publishes by id.
func (c *consumed) checkIDs(t *testing.T, ids map[string]uint64) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.again) > 0 {
		t.Errorf("%d messages delivered again after their ack was confirmed, e.g. seq %d", len(c.again), c.again[0])
	}
	missing := 0
	for id, seq := range ids {
		if c.delivered[seq] == 0 {
			if missing == 0 {
				t.Errorf("acknowledged publish %s (seq %d) never delivered", id, seq)
			}
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d acknowledged publishes never delivered", missing, len(ids))
	}
}

// waitDrained waits until the consumer has nothing pending or unprocessed.
func waitDrained(t *testing.T, cl *client.Client, stream, name string) *client.ConsumerInfo {
	t.Helper()
	var info *client.ConsumerInfo
	var err error
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		info, err = cl.ConsumerInfo(ctx, stream, name)
		cancel()
		if err == nil && info.State.AckPending == 0 && info.State.Unprocessed == 0 {
			return info
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("consumer %s not drained after a minute: %+v, %v", name, info, err)
	return nil
}

// TestConsumerSurvivesLeaderKill consumes an R3 stream with explicit acks
// from several workers under publish load while the consumer's leader is
// killed with SIGKILL and restarted: every acknowledged publish is
// delivered, no confirmed ack is lost, and the consumer drains.
func TestConsumerSurvivesLeaderKill(t *testing.T) {
	needBinaries(t)
	servers := newTestCluster(t)
	cl := ordersCluster(t, servers)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cfg := client.ConsumerConfig{Durable: "WORK", AckWait: 2 * time.Second}
	if _, err := cl.AddConsumer(ctx, "ORDERS", cfg); err != nil {
		t.Fatal(err)
	}
	a := &acked{ids: map[string]uint64{}}
	publishAsyncIDs(t, cl, a, 0, 2_000)
	c := newConsumed()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() { c.work(ctx, cl, "ORDERS", "WORK", stop) })
	}
	waitForCount(t, "500 confirmed acks", func() int { return c.confirmedCount() }, 500)
	info, err := cl.ConsumerInfo(ctx, "ORDERS", "WORK")
	if err != nil {
		t.Fatal(err)
	}
	leader := byName(t, servers, info.Cluster.Leader)
	leader.kill()
	t.Logf("killed consumer leader %s", leader.name)
	publishSyncIDs(t, cl, a, 2_000, 2_300)
	leader.start(t, 2)
	publishAsyncIDs(t, cl, a, 2_300, 3_000)
	waitForCount(t, "every publish delivered", func() int { return c.deliveredOf(a.snapshot()) }, 3_000)
	// The workers go on until the consumer drains: an ack the new leader
	// ignored is only settled by the redelivery after the ack wait.
	final := waitDrained(t, cl, "ORDERS", "WORK")
	close(stop)
	wg.Wait()
	c.check(t, a)
	if final.State.AckFloor.Stream != 3_000 {
		t.Errorf("ack floor = %d, want 3000", final.State.AckFloor.Stream)
	}
}

// ordersCluster starts the servers, waits for their cluster to form and
// adds the R3 stream ORDERS (subjects ORDERS.>).
func ordersCluster(t *testing.T, servers []*server) *client.Client {
	t.Helper()
	for _, s := range servers {
		s.start(t, 1)
	}
	waitFormed(t, servers)
	cl := connectAll(t, servers)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := cl.AddStream(ctx, client.StreamConfig{Name: "ORDERS", Subjects: []string{"ORDERS.>"}, Replicas: 3}); err != nil {
		t.Fatal(err)
	}
	return cl
}

// waitForCount waits until count() reaches want, failing after two
// minutes with what it waited for.
func waitForCount(t *testing.T, what string, count func() int, want int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for count() < want {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %d of %d", what, count(), want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestConsumerCommandsOnCluster drives the consumer lifecycle through the
// API of a real cluster: create (the same config again is accepted,
// another refused), info from any server, step-down, delete, and the
// stream's consumer count.
func TestConsumerCommandsOnCluster(t *testing.T) {
	needBinaries(t)
	servers := newTestCluster(t)
	cl := ordersCluster(t, servers)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := client.ConsumerConfig{Durable: "NEW", FilterSubjects: []string{"ORDERS.new"}}
	if _, err := cl.AddConsumer(ctx, "ORDERS", cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.AddConsumer(ctx, "ORDERS", cfg); err != nil {
		t.Fatalf("the same config again: %v", err)
	}
	other := cfg
	other.AckPolicy = "none"
	if _, err := cl.AddConsumer(ctx, "ORDERS", other); err == nil {
		t.Fatal("another config under the same name was accepted")
	}
	bad := client.ConsumerConfig{Durable: "BAD", FilterSubjects: []string{"OTHER.>"}}
	if _, err := cl.AddConsumer(ctx, "ORDERS", bad); err == nil {
		t.Fatal("a filter outside the stream's subjects was accepted")
	}
	for i := range 10 {
		subj := "ORDERS.new"
		if i%2 == 1 {
			subj = "ORDERS.old"
		}
		if _, err := cl.Publish(ctx, subj, []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	msgs, err := cl.Fetch(ctx, "ORDERS", "NEW", client.FetchOptions{Batch: 10, NoWait: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 5 {
		t.Fatalf("fetched %d messages on ORDERS.new, want 5", len(msgs))
	}
	for _, m := range msgs {
		if m.Subject != "ORDERS.new" {
			t.Fatalf("filter let %s through", m.Subject)
		}
	}
	old, next, err := cl.ConsumerStepDown(ctx, "ORDERS", "NEW")
	if err != nil || old == next || next == "" {
		t.Fatalf("step-down: %s -> %s, %v", old, next, err)
	}
	// Not acked: the new leader knows them as pending.
	info, err := cl.ConsumerInfo(ctx, "ORDERS", "NEW")
	if err != nil || info.State.AckPending != 5 || info.Cluster.Leader != next {
		t.Fatalf("info after step-down: %+v, %v", info, err)
	}
	if si, err := cl.StreamInfo(ctx, "ORDERS"); err != nil || si.Consumers != 1 {
		t.Fatalf("stream info consumers = %v, %v; want 1", si, err)
	}
	if err := cl.DeleteConsumer(ctx, "ORDERS", "NEW"); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.ConsumerInfo(ctx, "ORDERS", "NEW"); err == nil {
		t.Fatal("info of a deleted consumer succeeded")
	}
}

// total counts every delivery, redeliveries included.
func (c *consumed) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, k := range c.delivered {
		n += k
	}
	return n
}

// distinct counts the sequences delivered at least once.
func (c *consumed) distinct() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.delivered)
}
