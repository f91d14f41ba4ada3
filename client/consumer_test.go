package client_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/stratadb/strata/client"
	"github.com/stratadb/strata/client/clienttest"
)

// withConsumer starts a fake with stream ORDERS (ORDERS.>, 3 replicas)
// holding n messages and a durable consumer C of cfg.
func withConsumer(t *testing.T, n int, cfg client.ConsumerConfig) (*client.Client, *clienttest.Server) {
	t.Helper()
	c, srv := connect(t)
	addStream(t, c, client.StreamConfig{Name: "ORDERS", Subjects: []string{"ORDERS.>"}, Replicas: 3})
	publishSync(t, c, "ORDERS.new", n)
	if cfg.Durable == "" {
		cfg.Durable = "C"
	}
	if _, err := c.AddConsumer(context.Background(), "ORDERS", cfg); err != nil {
		t.Fatal(err)
	}
	return c, srv
}

func publishSync(t *testing.T, c *client.Client, subject string, n int) {
	t.Helper()
	for i := range n {
		if _, err := c.Publish(context.Background(), subject, []byte(fmt.Sprint(i+1))); err != nil {
			t.Fatal(err)
		}
	}
}

func seqs(ms []*client.ConsumerMsg) []uint64 {
	out := make([]uint64, len(ms))
	for i, m := range ms {
		out[i] = m.Seq
	}
	return out
}

