package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stratadb/strata/client"
)

// fetchAck fetches n messages of consumer name (expecting exactly them)
// and acks each batch as it arrives if ack is set; it returns their stream sequences.
func (e *env) fetchAck(t *testing.T, stream, name string, n int, ack bool) []uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var seqs []uint64
	for len(seqs) < n {
		msgs, err := e.c.Fetch(ctx, stream, name, client.FetchOptions{Batch: n - len(seqs), Expires: 5 * time.Second})
		if err != nil {
			t.Fatalf("fetch %s/%s: %v", stream, name, err)
		}
		acks := make([]client.Ack, len(msgs))
		for i, m := range msgs {
			seqs = append(seqs, m.Seq)
			acks[i] = client.Ack{Seq: m.Seq}
		}
		if !ack || len(acks) == 0 {
			continue
		}
		if _, _, err := e.c.AckBatch(ctx, stream, name, acks); err != nil {
			t.Fatalf("ack %s/%s: %v", stream, name, err)
		}
	}
	return seqs
}

// TestCLIConsumersSurviveRestore backs up an R3 stream whose consumer
// acked 1..40 and holds 41..50 unacked, loses the stream and restores
// it: the consumer delivers 41..50 again once their ack wait is over,
// then 51..60, and never 1..40; a consumer that had not read anything
// reads everything.
func TestCLIConsumersSurviveRestore(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.c.AddStream(ctx, client.StreamConfig{Name: "ORDERS", Subjects: []string{"ORDERS.>"}, Replicas: 3}); err != nil {
		t.Fatal(err)
	}
	e.fill2(t, "ORDERS", 60)
	for _, name := range []string{"WORK", "AUDIT"} {
		cfg := client.ConsumerConfig{Durable: name, AckWait: time.Second, Description: "saved " + name}
		if _, err := e.c.AddConsumer(ctx, "ORDERS", cfg); err != nil {
			t.Fatal(err)
		}
	}
	e.fetchAck(t, "ORDERS", "WORK", 40, true)
	if got := e.fetchAck(t, "ORDERS", "WORK", 10, false); got[0] != 41 || got[9] != 50 {
		t.Fatalf("second fetch delivered %v, want 41..50", got)
	}

	out := e.mustRun(t, "save", "ORDERS", "s3://backups/strata", "--no-progress")
	if !strings.Contains(out, "60 messages (seq 1-60), 2 consumers") {
		t.Fatalf("save printed %q", out)
	}
	if out := e.mustRun(t, "ls", "s3://backups/strata"); !strings.Contains(out, "│ 1-60      │         2 │") {
		t.Fatalf("ls does not show 2 consumers:\n%s", out)
	}
	if out := e.mustRun(t, "verify", "s3://backups/strata/ORDERS"); !strings.Contains(out, "2 consumers (WORK, AUDIT)") &&
		!strings.Contains(out, "2 consumers (AUDIT, WORK)") {
		t.Fatalf("verify printed %q", out)
	}
	var report verifyReport
	if err := json.Unmarshal([]byte(e.mustRun(t, "verify", "s3://backups/strata/ORDERS", "--json")), &report); err != nil ||
		len(report.Consumers) != 2 || report.Manifest.Consumers != 2 {
		t.Fatalf("verify --json: %+v, %v", report, err)
	}

	if err := e.c.DeleteStream(ctx, "ORDERS"); err != nil {
		t.Fatal(err)
	}
	out = e.mustRun(t, "restore", "s3://backups/strata/ORDERS", "--no-progress")
	if !strings.Contains(out, "restored ORDERS") || !strings.Contains(out, "2 consumers") {
		t.Fatalf("restore printed %q", out)
	}
	info, err := e.c.ConsumerInfo(ctx, "ORDERS", "WORK")
	if err != nil {
		t.Fatal(err)
	}
	if info.State.AckFloor.Stream != 40 || info.State.AckPending != 10 || info.Config.Description != "saved WORK" {
		t.Fatalf("restored WORK: %+v", info)
	}
	checkResumes(t, e.fetchAck(t, "ORDERS", "WORK", 20, true))
	if got := e.fetchAck(t, "ORDERS", "AUDIT", 60, true); got[0] != 1 || got[59] != 60 {
		t.Fatalf("AUDIT delivered %v, want 1..60", got)
	}
}

// checkResumes checks that seqs are 41..60, each once, in any order.
func checkResumes(t *testing.T, seqs []uint64) {
	t.Helper()
	seen := map[uint64]bool{}
	for _, s := range seqs {
		if s < 41 || s > 60 || seen[s] {
			t.Fatalf("restored WORK delivered %v: want 41..60 once each", seqs)
		}
		seen[s] = true
	}
	if len(seen) != 20 {
		t.Fatalf("restored WORK delivered %v: want 41..60", seqs)
	}
}
