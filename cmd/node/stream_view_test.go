package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stratadb/strata/client"
	"github.com/stratadb/strata/client/clienttest"
)

// noConsumersLeft fails unless the stream's consumers are all gone.
func noConsumersLeft(t *testing.T, srv *clienttest.Server, stream string) {
	t.Helper()
	list, err := fakeClient(t, srv).Consumers(context.Background(), stream)
	if err != nil || len(list) != 0 {
		t.Fatalf("consumers left on %s: %d, %v", stream, len(list), err)
	}
}

func TestStreamView(t *testing.T) {
	srv := withStream(t, 12)
	mustRun(t, srv, "pub", "ORDERS.paid", "paid")

	out := mustRun(t, srv, "stream", "view", "ORDERS")
	wantLines(t, out, "[1] ORDERS.new: stream seq 1, consumer seq 1, delivered 1, pending 12",
		"[10] ORDERS.new: stream seq 10, consumer seq 10, delivered 1, pending 3")
	if strings.Contains(out, "[11]") {
		t.Fatalf("more than 10 messages:\n%s", out)
	}
	noConsumersLeft(t, srv, "ORDERS")
	c := srv.Fetches()
	if len(c) != 1 || !c[0].NoWait {
		t.Fatalf("view of a full batch pulled %v", c)
	}

	out = mustRun(t, srv, "stream", "view", "ORDERS", "--subject", "ORDERS.paid", "--count", "5")
	wantLines(t, out, "[1] ORDERS.paid: stream seq 13, consumer seq 1, delivered 1, pending 0", "paid")
	if strings.Contains(out, "[2]") {
		t.Fatalf("filter let others through:\n%s", out)
	}
	noConsumersLeft(t, srv, "ORDERS")

	var m client.ConsumerMsg
	if err := json.NewDecoder(strings.NewReader(mustRun(t, srv, "stream", "view", "ORDERS", "--count", "1", "--json"))).Decode(&m); err != nil || m.Seq != 1 {
		t.Fatalf("json: %+v, %v", m, err)
	}
}

func TestStreamViewStopsWhenIdle(t *testing.T) {
	srv := withStream(t, 2)
	start := time.Now()
	out := mustRun(t, srv, "stream", "view", "ORDERS", "--count", "100")
	if !hasLine(out, "2") || strings.Contains(out, "[3]") || time.Since(start) > 5*time.Second {
		t.Fatalf("after %s:\n%s", time.Since(start), out)
	}
	noConsumersLeft(t, srv, "ORDERS")

	mustRun(t, srv, "stream", "add", "EMPTY")
	wantLines(t, mustRun(t, srv, "stream", "view", "EMPTY"), "No messages in stream EMPTY")
	noConsumersLeft(t, srv, "EMPTY")
}
