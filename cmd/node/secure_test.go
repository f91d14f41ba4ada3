package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/stratadb/strata/client"
	"github.com/stratadb/strata/internal/testcerts"
)

// STRATA_TEST_SECURE=1 runs the servers of newProxiedCluster, newFlagCluster
// and the other flag-configured clusters with mutual TLS on the client
// port and with accounts, and connectAll signs in as a system account
// user over TLS: `STRATA_TEST_SECURE=1 make test-faults` shows the fault
// scenarios hold with security on. The cluster port stays plain: the
// fault suite's partition proxies read its connection header to tell
// which server dials (TestTLSEveryPort covers cluster TLS).
var testSecure = os.Getenv("STRATA_TEST_SECURE") == "1"

// secureSetup is the shared material of a secure run, made once.
var secureSetup struct {
	once      sync.Once
	config    string // HCL file every server loads before its flags
	clientTLS *tls.Config
}

const secureUser, securePassword = "admin", "secure-run-password"

// secureArgs returns the serve arguments that load the secure config, or
// none when the run is not secure.
func secureArgs(t testing.TB) []string {
	if !testSecure {
		return nil
	}
	secureSetup.once.Do(func() { makeSecureSetup(t) })
	return []string{"--config", secureSetup.config}
}

func makeSecureSetup(t testing.TB) {
	dir, err := os.MkdirTemp(binDir, "secure")
	if err != nil {
		t.Fatal(err)
	}
	ca := testcerts.NewCA(t, "faults")
	node, app := ca.IssueIn(t, dir, "node"), ca.IssueIn(t, dir, "client")
	hash, err := bcrypt.GenerateFromPassword([]byte(securePassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(dir, "ca.pem") // ca.File goes with the first test's temporary directory
	pem, err := os.ReadFile(ca.File)
	if err != nil || os.WriteFile(caFile, pem, 0o600) != nil {
		t.Fatalf("CA file: %v", err)
	}
	hcl := fmt.Sprintf("tls {\n  cert_file = %q\n  key_file = %q\n  ca_file = %q\n  verify = true\n}\n",
		node.CertFile, node.KeyFile, caFile) + fmt.Sprintf(
		"accounts {\n  SYS { users = [{ user = %q, password = %q }] }\n}\nsystem_account = \"SYS\"\n"+
			"cluster {\n  token = \"secure-run-cluster-token\"\n}\n", secureUser, hash)
	secureSetup.config = filepath.Join(dir, "secure.hcl")
	if err := os.WriteFile(secureSetup.config, []byte(hcl), 0o600); err != nil {
		t.Fatal(err)
	}
	if secureSetup.clientTLS, err = client.LoadTLS(app.CertFile, app.KeyFile, caFile); err != nil {
		t.Fatal(err)
	}
}

// secureOptions sets the client options of a secure run.
func secureOptions(t testing.TB, opts *client.Options) {
	if !testSecure {
		return
	}
	secureArgs(t)
	opts.TLS, opts.User, opts.Password = secureSetup.clientTLS, secureUser, securePassword
}

// connectWith connects a client of addrs, its options changed by set (TLS,
// a user), closed at cleanup.
func connectWith(tb testing.TB, addrs []string, set func(*client.Options)) *client.Client {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	opts := client.DefaultOptions()
	opts.Addrs, opts.Timeout = addrs, 20*time.Second
	set(&opts)
	c, err := client.ConnectOptions(ctx, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = c.Close() })
	return c
}
