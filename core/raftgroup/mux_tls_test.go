package raftgroup

import (
	"net"
	"testing"
	"time"

	"github.com/stratadb/strata/core/certs"
	"github.com/stratadb/strata/internal/testcerts"
)

func newTLSMux(t *testing.T, ca *testcerts.CA, leaf testcerts.Leaf) *Mux {
	t.Helper()
	store, err := certs.Load(certs.Files{CertFile: leaf.CertFile, KeyFile: leaf.KeyFile, CAFile: ca.File, Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultMuxConfig()
	cfg.HeaderTimeout = time.Second
	cfg.Logger = newTestLogger(t, 0)
	cfg.ServerTLS, cfg.ClientTLS = store.ServerConfig(), store.ClientConfig()
	m, err := Listen("127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// TestMuxTLS: muxes with certificates of one CA route a group's
// connection as plain ones do; a mux whose certificate another CA signed,
// and a plain-TCP dialer, reach no group.
func TestMuxTLS(t *testing.T) {
	ca, rogue := testcerts.NewCA(t, "cluster"), testcerts.NewCA(t, "rogue")
	server := newTLSMux(t, ca, ca.Issue(t, "n1"))
	client := newTLSMux(t, ca, ca.Issue(t, "n2"))
	intruder := newTLSMux(t, rogue, rogue.Issue(t, "x"))
	sa := mustStream(t, server, "a")

	da := mustDial(t, mustStream(t, client, "a"), addrOf(server))
	writeString(t, da, "to-a")
	got := waitConn(t, acceptAsync(sa))
	if s := readString(t, got, 4); s != "to-a" {
		t.Fatalf("group a read %q", s)
	}

	if c, err := mustStream(t, intruder, "a").Dial(addrOf(server), time.Second); err == nil {
		expectClosedByPeer(t, c)
	}
	plain, err := net.Dial("tcp", server.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if _, err := plain.Write(encodeHeader("a", "127.0.0.1:1")); err != nil {
		t.Fatal(err)
	}
	// Closed by the mux: a connection it routed would stay open for the
	// group's Accept.
	expectClosedByPeer(t, plain)
}
