package raftgroup

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

// LeaderWait bounds how long Cluster.Leader waits for a leader.
const LeaderWait = 10 * time.Second

// ClusterConfig configures NewCluster.
type ClusterConfig struct {
	// Nodes is the number of in-process nodes, each with its own Mux.
	Nodes int
	// Groups are the group ids bootstrapped on every node.
	Groups []string
	// NewStores returns the stores of one group on one node (nil: InmemStores).
	NewStores func(tb testing.TB, node, group string) Stores
	// NewFSM returns a fresh FSM (nil: NewCountingFSM).
	NewFSM func() raft.FSM
	// Raft, if set, adjusts each group's raft config after the test timeouts.
	Raft func(*raft.Config)
	// Group, if set, adjusts the Config of each group on node i before it
	// starts (after Raft).
	Group func(node int, cfg *Config)
	// CoalesceWindow is each node's MuxConfig.CoalesceWindow (0: off).
	CoalesceWindow time.Duration
	// LogLevel for raft and mux logs sent to tb.Log (NoLevel: the level named
	// by $STRATA_TEST_LOG_LEVEL, else Info).
	LogLevel hclog.Level
}

// InmemStores returns raft's in-memory log, stable and snapshot stores.
func InmemStores(testing.TB, string, string) Stores {
	s := raft.NewInmemStore()
	return Stores{Log: s, Stable: s, Snapshots: raft.NewInmemSnapshotStore()}
}

// TestRaftConfig returns DefaultConfig's raft config with timeouts suited to
// in-process clusters on loopback.
func TestRaftConfig() *raft.Config {
	rc := DefaultConfig().Raft
	rc.HeartbeatTimeout = 100 * time.Millisecond
	rc.ElectionTimeout = 100 * time.Millisecond
	rc.LeaderLeaseTimeout = 100 * time.Millisecond
	rc.CommitTimeout = 5 * time.Millisecond
	return rc
}

// Cluster is a set of in-process nodes running the same raft groups over
// real TCP on 127.0.0.1, for tests and benchmarks.
type Cluster struct {
	tb       testing.TB
	cfg      ClusterConfig
	logger   hclog.Logger
	nodes    []*clusterNode
	shutdown sync.Once
}

type clusterNode struct {
	id     raft.ServerID
	mux    *Mux
	groups map[string]*Group
	fsms   map[string]raft.FSM
	stores map[string]Stores
}

// MakeCluster starts n nodes, each running and bootstrapping every group in
// groups. newStores and newFSM may be nil for the in-memory defaults. The
// cluster is shut down by tb.Cleanup.
func MakeCluster(tb testing.TB, n int, groups []string,
	newStores func(tb testing.TB, node, group string) Stores, newFSM func() raft.FSM) *Cluster {
	tb.Helper()
	return NewCluster(tb, ClusterConfig{Nodes: n, Groups: groups, NewStores: newStores, NewFSM: newFSM})
}

// NewCluster is MakeCluster with every option.
func NewCluster(tb testing.TB, cfg ClusterConfig) *Cluster {
	tb.Helper()
	if cfg.NewStores == nil {
		cfg.NewStores = InmemStores
	}
	if cfg.NewFSM == nil {
		cfg.NewFSM = func() raft.FSM { return NewCountingFSM() }
	}
	c := &Cluster{tb: tb, cfg: cfg, logger: newTestLogger(tb, cfg.LogLevel)}
	tb.Cleanup(c.Shutdown)
	for i := range cfg.Nodes {
		c.nodes = append(c.nodes, c.newNode(i))
	}
	for i := range c.nodes {
		for _, g := range cfg.Groups {
			c.StartGroup(i, g)
		}
	}
	return c
}

func (c *Cluster) newNode(i int) *clusterNode {
	id := raft.ServerID(fmt.Sprintf("n%d", i))
	cfg := DefaultMuxConfig()
	cfg.Logger = c.logger.Named(string(id)).Named("mux")
	cfg.CoalesceWindow = c.cfg.CoalesceWindow
	m, err := Listen("127.0.0.1:0", cfg)
	if err != nil {
		c.tb.Fatalf("node %s: %v", id, err)
	}
	n := &clusterNode{id: id, mux: m, groups: map[string]*Group{}, fsms: map[string]raft.FSM{}, stores: map[string]Stores{}}
	for _, g := range c.cfg.Groups {
		n.stores[g] = c.cfg.NewStores(c.tb, string(id), g)
	}
	return n
}

// Size returns the number of nodes.
func (c *Cluster) Size() int { return len(c.nodes) }

// NodeID returns node i's server id.
func (c *Cluster) NodeID(i int) raft.ServerID { return c.nodes[i].id }

// Mux returns node i's Mux.
func (c *Cluster) Mux(i int) *Mux { return c.nodes[i].mux }

// Group returns group on node i, or nil while it is stopped.
func (c *Cluster) Group(i int, group string) *Group { return c.nodes[i].groups[group] }

// FSM returns the FSM of group on node i (its latest one after a restart).
func (c *Cluster) FSM(i int, group string) raft.FSM { return c.nodes[i].fsms[group] }

// Stores returns the stores of group on node i.
func (c *Cluster) Stores(i int, group string) Stores { return c.nodes[i].stores[group] }