func TestConsumerAdmin(t *testing.T) {
	c, srv := connect(t)
	ctx := context.Background()
	addStream(t, c, client.StreamConfig{Name: "ORDERS", Subjects: []string{"ORDERS.>"}, Replicas: 3})
	cfg := client.ConsumerConfig{
		Durable: "PROC", Description: "order processor", DeliverPolicy: client.DeliverByStartSequencePolicy,
		OptStartSeq: 5, AckPolicy: client.AckExplicitPolicy, AckWait: time.Minute, MaxDeliver: 5,
		Backoff: []time.Duration{time.Second, 5 * time.Second}, MaxAckPending: 10,
		FilterSubjects: []string{"ORDERS.new"}, MaxWaiting: 4, Replicas: 3,
	}
	ci, err := c.AddConsumer(ctx, "ORDERS", cfg)
	if err != nil {
		t.Fatal(err)
	}
	got := ci.Config
	if got.Name != "PROC" || ci.Name() != "PROC" || ci.Stream != "ORDERS" || got.OptStartSeq != 5 || got.AckWait != time.Minute ||
		!slices.Equal(got.Backoff, cfg.Backoff) || got.MaxDeliver != 5 || got.MaxWaiting != 4 ||
		!slices.Equal(got.FilterSubjects, cfg.FilterSubjects) || got.Description != "order processor" {
		t.Fatalf("config round trip: %+v", got)
	}
	if ci.Created.IsZero() || len(ci.Peers) != 3 || ci.Cluster.Leader != "n1" || len(ci.Cluster.Replicas) != 2 {
		t.Fatalf("info %+v", ci)
	}

	if _, err := c.AddConsumer(ctx, "ORDERS", cfg); err != nil {
		t.Fatalf("the same config again: %v", err)
	}
	other := cfg
	other.AckPolicy = client.AckAllPolicy
	if _, err := c.AddConsumer(ctx, "ORDERS", other); !errors.Is(err, client.ErrConsumerExists) {
		t.Fatalf("another config under the name: err = %v", err)
	}

	upd := ci.Config
	upd.Description, upd.MaxAckPending = "changed", 20
	if ci, err = c.UpdateConsumer(ctx, "ORDERS", upd); err != nil || ci.Config.Description != "changed" || ci.Config.MaxAckPending != 20 {
		t.Fatalf("update: %+v, %v", ci, err)
	}
	upd.FilterSubjects = []string{"ORDERS.old"}
	if _, err := c.UpdateConsumer(ctx, "ORDERS", upd); !errors.Is(err, client.ErrInvalid) {
		t.Fatalf("update of a fixed field: err = %v", err)
	}

	if _, err := c.AddConsumer(ctx, "ORDERS", client.ConsumerConfig{Durable: "ONE", Replicas: 1}); err != nil {
		t.Fatal(err)
	}
	list, err := c.Consumers(ctx, "ORDERS")
	if err != nil || len(list) != 2 || list[0].Name() != "PROC" || list[1].Config.AckPolicy != "explicit" {
		t.Fatalf("list: %+v, %v", list, err)
	}
	if si, err := c.StreamInfo(ctx, "ORDERS"); err != nil || si.Consumers != 2 {
		t.Fatalf("stream info consumers: %+v, %v", si, err)
	}

	old, next, err := c.ConsumerStepDown(ctx, "ORDERS", "PROC")
	if err != nil || old != "n1" || next != "n2" {
		t.Fatalf("step down: %q → %q, %v", old, next, err)
	}
	if ci, _ := c.ConsumerInfo(ctx, "ORDERS", "PROC"); ci.Cluster.Leader != "n2" {
		t.Fatalf("leader after step down: %+v", ci.Cluster)
	}
	if _, _, err := c.ConsumerStepDown(ctx, "ORDERS", "ONE"); !errors.Is(err, client.ErrInvalid) {
		t.Fatalf("step down of one replica: err = %v", err)
	}

	if err := c.DeleteConsumer(ctx, "ORDERS", "PROC"); err != nil {
		t.Fatal(err)
	}
	err = c.DeleteConsumer(ctx, "ORDERS", "PROC")
	if !errors.Is(err, client.ErrConsumerNotFound) || err.Error() != "consumer not found: PROC on stream ORDERS" {
		t.Fatalf("second delete: err = %v", err)
	}
	if _, err := c.ConsumerInfo(ctx, "ORDERS", "PROC"); !errors.Is(err, client.ErrConsumerNotFound) {
		t.Fatalf("info of a deleted consumer: err = %v", err)
	}
	if _, err := c.ConsumerInfo(ctx, "NOPE", "PROC"); !errors.Is(err, client.ErrStreamNotFound) {
		t.Fatalf("info on an unknown stream: err = %v", err)
	}
	if _, err := c.Consumers(ctx, "NOPE"); !errors.Is(err, client.ErrStreamNotFound) {
		t.Fatalf("list of an unknown stream: err = %v", err)
	}

	calls := srv.TotalCalls()
	for name, err := range map[string]error{
		"info":   func() error { _, err := c.ConsumerInfo(ctx, "ORDERS", ""); return err }(),
		"delete": c.DeleteConsumer(ctx, "", "C"),
		"update": func() error { _, err := c.UpdateConsumer(ctx, "ORDERS", client.ConsumerConfig{}); return err }(),
		"fetch":  func() error { _, err := c.Fetch(ctx, "ORDERS", "", client.FetchOptions{}); return err }(),
		"ack": func() error {
			_, _, err := c.AckBatch(ctx, "ORDERS", "C", []client.Ack{{Seq: 1, Kind: "maybe"}})
			return err
		}(),
		"batch": func() error { _, err := c.Fetch(ctx, "ORDERS", "C", client.FetchOptions{Batch: -1}); return err }(),
	} {
		if !errors.Is(err, client.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	if srv.TotalCalls() != calls {
		t.Fatal("bad input reached the server")
	}
}

func TestEphemeralConsumer(t *testing.T) {
	c, _ := connect(t)
	ctx := context.Background()
	addStream(t, c, client.StreamConfig{Name: "ORDERS", Subjects: []string{"ORDERS.>"}})
	publishSync(t, c, "ORDERS.new", 2)
	ci, err := c.AddConsumer(ctx, "ORDERS", client.ConsumerConfig{AckPolicy: client.AckNonePolicy, InactiveThreshold: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if ci.Name() == "" || ci.Config.Durable != "" || ci.Config.InactiveThreshold != time.Minute {
		t.Fatalf("ephemeral: %+v", ci.Config)
	}
	ms, err := c.Fetch(ctx, "ORDERS", ci.Name(), client.FetchOptions{Batch: 5, NoWait: true})
	if err != nil || !slices.Equal(seqs(ms), []uint64{1, 2}) {
		t.Fatalf("fetch: %v, %v", seqs(ms), err)
	}
	if ci, _ = c.ConsumerInfo(ctx, "ORDERS", ci.Name()); ci.State.AckPending != 0 || ci.State.Delivered.Stream != 2 {
		t.Fatalf("ack none leaves nothing pending: %+v", ci.State)
	}
}

func TestFetchAndAck(t *testing.T) {
	c, _ := withConsumer(t, 5, client.ConsumerConfig{})
	ctx := context.Background()
	ms, err := c.Fetch(ctx, "ORDERS", "C", client.FetchOptions{Batch: 3})
	if err != nil || !slices.Equal(seqs(ms), []uint64{1, 2, 3}) {
		t.Fatalf("fetch: %v, %v", seqs(ms), err)
	}
	m := ms[0]
	if m.Subject != "ORDERS.new" || string(m.Data) != "1" || m.ConsumerSeq != 1 || m.Delivered != 1 || m.Pending != 4 ||
		m.Stream() != "ORDERS" || m.Consumer() != "C" || ms[2].Pending != 2 {
		t.Fatalf("message %+v", m)
	}
	if err := ms[0].Ack(ctx); err != nil {
		t.Fatal(err)
	}
	if err := ms[0].Ack(ctx); !errors.Is(err, client.ErrInvalid) {
		t.Fatalf("second ack: err = %v", err)
	}
	if err := ms[1].Nak(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if err := ms[2].InProgress(ctx); err != nil {
		t.Fatal(err)
	}
	if err := ms[2].Term(ctx); err != nil {
		t.Fatal(err)
	}

	ms, err = c.Fetch(ctx, "ORDERS", "C", client.FetchOptions{Batch: 10, NoWait: true})
	if err != nil || !slices.Equal(seqs(ms), []uint64{2, 4, 5}) {
		t.Fatalf("fetch after nak: %v, %v", seqs(ms), err)
	}
	if ms[0].Delivered != 2 || ms[0].ConsumerSeq != 4 {
		t.Fatalf("redelivery %+v", ms[0])
	}
	ci, err := c.ConsumerInfo(ctx, "ORDERS", "C")
	if err != nil {
		t.Fatal(err)
	}
	st := ci.State
	if st.AckPending != 3 || st.Redelivered != 1 || st.Unprocessed != 0 || st.Delivered != (client.SequencePair{Consumer: 6, Stream: 5}) ||
		st.AckFloor.Stream != 1 {
		t.Fatalf("state %+v", st)
	}

	applied, ignored, err := c.AckBatch(ctx, "ORDERS", "C", []client.Ack{{Seq: 2}, {Seq: 4, Kind: client.AckKindAck}, {Seq: 1}})
	if err != nil || applied != 2 || ignored != 1 {
		t.Fatalf("ack batch: %d applied, %d ignored, %v", applied, ignored, err)
	}
	if ci, _ = c.ConsumerInfo(ctx, "ORDERS", "C"); ci.State.AckPending != 1 || ci.State.AckFloor.Stream != 4 || ci.State.AcksIgnored != 1 {
		t.Fatalf("state after acks %+v", ci.State)
	}
	if _, _, err := c.AckBatch(ctx, "ORDERS", "NOPE", []client.Ack{{Seq: 1}}); !errors.Is(err, client.ErrConsumerNotFound) {
		t.Fatalf("ack on an unknown consumer: err = %v", err)
	}
	var plain client.ConsumerMsg
	if err := plain.Ack(ctx); !errors.Is(err, client.ErrInvalid) {
		t.Fatalf("ack of a message not from a consumer: err = %v", err)
	}
}

func TestFetchWaits(t *testing.T) {
	c, _ := withConsumer(t, 0, client.ConsumerConfig{})
	ctx := context.Background()
	start := time.Now()
	ms, err := c.Fetch(ctx, "ORDERS", "C", client.FetchOptions{Batch: 1, Expires: 50 * time.Millisecond})
	if err != nil || len(ms) != 0 || time.Since(start) < 50*time.Millisecond {
		t.Fatalf("empty fetch: %v, %v after %s", seqs(ms), err, time.Since(start))
	}
	go func() {
		time.Sleep(30 * time.Millisecond)
		c.Publish(ctx, "ORDERS.x", []byte("late"))
	}()
	start = time.Now()
	ms, err = c.Fetch(ctx, "ORDERS", "C", client.FetchOptions{Batch: 1, Expires: 5 * time.Second, Heartbeat: 10 * time.Millisecond})
	if err != nil || len(ms) != 1 || string(ms[0].Data) != "late" || time.Since(start) > 3*time.Second {
		t.Fatalf("waiting fetch: %v, %v after %s", seqs(ms), err, time.Since(start))
	}
	_, err = c.Fetch(ctx, "ORDERS", "NOPE", client.FetchOptions{})
	if !errors.Is(err, client.ErrConsumerNotFound) || !strings.Contains(err.Error(), "NOPE") {
		t.Fatalf("unknown consumer: err = %v", err)
	}
}

func TestFetchRetriesUnavailable(t *testing.T) {
	c, srv := withConsumer(t, 2, client.ConsumerConfig{})
	srv.FailNext("ConsumerFetch", status.Error(codes.Unavailable, "no leader"))
	ms, err := c.Fetch(context.Background(), "ORDERS", "C", client.FetchOptions{Batch: 2})
	if err != nil || len(ms) != 2 || srv.Calls("ConsumerFetch") != 2 {
		t.Fatalf("%v, %v after %d calls", seqs(ms), err, srv.Calls("ConsumerFetch"))
	}
	srv.FailNext("ConsumerFetch", status.Error(codes.PermissionDenied, "no"))
	if _, err := c.Fetch(context.Background(), "ORDERS", "C", client.FetchOptions{}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("not retried: err = %v", err)
	}
}

func TestFetchHeartbeatsKeepItOpen(t *testing.T) {
	c, srv := withConsumer(t, 0, client.ConsumerConfig{})
	ms, err := c.Fetch(context.Background(), "ORDERS", "C", client.FetchOptions{Expires: 300 * time.Millisecond, Heartbeat: 10 * time.Millisecond})
	if err != nil || len(ms) != 0 || srv.Calls("ConsumerFetch") != 1 {
		t.Fatalf("%v, %v after %d calls", seqs(ms), err, srv.Calls("ConsumerFetch"))
	}
}

func TestFetchReopensWithoutHeartbeats(t *testing.T) {
	c, srv := withConsumer(t, 1, client.ConsumerConfig{})
	srv.StallFetches(1)
	start := time.Now()
	ms, err := c.Fetch(context.Background(), "ORDERS", "C", client.FetchOptions{Expires: 10 * time.Second, Heartbeat: 20 * time.Millisecond})
	if err != nil || len(ms) != 1 || srv.Calls("ConsumerFetch") != 2 || time.Since(start) > 5*time.Second {
		t.Fatalf("%v, %v after %d calls and %s", seqs(ms), err, srv.Calls("ConsumerFetch"), time.Since(start))
	}
}

// collector gathers what a Consume handler saw.
type collector struct {
	mu   sync.Mutex
	msgs []*client.ConsumerMsg
}

func (c *collector) add(m *client.ConsumerMsg) {
	c.mu.Lock()
	c.msgs = append(c.msgs, m)
	c.mu.Unlock()
}

func (c *collector) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.msgs)
}

func TestConsumeAcksInBatches(t *testing.T) {
	c, srv := withConsumer(t, 50, client.ConsumerConfig{})
	var got collector
	sub, err := c.Consume(context.Background(), "ORDERS", "C", got.add, client.ConsumeOptions{Batch: 10, AutoAck: true})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "50 messages", func() bool { return got.len() == 50 })
	sub.Stop()
	if err := sub.Wait(); err != nil {
		t.Fatal(err)
	}
	for i, m := range got.msgs {
		if m.Seq != uint64(i+1) {
			t.Fatalf("message %d has sequence %d", i, m.Seq)
		}
	}
	ci, err := c.ConsumerInfo(context.Background(), "ORDERS", "C")
	if err != nil || ci.State.AckPending != 0 || ci.State.AckFloor.Stream != 50 {
		t.Fatalf("state after consume: %+v, %v", ci, err)
	}
	if n := srv.Calls("ConsumerAck"); n == 0 || n >= 50 {
		t.Fatalf("%d ack calls for 50 messages: want batches", n)
	}
	if len(srv.Acks()) != 50 {
		t.Fatalf("%d acks sent", len(srv.Acks()))
	}
	f := srv.Fetches()[0]
	if f.Batch != 10 || f.HeartbeatNs != int64(client.DefaultConsumeHeartbeat) || f.ExpiresNs != int64(client.DefaultConsumeExpires) {
		t.Fatalf("pull request %v", f)
	}
}

func TestConsumeAsksForMoreOnlyWhenDrained(t *testing.T) {
	c, srv := withConsumer(t, 5, client.ConsumerConfig{})
	release := make(chan struct{})
	var got collector
	sub, err := c.Consume(context.Background(), "ORDERS", "C", func(m *client.ConsumerMsg) {
		if m.Seq == 1 {
			<-release
		}
		got.add(m)
		m.Ack(context.Background())
	}, client.ConsumeOptions{Batch: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Stop()
	time.Sleep(100 * time.Millisecond)
	if n := srv.Calls("ConsumerFetch"); n != 1 {
		t.Fatalf("%d pulls while the handler holds the first batch", n)
	}
	close(release)
	waitFor(t, "5 messages", func() bool { return got.len() == 5 })
	if n := srv.Calls("ConsumerFetch"); n < 3 {
		t.Fatalf("%d pulls of 2 for 5 messages", n)
	}
}

func TestConsumeRedeliversNak(t *testing.T) {
	c, _ := withConsumer(t, 2, client.ConsumerConfig{})
	var got collector
	sub, err := c.Consume(context.Background(), "ORDERS", "C", func(m *client.ConsumerMsg) {
		got.add(m)
		if m.Seq == 1 && m.Delivered == 1 {
			m.Nak(context.Background(), 10*time.Millisecond)
		}
	}, client.ConsumeOptions{AutoAck: true, Batch: 1})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the redelivery", func() bool { return got.len() >= 3 })
	sub.Stop()
	sub.Wait()
	var redelivered bool
	for _, m := range got.msgs {
		redelivered = redelivered || m.Seq == 1 && m.Delivered == 2
	}
	if !redelivered {
		t.Fatalf("no redelivery of message 1")
	}
	if ci, _ := c.ConsumerInfo(context.Background(), "ORDERS", "C"); ci.State.AckPending != 0 {
		t.Fatalf("pending after consume: %+v", ci.State)
	}
}

func TestConsumeReopensWithoutHeartbeats(t *testing.T) {
	c, srv := withConsumer(t, 1, client.ConsumerConfig{})
	srv.StallFetches(1)
	var got collector
	var errs collector
	sub, err := c.Consume(context.Background(), "ORDERS", "C", got.add, client.ConsumeOptions{
		Heartbeat: 20 * time.Millisecond, Expires: 5 * time.Second, AutoAck: true,
		OnError: func(error) { errs.add(nil) },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Stop()
	waitFor(t, "the message after the stalled pull", func() bool { return got.len() == 1 })
	if srv.Calls("ConsumerFetch") < 2 {
		t.Fatalf("%d pulls", srv.Calls("ConsumerFetch"))
	}
}

func TestConsumeEnds(t *testing.T) {
	c, _ := withConsumer(t, 0, client.ConsumerConfig{})
	ctx := context.Background()
	if _, err := c.Consume(ctx, "ORDERS", "NOPE", func(*client.ConsumerMsg) {}, client.ConsumeOptions{}); !errors.Is(err, client.ErrConsumerNotFound) {
		t.Fatalf("unknown consumer: err = %v", err)
	}
	if _, err := c.Consume(ctx, "ORDERS", "C", nil, client.ConsumeOptions{}); !errors.Is(err, client.ErrInvalid) {
		t.Fatalf("nil handler: err = %v", err)
	}
	sub, err := c.Consume(ctx, "ORDERS", "C", func(*client.ConsumerMsg) {}, client.ConsumeOptions{Heartbeat: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteConsumer(ctx, "ORDERS", "C"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-sub.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the subscription outlived its consumer")
	}
	if err := sub.Wait(); !errors.Is(err, client.ErrConsumerNotFound) {
		t.Fatalf("wait: err = %v", err)
	}

	cctx, cancel := context.WithCancel(ctx)
	if _, err := c.AddConsumer(ctx, "ORDERS", client.ConsumerConfig{Durable: "D"}); err != nil {
		t.Fatal(err)
	}
	sub, err = c.Consume(cctx, "ORDERS", "D", func(*client.ConsumerMsg) {}, client.ConsumeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := sub.Wait(); err != nil {
		t.Fatalf("wait after the context ended: %v", err)
	}
}
