package main

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stratadb/strata/client"
	"github.com/stratadb/strata/client/clienttest"
)

func TestStreamPurgeAndRm(t *testing.T) {
	srv := clienttest.Start(t)
	mustRun(t, srv, "stream", "add", "ORDERS", "--subjects", "ORDERS.>")
	mustRun(t, srv, "pub", "ORDERS.a", "x", "--count", "2")
	wantLines(t, mustRun(t, srv, "stream", "purge", "ORDERS", "-f"), "Purged 2 messages from stream ORDERS")
	wantLines(t, mustRun(t, srv, "stream", "rm", "ORDERS", "-f"), "Stream ORDERS was deleted")
	if _, err := fakeClient(t, srv).StreamInfo(context.Background(), "ORDERS"); !errors.Is(err, client.ErrStreamNotFound) {
		t.Fatalf("stream still there: %v", err)
	}
	if _, err := runCLI(t, srv, "", "stream", "rm", "ORDERS", "-f"); !errors.Is(err, client.ErrStreamNotFound) {
		t.Fatalf("rm of a deleted stream: err = %v", err)
	}
}

func TestStreamRmPromptsOnTerminal(t *testing.T) {
	old := isTerminal
	isTerminal = func(any) bool { return true }
	defer func() { isTerminal = old }()
	srv := clienttest.Start(t)
	mustRun(t, srv, "stream", "add", "ORDERS")

	out, err := runCLI(t, srv, "n\n", "stream", "rm", "ORDERS")
	if err == nil || !strings.Contains(err.Error(), "not confirmed") || !strings.Contains(out, "Really delete stream ORDERS? [y/N]") {
		t.Fatalf("answer n: err = %v, out %q", err, out)
	}
	if srv.Calls("StreamDelete") != 0 {
		t.Fatal("deleted without a yes")
	}
	out, err = runCLI(t, srv, "y\n", "stream", "rm", "ORDERS")
	if err != nil || !hasLine(strings.SplitN(out, "] ", 2)[1], "Stream ORDERS was deleted") {
		t.Fatalf("answer y: err = %v, out %q", err, out)
	}
}