// Servers returns the voter configuration every group is bootstrapped with.
func (c *Cluster) Servers() []raft.Server {
	servers := make([]raft.Server, len(c.nodes))
	for i, n := range c.nodes {
		addr := raft.ServerAddress(n.mux.Addr().String())
		servers[i] = raft.Server{Suffrage: raft.Voter, ID: n.id, Address: addr}
	}
	return servers
}

// StartGroup starts group on node i with its current stores and a new FSM,
// and bootstraps it (a no-op when the stores already hold state).
func (c *Cluster) StartGroup(i int, group string) {
	c.tb.Helper()
	n := c.nodes[i]
	if n.groups[group] != nil {
		c.tb.Fatalf("node %s: group %q already running", n.id, group)
	}
	cfg := DefaultConfig()
	cfg.LocalID, cfg.GroupID = n.id, group
	cfg.Stores, cfg.FSM = n.stores[group], c.cfg.NewFSM()
	cfg.Raft = TestRaftConfig()
	if c.cfg.Raft != nil {
		c.cfg.Raft(cfg.Raft)
	}
	cfg.Logger = c.logger.Named(string(n.id))
	if c.cfg.Group != nil {
		c.cfg.Group(i, &cfg)
	}
	g, err := Start(n.mux, cfg)
	if err != nil {
		c.tb.Fatalf("node %s: %v", n.id, err)
	}
	n.groups[group], n.fsms[group] = g, cfg.FSM
	if err := g.Bootstrap(c.Servers()); err != nil {
		c.tb.Fatalf("node %s: bootstrap %q: %v", n.id, group, err)
	}
}

// StopGroup shuts group down on node i, keeping its stores.
func (c *Cluster) StopGroup(i int, group string) {
	c.tb.Helper()
	n := c.nodes[i]
	g := n.groups[group]
	if g == nil {
		return
	}
	delete(n.groups, group)
	if err := g.Shutdown(); err != nil {
		c.tb.Errorf("node %s: shutdown %q: %v", n.id, group, err)
	}
}

// WipeGroup replaces the stores of a stopped group on node i with new ones,
// so the next StartGroup begins from nothing.
func (c *Cluster) WipeGroup(i int, group string) {
	c.tb.Helper()
	n := c.nodes[i]
	if n.groups[group] != nil {
		c.tb.Fatalf("node %s: wipe of running group %q", n.id, group)
	}
	n.stores[group] = c.cfg.NewStores(c.tb, string(n.id)+"-wiped", group)
}

// Leader returns the leader of group (the one with the highest term if two
// briefly claim it), failing the test after LeaderWait.
func (c *Cluster) Leader(group string) *raft.Raft {
	c.tb.Helper()
	i := c.LeaderNode(group)
	return c.nodes[i].groups[group].Raft()
}

// LeaderNode is Leader returning the leader's node index.
func (c *Cluster) LeaderNode(group string) int {
	c.tb.Helper()
	deadline := time.Now().Add(LeaderWait)
	for time.Now().Before(deadline) {
		if i := c.currentLeader(group); i >= 0 {
			return i
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.tb.Fatalf("group %q: no leader after %s", group, LeaderWait)
	return -1
}

func (c *Cluster) currentLeader(group string) int {
	best, term := -1, uint64(0)
	for i, n := range c.nodes {
		g := n.groups[group]
		if g == nil || g.Raft().State() != raft.Leader {
			continue
		}
		if t := g.Raft().CurrentTerm(); best < 0 || t > term {
			best, term = i, t
		}
	}
	return best
}

// Shutdown stops every group and mux. It runs once, also from tb.Cleanup.
func (c *Cluster) Shutdown() {
	c.shutdown.Do(func() {
		var wg sync.WaitGroup
		for i, n := range c.nodes {
			for g := range n.groups {
				wg.Go(func() { c.stopQuiet(i, n.groups[g]) })
			}
		}
		wg.Wait()
		for _, n := range c.nodes {
			clear(n.groups)
			_ = n.mux.Close()
		}
	})
}

func (c *Cluster) stopQuiet(i int, g *Group) {
	if err := g.Shutdown(); err != nil {
		c.tb.Errorf("node %s: shutdown %q: %v", c.nodes[i].id, g.ID(), err)
	}
}

// newTestLogger returns an hclog logger writing to tb.Log until the test's
// cleanups finish; later lines (from goroutines still winding down) are dropped.
func newTestLogger(tb testing.TB, level hclog.Level) hclog.Logger {
	w := &tbWriter{tb: tb}
	tb.Cleanup(w.stop) // registered first, so it runs after the cluster's shutdown
	if level == hclog.NoLevel {
		level = hclog.LevelFromString(os.Getenv("STRATA_TEST_LOG_LEVEL"))
	}
	if level == hclog.NoLevel {
		level = hclog.Info
	}
	return hclog.New(&hclog.LoggerOptions{Name: tb.Name(), Level: level, Output: w})
}

type tbWriter struct {
	mu   sync.Mutex
	tb   testing.TB
	done bool
}

func (w *tbWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.tb.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func (w *tbWriter) stop() {
	w.mu.Lock()
	w.done = true
	w.mu.Unlock()
}
