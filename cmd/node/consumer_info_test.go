package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stratadb/strata/client"
)

func TestConsumerInfo(t *testing.T) {
	srv := withStream(t, 5)
	mustRun(t, srv, "consumer", "add", "ORDERS", "PROC", "--max-pending", "50", "--max-waiting", "4", "--replicas", "1")
	c := fakeClient(t, srv)
	ctx := context.Background()
	ms, err := c.Fetch(ctx, "ORDERS", "PROC", client.FetchOptions{Batch: 3})
	if err != nil || len(ms) != 3 {
		t.Fatalf("fetch: %d, %v", len(ms), err)
	}
	ms[0].Ack(ctx)
	ms[1].Nak(ctx, 0)
	if _, err := c.Fetch(ctx, "ORDERS", "PROC", client.FetchOptions{Batch: 1, NoWait: true}); err != nil {
		t.Fatal(err)
	}

	out := mustRun(t, srv, "consumer", "info", "ORDERS", "PROC")
	if !strings.HasPrefix(out, "Information for Consumer ORDERS > PROC created ") {
		t.Fatalf("headline:\n%s", out)
	}
	wantLines(t, out, "Name: PROC", "Pull Mode: true", "Deliver Policy: All", "Ack Policy: Explicit",
		"Ack Wait: 30s", "Max Deliver: unlimited", "Max Ack Pending: 50", "Max Waiting: 4", "Replicas: 1",
		"Cluster Information:", "Name: C1", "Leader: n1",
		"State:",
		"Last Delivered Message: Consumer sequence: 4 Stream sequence: 3",
		"Acknowledgment Floor: Consumer sequence: 1 Stream sequence: 1",
		"Outstanding Acks: 2 out of maximum 50",
		"Redelivered Messages: 1",
		"Unprocessed Messages: 2",
		"Waiting Pulls: 0 of maximum 4")
	for _, absent := range []string{"Replica:", "Backoff:", "Filter Subjects:", "Description:", "Durable:"} {
		if strings.Contains(out, absent) {
			t.Errorf("info shows %q:\n%s", absent, out)
		}
	}

	ci := consumerJSON(t, srv, "consumer", "info", "ORDERS", "PROC")
	if ci.Stream != "ORDERS" || ci.Name() != "PROC" || ci.State.AckPending != 2 || ci.State.Delivered.Stream != 3 || ci.Cluster.Leader != "n1" {
		t.Fatalf("json %+v", ci)
	}
}

func TestConsumerInfoEphemeral(t *testing.T) {
	srv := withStream(t, 0)
	ci, err := fakeClient(t, srv).AddConsumer(context.Background(), "ORDERS", client.ConsumerConfig{InactiveThreshold: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	wantLines(t, mustRun(t, srv, "consumer", "info", "ORDERS", ci.Name()), "Durable: no: removed after 1m0s without pulls")
}

func TestConsumerUnknown(t *testing.T) {
	srv := withStream(t, 0)
	for _, args := range [][]string{
		{"consumer", "info", "ORDERS", "NOPE"},
		{"consumer", "edit", "ORDERS", "NOPE", "--ack-wait", "1m"},
		{"consumer", "rm", "ORDERS", "NOPE", "-f"},
		{"consumer", "next", "ORDERS", "NOPE"},
		{"consumer", "sub", "ORDERS", "NOPE"},
		{"consumer", "cluster", "step-down", "ORDERS", "NOPE"},
	} {
		_, err := runCLI(t, srv, "", args...)
		if !errors.Is(err, client.ErrConsumerNotFound) || err.Error() != "consumer not found: NOPE on stream ORDERS" {
			t.Errorf("strata %s: err = %v", strings.Join(args, " "), err)
		}
	}
	for _, args := range [][]string{
		{"consumer", "info", "MISSING", "C"},
		{"consumer", "ls", "MISSING"},
		{"consumer", "report", "MISSING"},
		{"consumer", "next", "MISSING", "C"},
		{"stream", "view", "MISSING"},
		{"stream", "sub", "MISSING"},
	} {
		_, err := runCLI(t, srv, "", args...)
		if !errors.Is(err, client.ErrStreamNotFound) || err.Error() != "stream not found: MISSING" {
			t.Errorf("strata %s: err = %v", strings.Join(args, " "), err)
		}
	}
}
