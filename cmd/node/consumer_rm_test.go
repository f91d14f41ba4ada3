package main

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stratadb/strata/client"
)

func TestConsumerRm(t *testing.T) {
	srv := withStream(t, 0)
	mustRun(t, srv, "consumer", "add", "ORDERS", "PROC")
	_, err := runCLI(t, srv, "", "consumer", "rm", "ORDERS", "PROC")
	if err == nil || !strings.Contains(err.Error(), "refusing to delete consumer PROC of stream ORDERS without confirmation") {
		t.Fatalf("rm without -f: err = %v", err)
	}
	if srv.Calls("ConsumerDelete") != 0 {
		t.Fatal("deleted without -f")
	}
	wantLines(t, mustRun(t, srv, "consumer", "rm", "ORDERS", "PROC", "-f"), "Consumer PROC was deleted")
	if _, err := fakeClient(t, srv).ConsumerInfo(context.Background(), "ORDERS", "PROC"); !errors.Is(err, client.ErrConsumerNotFound) {
		t.Fatalf("consumer still there: %v", err)
	}
	if _, err := runCLI(t, srv, "", "consumer", "rm", "ORDERS", "PROC", "-f"); !errors.Is(err, client.ErrConsumerNotFound) {
		t.Fatalf("rm of a deleted consumer: err = %v", err)
	}
}

func TestConsumerRmPromptsOnTerminal(t *testing.T) {
	old := isTerminal
	isTerminal = func(any) bool { return true }
	defer func() { isTerminal = old }()
	srv := withStream(t, 0)
	mustRun(t, srv, "consumer", "add", "ORDERS", "PROC")

	out, err := runCLI(t, srv, "\n", "consumer", "rm", "ORDERS", "PROC")
	if err == nil || !strings.Contains(err.Error(), "not confirmed") || !strings.Contains(out, "Really delete consumer PROC of stream ORDERS? [y/N]") {
		t.Fatalf("no answer: err = %v, out %q", err, out)
	}
	if out, err = runCLI(t, srv, "yes\n", "consumer", "rm", "ORDERS", "PROC"); err != nil || !strings.Contains(out, "Consumer PROC was deleted") {
		t.Fatalf("answer yes: err = %v, out %q", err, out)
	}
}
