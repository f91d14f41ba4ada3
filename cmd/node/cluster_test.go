package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stratadb/strata/core/monitor"
	"github.com/stratadb/strata/internal/testnet"
)

// server is one `strata serve` process of the test cluster.
type server struct {
	name, http, client, dir string
	clusterAddr             string
	args                    []string
	cmd                     *exec.Cmd
	done                    chan struct{}
	log                     string
}

// newTestCluster sets up n1 (config file, no routes), n2 (config file,
// seeding n1) and n3 (flags only, seeding n1), all with bootstrap_expect 3.
func newTestCluster(t *testing.T) []*server {
	dir := t.TempDir()
	addrs := func() (string, string, string) { return testnet.FreeAddr(t), testnet.FreeAddr(t), testnet.FreeAddr(t) }
	c1, r1, h1 := addrs()
	c2, r2, h2 := addrs()
	c3, r3, h3 := addrs()
	hcl := `server_name = %q
listen = %q
http = %q
data_dir = %q
cluster {
  name = "T"
  listen = %q
  routes = [%s]
  bootstrap_expect = 3
}
`
	n1 := writeConfig(t, dir, "n1", fmt.Sprintf(hcl, "n1", c1, h1, filepath.Join(dir, "n1"), r1, ""))
	n2 := writeConfig(t, dir, "n2", fmt.Sprintf(hcl, "n2", c2, h2, filepath.Join(dir, "n2"), r2, `"`+r1+`"`))
	servers := []*server{
		{name: "n1", http: h1, client: c1, clusterAddr: r1, dir: dir, args: []string{"serve", "--config", n1}},
		{name: "n2", http: h2, client: c2, clusterAddr: r2, dir: dir, args: []string{"serve", "--config", n2}},
		{name: "n3", http: h3, client: c3, clusterAddr: r3, dir: dir, args: []string{"serve", "--name", "n3", "--cluster", "T", "--listen", c3,
			"--cluster-listen", r3, "--routes", r1, "--http", h3, "--data-dir", filepath.Join(dir, "n3"), "--bootstrap-expect", "3"}},
	}
	t.Cleanup(func() {
		for _, s := range servers {
			s.kill()
			if t.Failed() {
				b, _ := os.ReadFile(s.log)
				t.Logf("%s log (%s):\n%s", s.name, s.log, b)
			}
		}
	})
	return servers
}

// newFlagCluster sets up n servers configured by flags alone, all
// seeding n1, with bootstrap_expect n.
func newFlagCluster(t *testing.T, n int) []*server { return newFlagClusterIn(t, t.TempDir(), n) }

// newFlagClusterIn is newFlagCluster with the servers' data dirs under
// dir (dir/n1, …), which a test may mount first.
func newFlagClusterIn(t *testing.T, dir string, n int) []*server {
	var servers []*server
	for i := 1; i <= n; i++ {
		listen, seed := testnet.FreeAddr(t), ""
		if i > 1 {
			seed = servers[0].clusterAddr
		}
		servers = append(servers, flagServer(t, dir, i, n, listen, listen, seed))
	}
	return servers
}

// flagServer is server n<i> of n, configured by flags: its cluster port
// listens on listen and is advertised as advertise; seed, if set, is the
// route it joins through. It is killed when the test ends.
func flagServer(t *testing.T, dir string, i, n int, listen, advertise, seed string) *server {
	c, h := testnet.FreeAddr(t), testnet.FreeAddr(t)
	name := fmt.Sprintf("n%d", i)
	args := []string{"serve", "--name", name, "--cluster", "T", "--listen", c, "--cluster-listen", listen,
		"--cluster-advertise", advertise, "--http", h, "--data-dir", filepath.Join(dir, name), "--bootstrap-expect", fmt.Sprint(n)}
	if seed != "" {
		args = append(args, "--routes", seed)
	}
	args = append(args, secureArgs(t)...)
	s := &server{name: name, http: h, client: c, clusterAddr: advertise, dir: dir, args: args}
	t.Cleanup(func() {
		s.kill()
		if t.Failed() && s.log != "" {
			b, _ := os.ReadFile(s.log)
			t.Logf("%s log (%s):\n%s", s.name, s.log, b)
		}
	})
	return s
}

func writeConfig(t *testing.T, dir, name, src string) string {
	t.Helper()
	path := filepath.Join(dir, name+".hcl")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// start runs the server in its own process group; run numbers its log.
func (s *server) start(t *testing.T, run int) {
	t.Helper()
	s.log = filepath.Join(s.dir, fmt.Sprintf("%s.run%d.log", s.name, run))
	f, err := os.Create(s.log)
	if err != nil {
		t.Fatal(err)
	}
	s.cmd = exec.Command(filepath.Join(binDir, "strata"), s.args...)
	s.cmd.Stdout, s.cmd.Stderr = f, f
	// Its own process group (so kill -pgid takes its plugins too), and it
	// dies with this test process even if the test is killed.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.done = make(chan struct{})
	go func() { _ = s.cmd.Wait(); f.Close(); close(s.done) }()
}

// stop sends SIGTERM and expects a clean exit within 15 s.
func (s *server) stop(t *testing.T) {
	t.Helper()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		t.Fatalf("%s did not exit after SIGTERM", s.name)
	}
	if code := s.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("%s exited with %d after SIGTERM", s.name, code)
	}
}

// kill ends the server and its plugins if they still run.
func (s *server) kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.done:
	default:
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
	}
}

