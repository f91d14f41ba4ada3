package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestStreamSub(t *testing.T) {
	srv := withStream(t, 2)
	go func() {
		time.Sleep(100 * time.Millisecond)
		c := fakeClient(t, srv)
		c.Publish(context.Background(), "ORDERS.old", []byte("skipped"))
		c.Publish(context.Background(), "ORDERS.new", []byte("fresh"))
	}()
	out := mustRun(t, srv, "stream", "sub", "ORDERS", "--subject", "ORDERS.new", "--count", "1")
	wantLines(t, out, "[1] ORDERS.new: stream seq 4, consumer seq 1, delivered 1, pending 0", "fresh")
	if strings.Contains(out, "skipped") || strings.Contains(out, "[2]") {
		t.Fatalf("sub printed more than the new matching message:\n%s", out)
	}
	noConsumersLeft(t, srv, "ORDERS")

	out = mustRun(t, srv, "stream", "sub", "ORDERS", "--deliver", "all", "--count", "2")
	wantLines(t, out, "[1] ORDERS.new: stream seq 1, consumer seq 1, delivered 1, pending 3",
		"[2] ORDERS.new: stream seq 2, consumer seq 2, delivered 1, pending 2")
	noConsumersLeft(t, srv, "ORDERS")
	if n := len(srv.Acks()); n != 0 {
		t.Fatalf("sub sent %d acks to an ack-none consumer", n)
	}
}
