package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRecoverLostQuorum: two of three servers are gone for good; the
// survivor, stopped, is recovered with a peers file naming only itself,
// restarts as the whole cluster and still holds every acknowledged
// message; the stream then shrinks to the one replica left.
func TestRecoverLostQuorum(t *testing.T) {
	needBinaries(t)
	servers := newTestCluster(t)
	for _, s := range servers {
		s.start(t, 1)
	}
	waitFormed(t, servers)
	mustCLI(t, servers, "ORDERS", "stream", "add", "ORDERS", "--subjects", "ORDERS.>", "--replicas", "3")
	for i := 1; i <= 20; i++ {
		mustCLI(t, servers, fmt.Sprintf("sequence %d", i), "pub", "ORDERS.new", fmt.Sprint("m", i), "--id", fmt.Sprint(i))
	}
	n1 := servers[0] // started from a config file
	servers[1].kill()
	servers[2].kill()
	n1.stop(t)

	peers := filepath.Join(t.TempDir(), "peers.json")
	if err := os.WriteFile(peers, []byte(fmt.Sprintf(`[{"id": "n1", "address": %q}]`, n1.clusterAddr)), 0o644); err != nil {
		t.Fatal(err)
	}
	config := n1.args[len(n1.args)-1]
	out, err := exec.Command(filepath.Join(binDir, "strata"), "recover", "--config", config, "--peers", peers).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Recovered stream ORDERS with peers [n1]") {
		t.Fatalf("recover: %v\n%s", err, out)
	}
	n1.start(t, 2)
	alone := servers[:1]
	waitFormed(t, alone)
	for i := 1; i <= 20; i++ {
		mustCLI(t, alone, fmt.Sprint("m", i), "get", "ORDERS", "--seq", fmt.Sprint(i))
	}
	mustCLI(t, alone, "sequence 21", "pub", "ORDERS.new", "after recovery")
	mustCLI(t, alone, "Replicas: 1", "stream", "edit", "ORDERS", "--replicas", "1")
	mustCLI(t, alone, "sequence 22", "pub", "ORDERS.new", "on one replica")
	mustCLI(t, alone, "Removed server n2", "server", "raft", "peer-remove", "n2", "-f")
	mustCLI(t, alone, "Removed server n3", "server", "raft", "peer-remove", "n3", "-f")
	if out := mustCLI(t, alone, "n1", "server", "ls"); strings.Contains(out, "n2") {
		t.Fatalf("n2 still listed:\n%s", out)
	}

	failOut, err := exec.Command(filepath.Join(binDir, "strata"), "recover", "--config", config, "--peers", peers).CombinedOutput()
	if err == nil {
		t.Fatalf("recover while the server runs succeeded:\n%s", failOut)
	}
}
