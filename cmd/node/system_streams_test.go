package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/stratadb/strata/client"
)

// acked records every acknowledged publish: message id to sequence.
type acked struct {
	mu  sync.Mutex
	ids map[string]uint64
}

func (a *acked) add(t *testing.T, id string, seq uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if prev, ok := a.ids[id]; ok && prev != seq {
		t.Errorf("id %s acked with sequence %d and %d", id, prev, seq)
	}
	a.ids[id] = seq
}

// snapshot copies the acknowledged ids.
func (a *acked) snapshot() map[string]uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return maps.Clone(a.ids)
}

func connectAll(t *testing.T, servers []*server) *client.Client {
	t.Helper()
	var addrs []string
	for _, s := range servers {
		addrs = append(addrs, s.client)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	opts := client.DefaultOptions()
	opts.Addrs = addrs
	secureOptions(t, &opts)
	c, err := client.ConnectOptions(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// publishAsyncIDs publishes ids [from, to) through one node with a window.
func publishAsyncIDs(t *testing.T, c *client.Client, a *acked, from, to int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p, err := c.PublishAsync(ctx, 256)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	futures := make([]*client.AckFuture, 0, to-from)
	for i := from; i < to; i++ {
		f, err := p.Publish("ORDERS.new", []byte(fmt.Sprint(i)), client.WithMsgID(fmt.Sprint("id-", i)))
		if err != nil {
			t.Fatalf("async publish %d: %v", i, err)
		}
		futures = append(futures, f)
	}
	for i, f := range futures {
		ack, err := f.Wait(ctx)
		if err != nil {
			t.Fatalf("async ack %d: %v", from+i, err)
		}
		a.add(t, fmt.Sprint("id-", from+i), ack.Seq)
	}
}

// publishSyncIDs publishes ids [from, to), retrying each (same id) until
// acknowledged: the dedupe window makes the retries safe.
func publishSyncIDs(t *testing.T, c *client.Client, a *acked, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		publishUntilAcked(t, c, a, fmt.Sprint("id-", i), []byte(fmt.Sprint(i)))
	}
}

// publishUntilAcked publishes data with id until it is acknowledged (at
// most 30 s), records the ack, and returns when its first attempt failed
// (zero if none did).
func publishUntilAcked(t *testing.T, c *client.Client, a *acked, id string, data []byte) time.Time {
	deadline := time.Now().Add(30 * time.Second)
	var failing time.Time
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		ack, err := c.Publish(ctx, "ORDERS.new", data, client.WithMsgID(id))
		cancel()
		if err == nil {
			a.add(t, id, ack.Seq)
			return failing
		}
		if failing.IsZero() {
			failing = time.Now()
		}
		if time.Now().After(deadline) {
			t.Errorf("publish %s: %v", id, err)
			return failing
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkAll reads every acknowledged message back with its sequence and
// checks no sequence holds a duplicate id.
func checkAll(t *testing.T, c *client.Client, a *acked) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	info, err := c.StreamInfo(ctx, "ORDERS")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]uint64{}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		m, err := c.GetMsg(ctx, "ORDERS", seq)
		if err != nil {
			t.Fatalf("get %d: %v", seq, err)
		}
		if prev, dup := seen[m.MsgID]; dup {
			t.Fatalf("id %s stored twice: sequences %d and %d", m.MsgID, prev, seq)
		}
		seen[m.MsgID] = seq
	}
	for id, seq := range a.ids {
		if seen[id] != seq {
			t.Fatalf("acked %s at sequence %d; stream has it at %d", id, seq, seen[id])
		}
	}
	if int(info.State.Msgs) != len(a.ids) {
		t.Fatalf("stream holds %d messages; %d acknowledged", info.State.Msgs, len(a.ids))
	}
}

// TestStreamSurvivesLeaderKillAndRestart: an R3 stream takes 10,000
// publishes with ids; its leader is killed with SIGKILL; publishing goes
// on through the other nodes; every acknowledged message is there once
// with its sequence, and again after the whole cluster restarts.
func TestStreamSurvivesLeaderKillAndRestart(t *testing.T) {
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
	publishAsyncIDs(t, c, a, 0, 10_000)

	info, err := c.StreamInfo(ctx, "ORDERS")
	if err != nil {
		t.Fatal(err)
	}
	leader := byName(t, servers, info.Cluster.Leader)
	leader.kill()
	t.Logf("killed stream leader %s", leader.name)
	publishSyncIDs(t, c, a, 10_000, 10_500)
	info = waitNewLeader(t, c, leader.name)
	t.Logf("new leader %s", info.Cluster.Leader)
	checkAll(t, c, a)

	leader.start(t, 2)
	for _, s := range servers {
		if s != leader {
			s.stop(t)
		}
	}
	leader.stop(t)
	for _, s := range servers {
		s.start(t, 3)
	}
	waitFormed(t, servers)
	publishSyncIDs(t, c, a, 10_500, 10_600)
	checkAll(t, c, a)
}

func byName(t *testing.T, servers []*server, name string) *server {
	t.Helper()
	for _, s := range servers {
		if s.name == name {
			return s
		}
	}
	t.Fatalf("no server %q", name)
	return nil
}

func waitNewLeader(t *testing.T, c *client.Client, old string) *client.StreamInfo {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		info, err := c.StreamInfo(ctx, "ORDERS")
		cancel()
		if err == nil && info.Cluster.Leader != "" && info.Cluster.Leader != old {
			return info
		}
		if time.Now().After(deadline) {
			t.Fatalf("no new stream leader: %v", errors.Join(err))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
