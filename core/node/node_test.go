package node

import (
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stratadb/strata/internal/testlog"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/core/config"
	"github.com/stratadb/strata/core/raftgroup"
	"github.com/stratadb/strata/internal/testnet"
	"github.com/stratadb/strata/pluginsdk/storetest"
)

type plugins struct{ badger, file string }

// testPlugins are built once by TestMain.
var testPlugins plugins

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	flag.Parse()
	if !testing.Short() {
		dir, err := os.MkdirTemp("", "strata-node-test")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		if testPlugins, err = buildPlugins(dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return m.Run()
}

// buildPlugins builds the badger and file plugins into dir.
func buildPlugins(dir string) (plugins, error) {
	p := plugins{badger: filepath.Join(dir, "strata-plugin-badger"), file: filepath.Join(dir, "strata-plugin-file")}
	return p, storetest.BuildBinaries(dir, map[string]string{
		"strata-plugin-badger": "../../plugins/badger/cmd/strata-plugin-badger",
		"strata-plugin-file":   "../../plugins/file/cmd/strata-plugin-file",
	})
}

// spec is one test node's fixed settings, kept across restarts.
type spec struct {
	name, client, cluster, http, dataDir string
	routes                               []string
}

func newSpec(t *testing.T, dir, name string, routes ...string) spec {
	return spec{name: name, client: testnet.FreeAddr(t), cluster: testnet.FreeAddr(t), http: testnet.FreeAddr(t), dataDir: filepath.Join(dir, name), routes: routes}
}

func (s spec) config(t *testing.T, p plugins, expect int) *config.Config {
	t.Helper()
	routes := `[]`
	if len(s.routes) > 0 {
		routes = `["` + strings.Join(s.routes, `", "`) + `"]`
	}
	src := fmt.Sprintf(`
server_name = %q
listen      = %q
http        = %q
data_dir    = %q
log_level   = "debug"
cluster {
  name             = "T"
  listen           = %q
  routes           = %s
  bootstrap_expect = %d
}
plugin "badger" { path = %q }
plugin "file" { path = %q }
`, s.name, s.client, s.http, s.dataDir, s.cluster, routes, expect, p.badger, p.file)
	c, err := config.Parse([]byte(src), filepath.Join(s.dataDir, "node.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Finish(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	return c
}

// startNode starts a node with test timings; the test shuts it down.
func startNode(t *testing.T, s spec, p plugins, expect int) *Node {
	t.Helper()
	logger := testlog.Logger(t, s.name, hclog.Info)
	n, err := New(s.config(t, p, expect), logger,
		WithRaftConfig(raftgroup.TestRaftConfig()), WithMembershipInterval(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Shutdown() })
	return n
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// voters returns the meta group's configuration on n as "id=addr" strings.
func voters(n *Node) []string {
	f := n.Meta().Raft().GetConfiguration()
	if f.Error() != nil {
		return nil
	}
	var out []string
	for _, s := range f.Configuration().Servers {
		if s.Suffrage == raft.Voter {
			out = append(out, string(s.ID)+"="+string(s.Address))
		}
	}
	return out
}

func metaServers(n *Node) string {
	var out []string
	for _, s := range n.MetaServers() {
		out = append(out, s.Name)
	}
	return strings.Join(out, ",")
}

func leaderOf(n *Node) string {
	_, id := n.Meta().Raft().LeaderWithID()
	return string(id)
}

// TestBootstrapJoinRestart: three servers bootstrap the meta group from
// one seed each, a fourth is added as a voter, and after a full restart
// the same group comes back without bootstrapping again.
func TestBootstrapJoinRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts plugin processes")
	}
	p := testPlugins
	dir := t.TempDir()
	s1 := newSpec(t, dir, "n1")
	s1.routes = []string{testnet.FreeAddr(t)} // a seed that is down: harmless
	specs := []spec{s1, newSpec(t, dir, "n2", s1.cluster), newSpec(t, dir, "n3", s1.cluster)}
	var nodes []*Node
	for _, s := range specs {
		nodes = append(nodes, startNode(t, s, p, 3))
	}
	for _, n := range nodes {
		waitFor(t, "all three recorded on every node", func() bool { return metaServers(n) == "n1,n2,n3" })
	}
	if v := voters(nodes[0]); len(v) != 3 {
		t.Fatalf("voters = %v", v)
	}

	s4 := newSpec(t, dir, "n4", specs[1].cluster)
	specs = append(specs, s4)
	nodes = append(nodes, startNode(t, s4, p, 3))
	for _, n := range nodes {
		waitFor(t, "n4 recorded on "+n.cfg.ServerName, func() bool { return metaServers(n) == "n1,n2,n3,n4" })
	}
	want := voters(nodes[0])
	if len(want) != 4 || !strings.Contains(strings.Join(want, " "), "n4="+s4.cluster) {
		t.Fatalf("voters after join = %v", want)
	}
	term := nodes[0].Meta().Raft().CurrentTerm()

	for _, n := range nodes {
		if err := n.Shutdown(); err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	}
	nodes = nodes[:0]
	for _, s := range specs {
		// bootstrap_expect 1 would bootstrap a fresh group at once: a
		// node with state must ignore it.
		nodes = append(nodes, startNode(t, s, p, 1))
	}
	for _, n := range nodes {
		waitFor(t, "a leader after restart", func() bool { return leaderOf(n) != "" })
	}
	for _, n := range nodes {
		waitFor(t, "a common leader", func() bool { return leaderOf(n) == leaderOf(nodes[0]) })
		if got := voters(n); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("%s voters after restart = %v; want %v", n.cfg.ServerName, got, want)
		}
		if got := n.Meta().Raft().CurrentTerm(); got <= term {
			t.Fatalf("term after restart = %d; want > %d", got, term)
		}
	}
	for _, n := range nodes {
		waitFor(t, "the meta state restored on "+n.cfg.ServerName, func() bool { return metaServers(n) == "n1,n2,n3,n4" })
	}
}

func TestStartFailsCleanly(t *testing.T) {
	if testing.Short() {
		t.Skip("starts plugin processes")
	}
	p := testPlugins
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	s := newSpec(t, t.TempDir(), "n1")
	s.cluster = busy.Addr().String()
	n, err := New(s.config(t, p, 1), hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	err = n.Start()
	if err == nil || !strings.Contains(err.Error(), "cluster.listen") {
		t.Fatalf("Start on a busy port: %v", err)
	}
	if _, err := os.Stat(s.dataDir); err != nil {
		t.Fatalf("data dir not made: %v", err)
	}
	if err := n.Start(); err != ErrStarted {
		t.Fatalf("second Start: %v", err)
	}
}
