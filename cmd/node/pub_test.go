package main

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stratadb/strata/client"
	"github.com/stratadb/strata/client/clienttest"
)

func TestPub(t *testing.T) {
	srv := clienttest.Start(t)
	mustRun(t, srv, "stream", "add", "ORDERS", "--subjects", "ORDERS.>")
	wantLines(t, mustRun(t, srv, "pub", "ORDERS.new", "hello", "--id", "m1"), "Published to stream ORDERS, sequence 1")
	wantLines(t, mustRun(t, srv, "pub", "ORDERS.new", "hello", "--id", "m1"), "Published to stream ORDERS, sequence 1 (duplicate)")

	out := mustRun(t, srv, "pub", "ORDERS.new", "order {{Count}}", "--count", "3", "-H", "source: cli", "-H", "k:v")
	wantLines(t, out, "Published to stream ORDERS, sequence 2", "Published to stream ORDERS, sequence 4")
	m, err := fakeClient(t, srv).GetMsg(context.Background(), "ORDERS", 3)
	if err != nil {
		t.Fatal(err)
	}
	if string(m.Data) != "order 2" || len(m.Header) != 2 || m.Header[0] != (client.Header{Key: "source", Value: "cli"}) {
		t.Fatalf("stored %+v", m)
	}

	if _, err := runCLI(t, srv, "from stdin", "pub", "ORDERS.in"); err != nil {
		t.Fatal(err)
	}
	if m, err := fakeClient(t, srv).GetMsg(context.Background(), "ORDERS", 5); err != nil || string(m.Data) != "from stdin" {
		t.Fatalf("payload from stdin: %+v, %v", m, err)
	}
}

func TestPubErrors(t *testing.T) {
	srv := clienttest.Start(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"pub", "S", "x", "-H", "novalue"}, `invalid header "novalue"`},
		{[]string{"pub", "S", "x", "-H", ":v"}, "invalid header"},
		{[]string{"pub", "S", "x", "--count", "0"}, "invalid --count 0"},
		{[]string{"pub"}, "accepts between 1 and 2 arg"},
	} {
		if _, err := runCLI(t, srv, "", tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("strata %s: err = %v, want %q", strings.Join(tc.args, " "), err, tc.want)
		}
	}
	if n := srv.TotalCalls(); n != 0 {
		t.Fatalf("bad input sent %d calls", n)
	}
	_, err := runCLI(t, srv, "", "pub", "nowhere", "x")
	if !errors.Is(err, client.ErrNoStreamForSubject) || !strings.Contains(err.Error(), "nowhere") {
		t.Fatalf("publish to no stream: err = %v", err)
	}
}
