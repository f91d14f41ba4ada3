package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stratadb/strata/client"
	"github.com/stratadb/strata/internal/clustertest"
	"github.com/stratadb/strata/internal/testcerts"
	"github.com/stratadb/strata/internal/testnet"
)

// tlsBlock is a TLS block of HCL for leaf's files.
func tlsBlock(name string, ca *testcerts.CA, leaf testcerts.Leaf, verify bool) string {
	return fmt.Sprintf("%s {\n  cert_file = %q\n  key_file = %q\n  ca_file = %q\n  verify = %t\n}\n",
		name, leaf.CertFile, leaf.KeyFile, ca.File, verify)
}

// tlsCluster starts three servers with TLS on every port: the client port
// verifies client certificates, the cluster port is mutual TLS. It
// returns the cluster, the CA, the client's TLS config and each server's
// client-port certificate directory.
func tlsCluster(t testing.TB) (*clustertest.Cluster, *testcerts.CA, *tls.Config, map[string]string) {
	return tlsClusterWith(t, "", "")
}

// tlsClusterWith is tlsCluster with more HCL for every server and inside
// the cluster block.
func tlsClusterWith(t testing.TB, extra, clusterExtra string) (*clustertest.Cluster, *testcerts.CA, *tls.Config, map[string]string) {
	ca := testcerts.NewCA(t, "strata")
	clusterLeaf := ca.Issue(t, "cluster")
	dirs := map[string]string{}
	for i := 1; i <= 3; i++ {
		dirs[fmt.Sprintf("n%d", i)] = t.TempDir()
	}
	app := ca.Issue(t, "app")
	clientTLS, err := client.LoadTLS(app.CertFile, app.KeyFile, ca.File)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pem, err := os.ReadFile(ca.File)
	if err != nil || !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("CA file: %v", err)
	}
	cluster := clustertest.Start(t, clustertest.Options{
		BinDir: binDir, ClientTLS: clientTLS, HTTPTLS: &tls.Config{RootCAs: pool},
		ClusterExtra: tlsBlock("tls", ca, clusterLeaf, true) + clusterExtra, Extra: extra,
		ExtraFor: func(name string) string {
			leaf := ca.IssueIn(t, dirs[name], "client-port")
			return tlsBlock("tls", ca, leaf, true) + tlsBlock("http_tls", ca, leaf, false)
		},
	})
	return cluster, ca, clientTLS, dirs
}

