package certs_test

import (
	"crypto/tls"
	"errors"
	"io"
	"testing"

	"github.com/stratadb/strata/core/certs"
	"github.com/stratadb/strata/internal/testcerts"
)

// serve accepts TLS connections on a loopback port with cfg, writes one
// byte to each and closes it.
func serve(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = c.Write([]byte{1})
			}()
		}
	}()
	return ln.Addr().String()
}

// dial connects with cfg and reads the byte; it returns the server's
// certificate serial and the first error.
func dial(addr string, cfg *tls.Config) (string, error) {
	cfg = cfg.Clone()
	cfg.ServerName = "127.0.0.1"
	c, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		return "", err
	}
	defer c.Close()
	if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
		return "", err
	}
	return c.ConnectionState().PeerCertificates[0].SerialNumber.String(), nil
}

func load(t *testing.T, f certs.Files) *certs.Store {
	t.Helper()
	s, err := certs.Load(f)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestMutualTLS: two stores of one CA talk; a client of another CA, and
// one without a certificate, are refused by a verifying server; a client
// refuses a server of another CA.
func TestMutualTLS(t *testing.T) {
	ca, rogue := testcerts.NewCA(t, "ca"), testcerts.NewCA(t, "rogue")
	a, b, r := ca.Issue(t, "a"), ca.Issue(t, "b"), rogue.Issue(t, "r")
	server := load(t, certs.Files{CertFile: a.CertFile, KeyFile: a.KeyFile, CAFile: ca.File, Verify: true})
	client := load(t, certs.Files{CertFile: b.CertFile, KeyFile: b.KeyFile, CAFile: ca.File})
	addr := serve(t, server.ServerConfig())
	if serial, err := dial(addr, client.ClientConfig()); err != nil || serial != a.Serial.String() {
		t.Fatalf("trusted client: serial %s, %v; want %s", serial, err, a.Serial)
	}
	untrusted := load(t, certs.Files{CertFile: r.CertFile, KeyFile: r.KeyFile, CAFile: ca.File})
	if _, err := dial(addr, untrusted.ClientConfig()); err == nil {
		t.Fatal("a client whose certificate another CA signed was served")
	}
	noCert := &tls.Config{RootCAs: nil, InsecureSkipVerify: true}
	if _, err := dial(addr, noCert); err == nil {
		t.Fatal("a client without a certificate was served")
	}
	rogueServer := load(t, certs.Files{CertFile: r.CertFile, KeyFile: r.KeyFile})
	if _, err := dial(serve(t, rogueServer.ServerConfig()), client.ClientConfig()); err == nil {
		t.Fatal("the client trusted a server another CA signed")
	}
}

// TestReload: a reload presents the new certificate to the next
// connection; a reload of broken files fails and keeps the old one.
func TestReload(t *testing.T) {
	ca := testcerts.NewCA(t, "ca")
	dir := t.TempDir()
	first := ca.IssueIn(t, dir, "n")
	server := load(t, certs.Files{CertFile: first.CertFile, KeyFile: first.KeyFile, CAFile: ca.File})
	client := load(t, certs.Files{CertFile: first.CertFile, KeyFile: first.KeyFile, CAFile: ca.File})
	addr := serve(t, server.ServerConfig())
	second := ca.IssueIn(t, dir, "n")
	if serial, _ := dial(addr, client.ClientConfig()); serial != first.Serial.String() {
		t.Fatalf("before the reload: serial %s, want %s", serial, first.Serial)
	}
	if err := server.Reload(); err != nil {
		t.Fatal(err)
	}
	if serial, err := dial(addr, client.ClientConfig()); err != nil || serial != second.Serial.String() {
		t.Fatalf("after the reload: serial %s, %v; want %s", serial, err, second.Serial)
	}
	broken := certs.Files{CertFile: second.CertFile, KeyFile: second.KeyFile, CAFile: second.KeyFile}
	if _, err := certs.Load(broken); !errors.Is(err, certs.ErrBadCA) {
		t.Fatalf("a key as the CA file: %v, want ErrBadCA", err)
	}
}

// TestFilesValidate: a verifying port needs a CA; every port a pair.
func TestFilesValidate(t *testing.T) {
	if err := (certs.Files{CertFile: "c"}).Validate(); !errors.Is(err, certs.ErrNoCertificate) {
		t.Fatalf("no key: %v", err)
	}
	if err := (certs.Files{CertFile: "c", KeyFile: "k", Verify: true}).Validate(); !errors.Is(err, certs.ErrNoCA) {
		t.Fatalf("verify without a CA: %v", err)
	}
}
