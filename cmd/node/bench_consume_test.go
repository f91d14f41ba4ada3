package main

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stratadb/strata/client"
	"github.com/stratadb/strata/client/clienttest"
)

func TestBenchConsumeFillsAndAcks(t *testing.T) {
	srv := clienttest.Start(t)
	out := mustRun(t, srv, "bench", "consume", "BC", "--msgs", "301", "--size", "16", "--consumers", "3",
		"--batch", "40", "--no-progress")
	for _, want := range []string{"Filled stream BC with 301 messages of 16 B: Pub stats: ",
		"Starting consume benchmark [stream=BC, consumer=strata-bench, replicas=3, msgs=301, consumers=3, batch=40, ack=explicit]",
		"\nConsume stats: ", " msgs/sec ~ ", "MiB/sec", "\n [1] ", "(101 msgs)", "\n [3] ", "(100 msgs)",
		"\n min ", "| stddev ", "\nFetch latency: p50 ", "\nAckBatch latency: p50 "} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "while consuming") {
		t.Errorf("publish-while output without --publish-while:\n%s", out)
	}
	// Every message was acked once, in batches of at most --batch.
	seen := map[uint64]int{}
	for _, a := range srv.Acks() {
		seen[a.GetStreamSeq()]++
	}
	if len(seen) != 301 || len(srv.Acks()) != 301 {
		t.Fatalf("acks: %d of %d distinct messages", len(srv.Acks()), len(seen))
	}
	if calls := srv.Calls("ConsumerAck"); calls < 301/40 || calls > 3*(301/40+1) {
		t.Fatalf("%d AckBatch calls for 301 messages in batches of 40", calls)
	}
	for _, f := range srv.Fetches() {
		if f.GetBatch() > 40 {
			t.Fatalf("fetch of %d > --batch", f.GetBatch())
		}
	}
	// The consumer and the stream the run made are gone.
	if srv.Calls("ConsumerDelete") != 1 || srv.Calls("StreamDelete") != 1 {
		t.Fatalf("consumer deletes %d, stream deletes %d", srv.Calls("ConsumerDelete"), srv.Calls("StreamDelete"))
	}
	if _, err := fakeClient(t, srv).StreamInfo(context.Background(), "BC"); !errors.Is(err, client.ErrStreamNotFound) {
		t.Fatalf("bench stream not deleted: %v", err)
	}
}

func TestBenchConsumeExistingStreamJSON(t *testing.T) {
	srv := clienttest.Start(t)
	mustRun(t, srv, "bench", "pub", "E.x", "--stream", "E", "--msgs", "120", "--keep", "--no-progress")
	// The stream holds enough: nothing is published, the consumer sees
	// the same messages on each run, and --keep keeps it.
	for range 2 {
		out := mustRun(t, srv, "bench", "consume", "E", "--msgs", "100", "--batch", "30", "--ack", "none", "--keep", "--json")
		var res benchConsumeResult
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("%v:\n%s", err, out)
		}
		if res.Ack != "none" || res.Msgs != 100 || res.Replicas != 1 || len(res.Workers) != 1 || res.Workers[0].Msgs != 100 ||
			res.MsgsPerSec <= 0 || res.FetchLatency.P50 <= 0 || res.FetchLatency.Max < res.FetchLatency.P50 ||
			res.AckLatency != nil || res.Filled != nil || res.PublishWhile != nil {
			t.Fatalf("result %+v", res)
		}
	}
	if srv.Received() != 120 || len(srv.Acks()) != 0 {
		t.Fatalf("received %d, acks %d", srv.Received(), len(srv.Acks()))
	}
	ci, err := fakeClient(t, srv).ConsumerInfo(context.Background(), "E", "strata-bench")
	if err != nil || ci.Config.AckPolicy != "none" || ci.State.Delivered.Stream != 100 {
		t.Fatalf("kept consumer: %+v, %v", ci, err)
	}
	// A consumer of that name that the bench did not make is not touched.
	c := fakeClient(t, srv)
	if _, err := c.AddConsumer(context.Background(), "E", client.ConsumerConfig{Durable: "MINE"}); err != nil {
		t.Fatal(err)
	}
	_, err = runCLI(t, srv, "", "bench", "consume", "E", "--msgs", "10", "--consumer", "MINE")
	if err == nil || !strings.Contains(err.Error(), "not made by strata bench") {
		t.Fatalf("err = %v", err)
	}
	if _, err := c.ConsumerInfo(context.Background(), "E", "MINE"); err != nil {
		t.Fatalf("foreign consumer: %v", err)
	}
	// An existing stream with too few messages and a wildcard subject
	// cannot be filled without --subject.
	mustRun(t, srv, "stream", "add", "W", "--subjects", "W.>")
	if _, err := runCLI(t, srv, "", "bench", "consume", "W", "--msgs", "10"); err == nil || !strings.Contains(err.Error(), "pass --subject") {
		t.Fatalf("err = %v", err)
	}
	mustRun(t, srv, "bench", "consume", "W", "--msgs", "10", "--subject", "W.fill", "--no-progress")
}

