package main

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/stratadb/strata/client"
	"github.com/stratadb/strata/client/clienttest"
	"github.com/stratadb/strata/internal/testnet"
)

// TestServerConnectionFlags covers STRATA_URL, STRATA_USER/STRATA_PASSWORD
// and --user, and skipping a dead address in -s.
func TestServerConnectionFlags(t *testing.T) {
	srv := clienttest.Start(t)
	t.Setenv("STRATA_URL", "strata://"+srv.Addr)
	t.Setenv("STRATA_USER", "sys")
	t.Setenv("STRATA_PASSWORD", "secret")
	root := newRootCmd()
	root.SetOut(&bytes.Buffer{})
	root.SetArgs([]string{"server", "ls"})
	if err := root.ExecuteContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	md := srv.LastMetadata()
	if len(md["user"]) != 1 || md["user"][0] != "sys" || len(md["password"]) != 1 || md["password"][0] != "secret" {
		t.Fatalf("metadata %v", md)
	}

	mustRun(t, srv, "server", "ls", "--user", "admin", "-s", testnet.FreeAddr(t)+","+srv.Addr)
	if md := srv.LastMetadata(); md["user"][0] != "admin" {
		t.Fatalf("--user did not override STRATA_USER: %v", md)
	}
}

func TestServerUnreachable(t *testing.T) {
	root := newRootCmd()
	root.SetOut(&bytes.Buffer{})
	root.SetArgs([]string{"-s", testnet.FreeAddr(t), "--timeout", "200ms", "stream", "ls"})
	if err := root.ExecuteContext(context.Background()); !errors.Is(err, client.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
}
