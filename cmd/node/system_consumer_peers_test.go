package main

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stratadb/strata/client"
)

// TestConsumerFollowsStreamPeerRemove removes the server leading a
// consumer from its stream's peers on a four-server cluster: the
// consumer's peers follow the stream's, the new replica catches up, and
// consumption resumes with its state (ack floor, pending) intact.
func TestConsumerFollowsStreamPeerRemove(t *testing.T) {
	needBinaries(t)
	servers := newFlagCluster(t, 4)
	cl := ordersCluster(t, servers)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if _, err := cl.AddConsumer(ctx, "ORDERS", client.ConsumerConfig{Durable: "WORK", AckWait: time.Minute}); err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		if _, err := cl.Publish(ctx, "ORDERS.new", []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	fetchAndAck(t, cl, 40, 30) // ack floor 30, 10 pending, 60 unprocessed
	before, err := cl.ConsumerInfo(ctx, "ORDERS", "WORK")
	if err != nil {
		t.Fatal(err)
	}
	gone := before.Cluster.Leader
	if _, err := cl.RemoveStreamPeer(ctx, "ORDERS", gone); err != nil {
		t.Fatalf("peer-remove %s: %v", gone, err)
	}
	after := waitConsumerFollows(t, cl, "ORDERS", "WORK", gone)
	t.Logf("consumer peers %v -> %v, leader %s -> %s", before.Peers, after.Peers, gone, after.Cluster.Leader)
	if after.State.AckFloor.Stream != 30 || after.State.AckPending != 10 || after.State.Delivered.Stream != 40 {
		t.Fatalf("state after the move: %+v, want ack floor 30, 10 pending, delivered 40", after.State)
	}
	msgs, err := cl.Fetch(ctx, "ORDERS", "WORK", client.FetchOptions{Batch: 100, NoWait: true})
	if err != nil || len(msgs) != 60 || msgs[0].Seq != 41 {
		t.Fatalf("fetch after the move: %d messages (first %v), %v; want 60 from seq 41", len(msgs), firstSeq(msgs), err)
	}
}

// fetchAndAck fetches n messages of ORDERS/WORK and acks the first k.
func fetchAndAck(t *testing.T, cl *client.Client, n, k int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	msgs, err := cl.Fetch(ctx, "ORDERS", "WORK", client.FetchOptions{Batch: n, NoWait: true})
	if err != nil || len(msgs) != n {
		t.Fatalf("fetched %d messages, %v; want %d", len(msgs), err, n)
	}
	var acks []client.Ack
	for _, m := range msgs[:k] {
		acks = append(acks, client.Ack{Seq: m.Seq})
	}
	if applied, _, err := cl.AckBatch(ctx, "ORDERS", "WORK", acks); err != nil || applied != uint64(k) {
		t.Fatalf("acked %d of %d: %v", applied, k, err)
	}
}

// waitConsumerFollows waits until the consumer's peers are its stream's,
// without gone, with a leader and every other replica current.
func waitConsumerFollows(t *testing.T, cl *client.Client, stream, name, gone string) *client.ConsumerInfo {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		si, serr := cl.StreamInfo(ctx, stream)
		ci, cerr := cl.ConsumerInfo(ctx, stream, name)
		cancel()
		if serr == nil && cerr == nil && len(si.Peers) == 3 && !slices.Contains(si.Peers, gone) &&
			sameSet(si.Peers, ci.Peers) && ci.Cluster.Leader != "" && ci.Cluster.Leader != gone && replicasCurrent(ci.Cluster, 2) {
			return ci
		}
		if time.Now().After(deadline) {
			t.Fatalf("the consumer never followed its stream off %s: stream %+v %v, consumer %+v %v", gone, si, serr, ci, cerr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func sameSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

// replicasCurrent says whether the group has n replicas besides its
// leader, all current.
func replicasCurrent(c client.ClusterInfo, n int) bool {
	if len(c.Replicas) != n {
		return false
	}
	for _, r := range c.Replicas {
		if !r.Current {
			return false
		}
	}
	return true
}

func firstSeq(msgs []*client.ConsumerMsg) any {
	if len(msgs) == 0 {
		return nil
	}
	return msgs[0].Seq
}