func TestBenchConsumePublishWhile(t *testing.T) {
	srv := clienttest.Start(t)
	out := mustRun(t, srv, "bench", "consume", "PW", "--msgs", "2000", "--batch", "50", "--publish-while",
		"--publish-batch", "16", "--json")
	var res benchConsumeResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	p := res.PublishWhile
	if p == nil || p.Stream != "PW_PUB" || p.Subject != "PW_PUB.bench" || p.Msgs <= 0 || p.Msgs != p.Clients[0].Msgs ||
		p.MsgsPerSec <= 0 || res.Msgs != 2000 || res.Filled == nil || res.Filled.Msgs != 2000 {
		t.Fatalf("result %+v, publish %+v", res, p)
	}
	// The publisher stopped with the consume: what it sent is all acked.
	if srv.Received() != 2000+p.Msgs {
		t.Fatalf("received %d, want %d", srv.Received(), 2000+p.Msgs)
	}
	if srv.Calls("StreamDelete") != 2 {
		t.Fatalf("stream deletes %d", srv.Calls("StreamDelete"))
	}
	out = mustRun(t, srv, "bench", "consume", "PW", "--msgs", "500", "--publish-while", "--no-progress")
	if !strings.Contains(out, "\nPublished to PW_PUB while consuming: ") || !strings.Contains(out, "\nPub stats: ") {
		t.Fatalf("output:\n%s", out)
	}
}

func TestBenchConsumeFailsOnRefusal(t *testing.T) {
	srv := clienttest.Start(t)
	mustRun(t, srv, "stream", "add", "FULL", "--subjects", "full", "--max-msgs", "5", "--discard", "new")
	_, err := runCLI(t, srv, "", "bench", "consume", "FULL", "--msgs", "20", "--no-progress")
	if !errors.Is(err, client.ErrRefused) || !strings.Contains(err.Error(), "filling stream FULL") {
		t.Fatalf("err = %v", err)
	}
	// The publishes taken before the refusal stay: a run that needs no
	// more consumes them.
	if _, err := runCLI(t, srv, "", "bench", "consume", "FULL", "--msgs", "5", "--expires", "1s", "--no-progress"); err != nil {
		t.Fatalf("5 of 5: %v", err)
	}
}

func TestBenchConsumeBadInput(t *testing.T) {
	expectBadInput(t, []string{"bench", "consume", "S"}, []badInput{
		{[]string{"--replicas", "2"}, "invalid --replicas 2"},
		{[]string{"--msgs", "0"}, "invalid --msgs 0"},
		{[]string{"--msgs", "2", "--consumers", "3"}, "invalid --consumers 3"},
		{[]string{"--batch", "0"}, "invalid --batch 0"},
		{[]string{"--size", "-1"}, "invalid --size -1"},
		{[]string{"--ack", "all"}, `invalid --ack "all"`},
		{[]string{"--expires", "0s"}, "invalid --expires 0s"},
		{[]string{"--storage", "disk"}, `invalid --storage "disk"`},
		{[]string{"--publish-while", "--publish-batch", "0"}, "invalid --publish-batch 0"},
		{[]string{"--publish-while", "--publish-stream", "S"}, "invalid --publish-stream S"},
	})
}
