package main

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stratadb/strata/client"
	"github.com/stratadb/strata/client/clienttest"
)

func TestGet(t *testing.T) {
	srv := clienttest.Start(t)
	mustRun(t, srv, "stream", "add", "ORDERS", "--subjects", "ORDERS.>")
	mustRun(t, srv, "pub", "ORDERS.new", "first")
	mustRun(t, srv, "pub", "ORDERS.new", "hello world", "-H", "k:v", "--id", "m2")

	out := mustRun(t, srv, "get", "ORDERS", "--seq", "2")
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if !strings.HasPrefix(lines[0], "Item: ORDERS#2 received ") || !strings.HasSuffix(lines[0], " +0000 UTC on Subject ORDERS.new") {
		t.Fatalf("item line %q", lines[0])
	}
	wantLines(t, out, "Headers:", "Msg-Id: m2", "k: v")
	if last := lines[len(lines)-1]; last != "hello world" || lines[len(lines)-2] != "" {
		t.Fatalf("payload not after a blank line:\n%s", out)
	}

	var m client.Msg
	if err := json.Unmarshal([]byte(mustRun(t, srv, "get", "ORDERS", "--seq", "1", "--json")), &m); err != nil {
		t.Fatal(err)
	}
	if m.Seq != 1 || string(m.Data) != "first" || m.Subject != "ORDERS.new" || m.Time.IsZero() {
		t.Fatalf("json msg %+v", m)
	}
}

func TestGetErrors(t *testing.T) {
	srv := clienttest.Start(t)
	mustRun(t, srv, "stream", "add", "ORDERS")
	if _, err := runCLI(t, srv, "", "get", "ORDERS", "--seq", "9"); !errors.Is(err, client.ErrMsgNotFound) {
		t.Fatalf("unknown seq: err = %v", err)
	}
	if _, err := runCLI(t, srv, "", "get", "NOPE", "--seq", "1"); err == nil || err.Error() != "stream not found: NOPE" {
		t.Fatalf("unknown stream: err = %v", err)
	}
	calls := srv.TotalCalls()
	if _, err := runCLI(t, srv, "", "get", "ORDERS"); err == nil || !strings.Contains(err.Error(), `"seq" not set`) {
		t.Fatalf("no --seq: err = %v", err)
	}
	if _, err := runCLI(t, srv, "", "get", "ORDERS", "--seq", "0"); err == nil || !strings.Contains(err.Error(), "invalid --seq 0") {
		t.Fatalf("--seq 0: err = %v", err)
	}
	if srv.TotalCalls() != calls {
		t.Fatal("bad input reached the server")
	}
}
