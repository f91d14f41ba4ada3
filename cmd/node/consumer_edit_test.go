package main

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stratadb/strata/client"
)

func TestConsumerEditChangesOnlyGivenFlags(t *testing.T) {
	srv := withStream(t, 0)
	mustRun(t, srv, "consumer", "add", "ORDERS", "PROC", "--filter", "ORDERS.new", "--ack", "all",
		"--max-deliver", "3", "--description", "first", "--max-pending", "10")
	out := mustRun(t, srv, "consumer", "edit", "ORDERS", "PROC", "--ack-wait", "2m", "--backoff", "1s",
		"--backoff", "10s", "--max-waiting", "16")
	wantLines(t, out, "Consumer PROC was updated", "Ack Wait: 2m0s", "Backoff: 1s, 10s", "Max Waiting: 16",
		"Description: first", "Max Ack Pending: 10", "Ack Policy: All", "Filter Subjects: ORDERS.new")

	cfg := consumerJSON(t, srv, "consumer", "edit", "ORDERS", "PROC", "--description", "second", "--max-deliver", "-1").Config
	if cfg.Description != "second" || cfg.MaxDeliver != 0 || cfg.AckWait != 2*time.Minute || cfg.MaxAckPending != 10 ||
		!slices.Equal(cfg.Backoff, []time.Duration{time.Second, 10 * time.Second}) || cfg.AckPolicy != "all" {
		t.Fatalf("config after edits: %+v", cfg)
	}
	cfg = consumerJSON(t, srv, "consumer", "edit", "ORDERS", "PROC", "--max-pending", "20").Config
	if cfg.MaxAckPending != 20 || cfg.Description != "second" {
		t.Fatalf("config after edit: %+v", cfg)
	}
	if _, err := runCLI(t, srv, "", "consumer", "edit", "NOPE", "PROC", "--max-pending", "1"); !errors.Is(err, client.ErrStreamNotFound) {
		t.Fatalf("edit on an unknown stream: err = %v", err)
	}
}
