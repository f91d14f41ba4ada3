package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stratadb/strata/client"
	"github.com/stratadb/strata/internal/clustertest"
)

// TestLimitsRefusePublishes runs a server whose limits block lowers every
// limit: a publish beyond one is refused with an error naming it and
// stores nothing; one at the limit is stored.
func TestLimitsRefusePublishes(t *testing.T) {
	needBinaries(t)
	cluster := clustertest.Start(t, clustertest.Options{BinDir: binDir, Servers: 1,
		Extra: "limits {\n  max_payload = 1024\n  max_subject_length = 32\n  max_header_bytes = 64\n}\n"})
	c := cluster.Connect(t)
	ctx := context.Background()
	if _, err := c.AddStream(ctx, client.StreamConfig{Name: "L", Subjects: []string{"L.>"}}); err != nil {
		t.Fatal(err)
	}
	refused := []struct {
		name, subject, want string
		data                []byte
		opts                []client.PubOpt
	}{
		{"payload", "L.x", "payload of 1025 bytes, max_payload is 1024", make([]byte, 1025), nil},
		{"subject", "L." + strings.Repeat("s", 31), "subject of 33 bytes, max_subject_length is 32", nil, nil},
		{"headers", "L.x", "headers of 65 bytes, max_header_bytes is 64", nil,
			[]client.PubOpt{client.WithHeader("K", strings.Repeat("v", 64))}},
	}
	for _, r := range refused {
		if _, err := c.Publish(ctx, r.subject, r.data, r.opts...); err == nil || !strings.Contains(err.Error(), r.want) {
			t.Errorf("%s: publish = %v, want an error with %q", r.name, err, r.want)
		}
	}
	ap, err := c.PublishAsync(ctx, 8)
	if err != nil {
		t.Fatal(err)
	}
	defer ap.Close()
	f, err := ap.Publish("L.x", make([]byte, 1025))
	if err == nil {
		_, err = f.Wait(ctx)
	}
	if err == nil || !strings.Contains(err.Error(), "max_payload is 1024") {
		t.Errorf("async publish = %v, want an error naming max_payload", err)
	}
	if _, err := c.Publish(ctx, "L."+strings.Repeat("s", 30), make([]byte, 1024),
		client.WithHeader("K", strings.Repeat("v", 63))); err != nil {
		t.Fatalf("publish at every limit: %v", err)
	}
	info, err := c.StreamInfo(ctx, "L")
	if err != nil || info.State.Msgs != 1 {
		t.Fatalf("stream info = %+v, %v; want the one message at the limits", info, err)
	}
}

// TestLimitsRefuseConnectionsAndFetches runs a server that serves two
// client connections and one fetch per connection: a call on a third
// connection, and a second fetch in flight on one connection, are refused
// with errors naming the limit, and are served again once the first
// connection or fetch is gone.
func TestLimitsRefuseConnectionsAndFetches(t *testing.T) {
	needBinaries(t)
	cluster := clustertest.Start(t, clustertest.Options{BinDir: binDir, Servers: 1,
		Extra: "limits {\n  max_connections = 2\n  max_fetches_per_connection = 1\n}\n"})
	ctx := context.Background()
	c1 := cluster.Connect(t)
	if _, err := c1.AddStream(ctx, client.StreamConfig{Name: "L", Subjects: []string{"L.>"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c1.AddConsumer(ctx, "L", client.ConsumerConfig{Durable: "C"}); err != nil {
		t.Fatal(err)
	}
	c2 := cluster.Connect(t)
	if _, err := c2.StreamInfo(ctx, "L"); err != nil {
		t.Fatalf("second connection: %v", err)
	}
	c3 := cluster.Connect(t)
	if _, err := c3.StreamInfo(ctx, "L"); err == nil || !strings.Contains(err.Error(), "max_connections (2)") {
		t.Fatalf("third connection: stream info = %v, want an error naming max_connections", err)
	}
	if _, err := c3.Publish(ctx, "L.x", []byte("no")); err == nil {
		t.Fatal("third connection: publish accepted")
	}
	_ = c2.Close()
	_ = c3.Close()
	c4 := connectWhenServed(t, cluster)

	pull, stop := context.WithCancel(ctx)
	held := make(chan error, 1)
	go func() {
		_, err := c1.Fetch(pull, "L", "C", client.FetchOptions{Batch: 1, Expires: time.Minute})
		held <- err
	}()
	waitFor(t, "the first fetch to wait on the consumer", func() bool {
		info, err := c4.ConsumerInfo(ctx, "L", "C")
		return err == nil && info.State.Waiting == 1
	})
	if _, err := c1.Fetch(ctx, "L", "C", client.FetchOptions{NoWait: true}); err == nil ||
		!strings.Contains(err.Error(), "max_fetches_per_connection (1)") {
		t.Fatalf("second fetch on the connection = %v, want an error naming max_fetches_per_connection", err)
	}
	if _, err := c4.Fetch(ctx, "L", "C", client.FetchOptions{NoWait: true}); err != nil {
		t.Fatalf("fetch on another connection: %v", err)
	}
	stop()
	if err := <-held; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("first fetch: %v", err)
	}
	waitFor(t, "a fetch after the first one ended", func() bool {
		_, err := c1.Fetch(ctx, "L", "C", client.FetchOptions{NoWait: true})
		return err == nil
	})
	if info, err := c1.StreamInfo(ctx, "L"); err != nil || info.State.Msgs != 0 {
		t.Fatalf("stream info = %+v, %v; want the stream empty (the refused publish stored nothing)", info, err)
	}
}

// connectWhenServed connects until the server serves the connection's
// calls: a server notices a closed connection a moment after the client
// closed it.
func connectWhenServed(t *testing.T, cluster *clustertest.Cluster) *client.Client {
	t.Helper()
	var c *client.Client
	waitFor(t, "a connection the server serves", func() bool {
		c = cluster.Connect(t)
		if _, err := c.StreamInfo(context.Background(), "L"); err != nil {
			_ = c.Close()
			return false
		}
		return true
	})
	return c
}

// waitFor polls ok every 50 ms until it holds, failing after 30 s with
// what it waited for.
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
