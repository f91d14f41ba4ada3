package main

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// cli runs the strata binary against the servers and returns its output.
func cli(t *testing.T, servers []*server, args ...string) (string, error) {
	t.Helper()
	var addrs []string
	for _, s := range servers {
		addrs = append(addrs, s.client)
	}
	cmd := exec.Command(filepath.Join(binDir, "strata"), append([]string{"-s", strings.Join(addrs, ",")}, args...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func mustCLI(t *testing.T, servers []*server, want string, args ...string) string {
	t.Helper()
	out, err := cli(t, servers, args...)
	if err != nil || !strings.Contains(out, want) {
		t.Fatalf("strata %s: %v; want %q in:\n%s", strings.Join(args, " "), err, want, out)
	}
	return out
}

func failCLI(t *testing.T, servers []*server, want string, args ...string) {
	t.Helper()
	out, err := cli(t, servers, args...)
	if err == nil || !strings.Contains(out, want) {
		t.Fatalf("strata %s: %v; want an error with %q:\n%s", strings.Join(args, " "), err, want, out)
	}
}

// TestCLIAgainstCluster runs the contract's commands against three real
// server processes, the way an operator would.
func TestCLIAgainstCluster(t *testing.T) {
	needBinaries(t)
	servers := newTestCluster(t)
	for _, s := range servers {
		s.start(t, 1)
	}
	waitFormed(t, servers)

	mustCLI(t, servers, "ORDERS", "stream", "add", "ORDERS", "--subjects", "ORDERS.>", "--replicas", "3", "--max-msgs", "1000")
	mustCLI(t, servers, "sequence 1", "pub", "ORDERS.new", "hello", "--id", "o-1")
	mustCLI(t, servers, "(duplicate)", "pub", "ORDERS.new", "hello again", "--id", "o-1")
	mustCLI(t, servers, "sequence 2", "pub", "ORDERS.paid", "world", "-H", "k:v")
	mustCLI(t, servers, "hello", "get", "ORDERS", "--seq", "1")
	info := mustCLI(t, servers, "Cluster Information", "stream", "info", "ORDERS")
	for _, want := range []string{"Leader: n", "Replica: n", "current", "Messages: 2"} {
		if !strings.Contains(info, want) {
			t.Fatalf("stream info lacks %q:\n%s", want, info)
		}
	}
	report := mustCLI(t, servers, "ORDERS", "stream", "report")
	if !strings.Contains(report, "*") {
		t.Fatalf("stream report marks no leader:\n%s", report)
	}
	mustCLI(t, servers, "n3", "server", "ls")
	mustCLI(t, servers, "RAFT Meta Group Information", "server", "report")
	var doc struct {
		Servers []json.RawMessage `json:"servers"`
	}
	out := mustCLI(t, servers, "{", "server", "report", "--json")
	if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.Servers) != 3 {
		t.Fatalf("server report --json: %v %s", err, out)
	}

	mustCLI(t, servers, "New leader elected", "stream", "cluster", "step-down", "ORDERS")
	mustCLI(t, servers, "New leader elected", "server", "raft", "step-down")
	failCLI(t, servers, "no server can take the place", "stream", "cluster", "peer-remove", "ORDERS", "n1")
	failCLI(t, servers, "no server can take the place", "server", "raft", "peer-remove", "n1", "-f")
	failCLI(t, servers, "not a server", "server", "raft", "peer-remove", "n9", "-f")
	failCLI(t, servers, "-f", "server", "raft", "peer-remove", "n2")
	mustCLI(t, servers, "sequence 3", "pub", "ORDERS.new", "after the moves")

	failCLI(t, servers, "replicas", "stream", "add", "BAD", "--subjects", "BAD", "--replicas", "2")
	failCLI(t, servers, "overlap", "stream", "add", "O2", "--subjects", "ORDERS.new", "--replicas", "1")
	failCLI(t, servers, "already", "stream", "add", "ORDERS", "--subjects", "X.>", "--replicas", "1")
	failCLI(t, servers, "no stream", "pub", "NOWHERE.x", "lost")
	failCLI(t, servers, "not found", "stream", "info", "NOPE")
	failCLI(t, servers, "not found", "get", "ORDERS", "--seq", "99")

	mustCLI(t, servers, "Replicas: 1", "stream", "edit", "ORDERS", "--replicas", "1")
	mustCLI(t, servers, "", "stream", "purge", "ORDERS", "-f")
	mustCLI(t, servers, "Messages: 0", "stream", "info", "ORDERS")
	failCLI(t, servers, "one replica", "stream", "cluster", "step-down", "ORDERS")
	mustCLI(t, servers, "", "stream", "rm", "ORDERS", "-f")
	failCLI(t, servers, "not found", "stream", "info", "ORDERS")
}

// TestLameDuck: `strata server lame-duck` on a stream's leader makes that
// server hand the leadership off and exit cleanly; the stream goes on.
func TestLameDuck(t *testing.T) {
	needBinaries(t)
	servers := newTestCluster(t)
	for _, s := range servers {
		s.start(t, 1)
	}
	waitFormed(t, servers)
	mustCLI(t, servers, "LD", "stream", "add", "LD", "--subjects", "LD.>", "--replicas", "3")
	mustCLI(t, servers, "sequence 1", "pub", "LD.x", "one", "--id", "1")
	var info struct {
		Cluster struct {
			Leader string `json:"leader"`
		} `json:"cluster"`
	}
	out := mustCLI(t, servers, "{", "stream", "info", "LD", "--json")
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		t.Fatal(err)
	}
	leader := byName(t, servers, info.Cluster.Leader)
	var others []*server
	for _, s := range servers {
		if s != leader {
			others = append(others, s)
		}
	}
	mustCLI(t, others, "lame duck", "server", "lame-duck", leader.name)
	select {
	case <-leader.done:
	case <-time.After(20 * time.Second):
		t.Fatalf("%s did not exit in lame duck mode", leader.name)
	}
	if code := leader.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("%s exited with %d", leader.name, code)
	}
	mustCLI(t, others, "sequence 2", "pub", "LD.x", "two", "--id", "2")
	out = mustCLI(t, others, "Leader:", "stream", "info", "LD")
	if strings.Contains(out, "Leader: "+leader.name) {
		t.Fatalf("the leader did not move:\n%s", out)
	}
}
