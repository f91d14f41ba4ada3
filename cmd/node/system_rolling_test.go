package main

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stratadb/strata/client"
)

// loader publishes with ids, one at a time, retrying each until it is
// acknowledged, and notes the longest time a publish kept failing.
type loader struct {
	c       *client.Client
	a       *acked
	stop    chan struct{}
	done    chan struct{}
	mu      sync.Mutex
	sent    int
	longest time.Duration
}

func startLoader(t *testing.T, c *client.Client, a *acked, from int) *loader {
	l := &loader{c: c, a: a, stop: make(chan struct{}), done: make(chan struct{}), sent: from}
	go l.run(t)
	return l
}

func (l *loader) run(t *testing.T) {
	defer close(l.done)
	for {
		select {
		case <-l.stop:
			return
		default:
		}
		id := fmt.Sprint("id-", l.sent)
		failing := publishUntilAcked(t, l.c, l.a, id, []byte(id))
		l.mu.Lock()
		if !failing.IsZero() && time.Since(failing) > l.longest {
			l.longest = time.Since(failing)
		}
		l.sent++
		l.mu.Unlock()
	}
}

// acknowledged returns how many publishes the loader has had acknowledged.
func (l *loader) acknowledged() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sent
}

// waitAcknowledged waits until the loader has had n publishes acknowledged,
// failing after a generous minute with when in the message.
func (l *loader) waitAcknowledged(t *testing.T, n int, when string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		got := l.acknowledged()
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			l.finish()
			t.Fatalf("%s: the loader had %d publishes acknowledged after a minute, want %d", when, got, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (l *loader) finish() (int, time.Duration) {
	close(l.stop)
	<-l.done
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sent, l.longest
}

// TestRollingRestart restarts every server of the cluster in turn (SIGTERM:
// it hands off its leaderships first) under a steady publish load. Every
// acknowledged message is there once, with its sequence.
func TestRollingRestart(t *testing.T) {
	needBinaries(t)
	servers := newTestCluster(t)
	for _, s := range servers {
		s.start(t, 1)
	}
	waitFormed(t, servers)
	c := connectAll(t, servers)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.AddStream(ctx, client.StreamConfig{Name: "ORDERS", Subjects: []string{"ORDERS.>"}, Replicas: 3}); err != nil {
		t.Fatal(err)
	}
	a := &acked{ids: map[string]uint64{}}
	l := startLoader(t, c, a, 0)
	// Between two steps the loader has this many more publishes
	// acknowledged, so load runs between the restarts whatever the
	// machine's speed.
	const loadPerStep = 100
	mark := 0
	for i, s := range servers {
		l.waitAcknowledged(t, mark+loadPerStep, "before restarting "+s.name)
		s.stop(t)
		s.start(t, i+2)
		waitFormed(t, servers)
		mark = l.acknowledged()
	}
	l.waitAcknowledged(t, mark+loadPerStep, "after the last restart")
	sent, longest := l.finish()
	t.Logf("%d publishes acknowledged during the rolling restart; the longest a publish kept failing: %s", sent, longest)
	checkAll(t, c, a)
}