// TestTLSEveryPort runs a TLS cluster: it forms over mutual TLS, serves a
// TLS client (forwarded publishes included) and the CLI with --tlsca,
// --tlscert and --tlskey, refuses a plain-text client, a client without
// a certificate and a plain HTTP request, and keeps out a server whose
// certificate another CA signed.
func TestTLSEveryPort(t *testing.T) {
	needBinaries(t)
	cluster, ca, clientTLS, _ := tlsCluster(t)
	ctx := context.Background()
	c := cluster.Connect(t)
	if _, err := c.AddStream(ctx, client.StreamConfig{Name: "S", Subjects: []string{"S.>"}, Replicas: 3}); err != nil {
		t.Fatal(err)
	}
	for _, s := range cluster.Servers { // through each: two of them forward to the leader
		one := connectTLS(t, s.Client, clientTLS)
		if _, err := one.Publish(ctx, "S.x", []byte(s.Name)); err != nil {
			t.Fatalf("publish through %s: %v", s.Name, err)
		}
	}
	app := ca.Issue(t, "cli")
	out, err := exec.Command(filepath.Join(binDir, "strata"), "-s", cluster.URL(), "--tlsca", ca.File,
		"--tlscert", app.CertFile, "--tlskey", app.KeyFile, "stream", "info", "S", "--json").CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"messages": 3`) {
		t.Fatalf("strata stream info over TLS: %v\n%s", err, out)
	}

	addr := cluster.Servers[0].Client
	if err := tryCall(addr, nil); err == nil {
		t.Fatal("a plain-text client was served by a TLS port")
	}
	noCert, err := client.LoadTLS("", "", ca.File)
	if err != nil {
		t.Fatal(err)
	}
	if err := tryCall(addr, noCert); err == nil {
		t.Fatal("a client without a certificate was served by a port that verifies clients")
	}
	if resp, err := http.Get("http://" + cluster.Servers[0].HTTP + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatal("plain HTTP was served by the HTTPS port")
		}
	}

	intruderJoins(t, cluster)
}

// intruderJoins starts a server whose cluster certificate another CA
// signed, seeded with n1: n1 refuses its connections, and it never
// becomes a member of the meta group.
func intruderJoins(t *testing.T, cluster *clustertest.Cluster) {
	rogue := testcerts.NewCA(t, "rogue")
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "x4", fmt.Sprintf("server_name = \"x4\"\nlisten = %q\nhttp = %q\ndata_dir = %q\n"+
		"cluster {\n  name = \"T\"\n  listen = %q\n  routes = [%q]\n  bootstrap_expect = 3\n%s}\n",
		testnet.FreeAddr(t), testnet.FreeAddr(t), filepath.Join(dir, "data"), testnet.FreeAddr(t),
		cluster.Servers[0].ClusterAddr, tlsBlock("tls", rogue, rogue.Issue(t, "x4"), true)))
	cmd := exec.Command(filepath.Join(binDir, "strata"), "serve", "--config", cfg)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); _ = cmd.Wait() })
	waitFor(t, "n1 to refuse the intruder's TLS handshake", func() bool {
		return strings.Contains(cluster.Servers[0].Log(), "refused a cluster connection: TLS handshake failed")
	})
	list, err := cluster.Connect(t).Servers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range list.Servers {
		if s.Name == "x4" {
			t.Fatalf("the intruder is a server of the cluster: %+v", list.Servers)
		}
	}
}

// TestTLSReloadOnHangup: after a server's certificate files are replaced
// and it gets SIGHUP, new connections see the new certificate, and
// clients are still served.
func TestTLSReloadOnHangup(t *testing.T) {
	needBinaries(t)
	cluster, ca, clientTLS, dirs := tlsCluster(t)
	n1 := cluster.Servers[0]
	before := serverSerial(t, n1.Client, clientTLS)
	fresh := ca.IssueIn(t, dirs[n1.Name], "client-port")
	if serverSerial(t, n1.Client, clientTLS) != before {
		t.Fatal("the new certificate was served before SIGHUP")
	}
	n1.Signal(syscall.SIGHUP)
	waitFor(t, "n1 to present the new certificate", func() bool {
		return serverSerial(t, n1.Client, clientTLS) == fresh.Serial.String()
	})
	if _, err := connectTLS(t, n1.Client, clientTLS).Servers(context.Background()); err != nil {
		t.Fatalf("a call after the reload: %v", err)
	}
}

// serverSerial is the serial of the certificate a TLS port presents.
func serverSerial(t *testing.T, addr string, cfg *tls.Config) string {
	t.Helper()
	cfg = cfg.Clone()
	cfg.ServerName = "127.0.0.1"
	conn, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.String()
}

// connectTLS connects a client of the one server at addr.
func connectTLS(t *testing.T, addr string, cfg *tls.Config) *client.Client {
	t.Helper()
	return connectWith(t, []string{addr}, func(o *client.Options) { o.TLS = cfg })
}

// tryCall connects to addr with cfg (nil: plain text) and makes one call.
func tryCall(addr string, cfg *tls.Config) error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	opts := client.DefaultOptions()
	opts.Addrs, opts.TLS, opts.Timeout, opts.MaxRetries = []string{addr}, cfg, 2*time.Second, 0
	c, err := client.ConnectOptions(ctx, opts)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.StreamInfo(ctx, "S")
	return err
}