// running reports whether the server was started and has not exited.
func (s *server) running() bool {
	if s.done == nil {
		return false
	}
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

func (s *server) jsz() (monitor.Jsz, error) { return s.jszQuery("", 2*time.Second) }

// jszQuery reads /jsz with a query ("?digest=true") within timeout.
func (s *server) jszQuery(query string, timeout time.Duration) (monitor.Jsz, error) {
	var j monitor.Jsz
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.http+"/jsz"+query, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return j, err
	}
	defer resp.Body.Close()
	return j, json.NewDecoder(resp.Body).Decode(&j)
}

// waitFormed waits, at most 30 s, until every server is healthy and all
// name the same meta leader, and returns their /jsz documents.
func waitFormed(t *testing.T, servers []*server) []monitor.Jsz {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		docs, why := formed(servers)
		if why == "" {
			return docs
		}
		if time.Now().After(deadline) {
			t.Fatalf("cluster did not form: %s", why)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// formed returns the servers' /jsz, or why the cluster is not formed yet.
func formed(servers []*server) ([]monitor.Jsz, string) {
	var docs []monitor.Jsz
	for _, s := range servers {
		select {
		case <-s.done:
			return nil, s.name + " exited"
		default:
		}
		if code, err := getStatus(context.Background(), "http://"+s.http+"/healthz"); code != http.StatusOK {
			return nil, fmt.Sprintf("%s /healthz: %d %v", s.name, code, err)
		}
		j, err := s.jsz()
		if err != nil {
			return nil, fmt.Sprintf("%s /jsz: %v", s.name, err)
		}
		if j.Meta.Leader == "" || (len(docs) > 0 && j.Meta.Leader != docs[0].Meta.Leader) {
			return nil, fmt.Sprintf("%s sees leader %q", s.name, j.Meta.Leader)
		}
		if len(j.Meta.Peers) != len(servers) {
			return nil, fmt.Sprintf("%s has %d meta peers", s.name, len(j.Meta.Peers))
		}
		docs = append(docs, j)
	}
	return docs, ""
}

func peerIDs(j monitor.Jsz) []string {
	var ids []string
	for _, p := range j.Meta.Peers {
		ids = append(ids, p.ID+"/"+p.Suffrage)
	}
	slices.Sort(ids)
	return ids
}

// TestClusterFormsAndRestarts starts three strata processes, two of them
// seeded with n1 only, waits for one meta group, stops all with SIGTERM,
// restarts them on the same data and expects the same group back without
// a second bootstrap.
func TestClusterFormsAndRestarts(t *testing.T) {
	needBinaries(t)
	servers := newTestCluster(t)
	for _, s := range servers {
		s.start(t, 1)
	}
	docs := waitFormed(t, servers)
	want := []string{"n1/Voter", "n2/Voter", "n3/Voter"}
	for _, j := range docs {
		if got := peerIDs(j); !slices.Equal(got, want) {
			t.Fatalf("%s meta peers = %v; want %v", j.ServerName, got, want)
		}
		if len(j.Members) != 3 {
			t.Fatalf("%s members = %+v", j.ServerName, j.Members)
		}
	}
	term := docs[0].Meta.Term

	for _, s := range servers {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, s := range servers {
		s.stop(t)
	}
	for _, s := range servers {
		s.start(t, 2)
	}
	docs = waitFormed(t, servers)
	for _, j := range docs {
		if got := peerIDs(j); !slices.Equal(got, want) {
			t.Fatalf("after restart %s meta peers = %v; want %v", j.ServerName, got, want)
		}
		if j.Meta.Term <= term {
			t.Fatalf("after restart %s term = %d; want > %d", j.ServerName, j.Meta.Term, term)
		}
	}
	for _, s := range servers {
		log, err := os.ReadFile(s.log)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(log), "bootstrapped the meta group") || !strings.Contains(string(log), "existing_state=true") {
			t.Fatalf("%s bootstrapped again or lost its state:\n%s", s.name, log)
		}
	}
	for _, s := range servers {
		s.stop(t)
	}
}

// TestBinaryBadConfigExits: a bad config is one line on stderr and a
// non-zero exit status.
func TestBinaryBadConfigExits(t *testing.T) {
	needBinaries(t)
	cfg := writeConfig(t, t.TempDir(), "bad", "server_name = \"n1\"\ncluster { bootstrap_expect = -2 }\n")
	out, err := exec.Command(filepath.Join(binDir, "strata"), "serve", "--config", cfg).CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Fatalf("exit = %v; want a non-zero status", err)
	}
	want := "strata: config: cluster.bootstrap_expect: must be at least 1, got -2\n"
	if string(out) != want {
		t.Fatalf("output = %q; want %q", out, want)
	}
}

// addServer adds a server to a test cluster: flags only, seeding the first.
func addServer(t *testing.T, servers []*server, name string) *server {
	c, r, h := testnet.FreeAddr(t), testnet.FreeAddr(t), testnet.FreeAddr(t)
	dir := servers[0].dir
	s := &server{name: name, http: h, client: c, clusterAddr: r, dir: dir, args: []string{"serve", "--name", name,
		"--cluster", "T", "--listen", c, "--cluster-listen", r, "--routes", servers[0].clusterAddr, "--http", h,
		"--data-dir", filepath.Join(dir, name), "--bootstrap-expect", "3"}}
	t.Cleanup(s.kill)
	return s
}
