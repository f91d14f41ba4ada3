package main

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stratadb/strata/client"
	"github.com/stratadb/strata/client/clienttest"
)

// consumerState returns a consumer's state from the fake.
func consumerState(t *testing.T, srv *clienttest.Server, stream, name string) client.ConsumerState {
	t.Helper()
	ci, err := fakeClient(t, srv).ConsumerInfo(context.Background(), stream, name)
	if err != nil {
		t.Fatal(err)
	}
	return ci.State
}

func TestConsumerNext(t *testing.T) {
	srv := withStream(t, 3)
	mustRun(t, srv, "pub", "ORDERS.paid", "with headers", "-H", "k:v", "--id", "m4")
	mustRun(t, srv, "consumer", "add", "ORDERS", "PROC")

	out := mustRun(t, srv, "consumer", "next", "ORDERS", "PROC", "--count", "2")
	wantLines(t, out, "[1] ORDERS.new: stream seq 1, consumer seq 1, delivered 1, pending 3",
		"[2] ORDERS.new: stream seq 2, consumer seq 2, delivered 1, pending 2",
		"Acknowledged message 1", "Acknowledged message 2", "1", "2")
	if !regexp.MustCompile(`(?m)^Item: ORDERS#1 received .* UTC on Subject ORDERS.new$`).MatchString(out) {
		t.Fatalf("no get-style item line:\n%s", out)
	}
	if st := consumerState(t, srv, "ORDERS", "PROC"); st.AckPending != 0 || st.AckFloor.Stream != 2 {
		t.Fatalf("state after next: %+v", st)
	}

	out = mustRun(t, srv, "consumer", "next", "ORDERS", "PROC", "--no-ack")
	wantLines(t, out, "[1] ORDERS.new: stream seq 3, consumer seq 3, delivered 1, pending 1")
	if strings.Contains(out, "Acknowledged") {
		t.Fatalf("--no-ack acked:\n%s", out)
	}
	if st := consumerState(t, srv, "ORDERS", "PROC"); st.AckPending != 1 {
		t.Fatalf("state after --no-ack: %+v", st)
	}

	var m client.ConsumerMsg
	if err := json.Unmarshal([]byte(mustRun(t, srv, "consumer", "next", "ORDERS", "PROC", "--json")), &m); err != nil {
		t.Fatal(err)
	}
	if m.Seq != 4 || m.Subject != "ORDERS.paid" || string(m.Data) != "with headers" || m.MsgID != "m4" || m.ConsumerSeq != 4 || m.Delivered != 1 {
		t.Fatalf("json message %+v", m)
	}

	start := time.Now()
	_, err := runCLI(t, srv, "", "consumer", "next", "ORDERS", "PROC", "--wait", "200ms")
	if err == nil || err.Error() != "no message received within 200ms" || time.Since(start) < 200*time.Millisecond {
		t.Fatalf("empty next: err = %v after %s", err, time.Since(start))
	}
}

func TestConsumerNextWaitsLongerThanTimeout(t *testing.T) {
	srv := withStream(t, 0)
	mustRun(t, srv, "consumer", "add", "ORDERS", "PROC")
	go func() {
		time.Sleep(300 * time.Millisecond)
		fakeClient(t, srv).Publish(context.Background(), "ORDERS.late", []byte("late"))
	}()
	// --timeout bounds each request, not the wait for messages.
	out, err := runCLI(t, srv, "", "--timeout", "100ms", "consumer", "next", "ORDERS", "PROC", "--wait", "5s")
	if err != nil || !hasLine(out, "late") {
		t.Fatalf("err = %v, out:\n%s", err, out)
	}
	if _, err := runCLI(t, srv, "", "consumer", "next", "ORDERS", "NOPE"); !errors.Is(err, client.ErrConsumerNotFound) {
		t.Fatalf("unknown consumer: err = %v", err)
	}
}
