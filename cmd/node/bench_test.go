package main

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/stratadb/strata/client"
	"github.com/stratadb/strata/client/clienttest"
)

func TestBenchPubAsyncClients(t *testing.T) {
	srv := clienttest.Start(t)
	out := mustRun(t, srv, "bench", "pub", "B.x", "--msgs", "301", "--size", "16", "--clients", "3",
		"--async", "--batch", "8", "--replicas", "3", "--no-progress")
	for _, want := range []string{"Starting benchmark [subject=B.x, stream=benchstream, replicas=3",
		"\nPub stats: ", " msgs/sec ~ ", "MiB/sec", "\n [1] ", "(101 msgs)", "\n [3] ", "(100 msgs)",
		"\n min ", "| stddev ", "\nAck latency: p50 "} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if srv.Received() != 301 || srv.Calls("StreamDelete") != 1 {
		t.Fatalf("received %d, deletes %d", srv.Received(), srv.Calls("StreamDelete"))
	}
	if _, err := fakeClient(t, srv).StreamInfo(context.Background(), "benchstream"); !errors.Is(err, client.ErrStreamNotFound) {
		t.Fatalf("bench stream not deleted: %v", err)
	}
}

func TestBenchPubSyncKeepJSON(t *testing.T) {
	srv := clienttest.Start(t)
	out := mustRun(t, srv, "bench", "pub", "B.x", "--msgs", "50", "--size", "10", "--sync", "--keep", "--json", "--stream", "B")
	var res benchResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if res.Mode != "sync" || res.Msgs != 50 || len(res.Clients) != 1 || res.Clients[0].Msgs != 50 ||
		res.MsgsPerSec <= 0 || res.Latency.Max < res.Latency.P50 || res.Latency.P50 <= 0 {
		t.Fatalf("result %+v", res)
	}
	si, err := fakeClient(t, srv).StreamInfo(context.Background(), "B")
	if err != nil || si.State.Msgs != 50 || si.State.Bytes == 0 {
		t.Fatalf("kept stream: %+v, %v", si, err)
	}
	// A stream that existed before is used and kept.
	out = mustRun(t, srv, "bench", "pub", "B.x", "--msgs", "10", "--sync", "--stream", "B")
	if !strings.Contains(out, "Publish latency: p50 ") {
		t.Fatalf("sync output:\n%s", out)
	}
	if si, err := fakeClient(t, srv).StreamInfo(context.Background(), "B"); err != nil || si.State.Msgs != 60 {
		t.Fatalf("existing stream: %+v, %v", si, err)
	}
}

func TestBenchPubFailsOnRefusal(t *testing.T) {
	srv := clienttest.Start(t)
	mustRun(t, srv, "stream", "add", "FULL", "--subjects", "full", "--max-msgs", "5", "--discard", "new")
	_, err := runCLI(t, srv, "", "bench", "pub", "full", "--stream", "FULL", "--msgs", "20", "--no-progress")
	if !errors.Is(err, client.ErrRefused) || !strings.Contains(err.Error(), "maximum messages exceeded") {
		t.Fatalf("err = %v", err)
	}
}

func TestBenchPubBadInput(t *testing.T) {
	expectBadInput(t, []string{"bench", "pub", "B.x"}, []badInput{
		{[]string{"--replicas", "2"}, "invalid --replicas 2"},
		{[]string{"--msgs", "0"}, "invalid --msgs 0"},
		{[]string{"--msgs", "2", "--clients", "3"}, "invalid --clients 3"},
		{[]string{"--batch", "0"}, "invalid --batch 0"},
		{[]string{"--size", "-1"}, "invalid --size -1"},
		{[]string{"--sync", "--async"}, "none of the others can be"},
	})
}

// badInput is flags a command refuses, and what its error says.
type badInput struct {
	args []string
	want string
}

// expectBadInput runs strata cmd with each case's flags: each must fail
// with its error, and none may send a call.
func expectBadInput(t *testing.T, cmd []string, cases []badInput) {
	t.Helper()
	srv := clienttest.Start(t)
	for _, tc := range cases {
		args := append(slices.Clone(cmd), tc.args...)
		if _, err := runCLI(t, srv, "", args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("strata %s: err = %v, want %q", strings.Join(args, " "), err, tc.want)
		}
	}
	if n := srv.TotalCalls(); n != 0 {
		t.Fatalf("bad input sent %d calls", n)
	}
}
