package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stratadb/strata/internal/testlog"

	"github.com/stratadb/strata/internal/testnet"
)

// execute runs the strata command with args and returns its error.
func execute(ctx context.Context, stderr *testlog.Buffer, args ...string) error {
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(stderr)
	root.SetErr(stderr)
	return root.ExecuteContext(ctx)
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestServeBadInput(t *testing.T) {
	badKey := writeFile(t, "bad.hcl", "server_name = \"n1\"\nclustr { name = \"C\" }\n")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"serve", "--nope"}, "unknown flag: --nope"},
		{"argument", []string{"serve", "extra"}, `unknown command "extra"`},
		{"missing config", []string{"serve", "--config", "/nonexistent/n1.hcl"}, "no such file"},
		{"bad key", []string{"serve", "--config", badKey}, "clustr"},
		{"bad listen flag", []string{"serve", "--listen", "nope"}, `listen: "nope" is not host:port`},
		{"bad route flag", []string{"serve", "--routes", "127.0.0.1:6222,oops"}, `cluster.routes: "oops"`},
		{"bad bootstrap flag", []string{"serve", "--bootstrap-expect", "0"}, "cluster.bootstrap_expect"},
		{"bad flag type", []string{"serve", "--bootstrap-expect", "three"}, "--bootstrap-expect"},
		{"empty name flag", []string{"serve", "--name", ""}, "server_name: required"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := execute(context.Background(), &testlog.Buffer{}, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v; want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestServeFlagsOverrideFile(t *testing.T) {
	file := writeFile(t, "n1.hcl", `
server_name = "file-name"
data_dir    = "/file/data"
cluster {
  name   = "FILE"
  routes = ["127.0.0.1:7001"]
  bootstrap_expect = 3
}
`)
	o := &serveOptions{}
	cmd := o.command()
	if err := cmd.ParseFlags([]string{"--config", file, "--name", "flag-name", "--routes", "127.0.0.1:7002,127.0.0.1:7003",
		"--http", "127.0.0.1:9999"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := o.config(cmd.Flags())
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("%s %s %s %v %d %s", cfg.ServerName, cfg.DataDir, cfg.Cluster.Name, cfg.Cluster.Routes,
		cfg.Cluster.BootstrapExpect, cfg.HTTP)
	want := "flag-name /file/data FILE [127.0.0.1:7002 127.0.0.1:7003] 3 127.0.0.1:9999"
	if got != want {
		t.Fatalf("config = %s; want %s", got, want)
	}
}

// TestServeInProcess runs `strata serve` with bootstrap_expect 1 until
// /healthz answers 200, then cancels it and expects a clean return.
func TestServeInProcess(t *testing.T) {
	needBinaries(t)
	httpAddr := testnet.FreeAddr(t)
	file := writeFile(t, "n1.hcl", fmt.Sprintf(`
server_name = "solo"
cluster { bootstrap_expect = 1 }
plugin "badger" { path = %q }
plugin "file" { path = %q }
`, filepath.Join(binDir, "strata-plugin-badger"), filepath.Join(binDir, "strata-plugin-file")))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logs := &testlog.Buffer{}
	done := make(chan error, 1)
	go func() {
		done <- execute(ctx, logs, "serve", "--config", file, "--http", httpAddr, "--listen", testnet.FreeAddr(t),
			"--cluster-listen", testnet.FreeAddr(t), "--data-dir", t.TempDir())
	}()
	defer func() {
		if t.Failed() {
			t.Logf("serve log:\n%s", logs)
		}
	}()
	if err := waitHealthy(ctx, "http://"+httpAddr, done); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not return after cancel")
	}
	if !strings.Contains(logs.String(), "strata.node: shut down") {
		t.Fatalf("no clean shutdown in the log")
	}
}

// waitHealthy polls base/healthz until 200, for at most 20 s, failing
// early if serve returns.
func waitHealthy(ctx context.Context, base string, done <-chan error) error {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			return fmt.Errorf("serve returned early: %v", err)
		default:
		}
		if code, _ := getStatus(ctx, base+"/healthz"); code == http.StatusOK {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("/healthz did not turn 200 in time")
}

func getStatus(ctx context.Context, url string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}
