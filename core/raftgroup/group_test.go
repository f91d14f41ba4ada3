package raftgroup

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

const convergeWait = 20 * time.Second

func TestConfigValidate(t *testing.T) {
	valid := func() Config {
		c := DefaultConfig()
		c.LocalID, c.GroupID, c.FSM = "n1", "g", NewCountingFSM()
		c.Stores = InmemStores(t, "n1", "g")
		return c
	}
	if err := valid().Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	cases := map[string]struct {
		edit func(*Config)
		want error
	}{
		"no local id":             {func(c *Config) { c.LocalID = "" }, ErrNoLocalID},
		"no group id":             {func(c *Config) { c.GroupID = "" }, ErrInvalidGroupID},
		"no fsm":                  {func(c *Config) { c.FSM = nil }, ErrNoFSM},
		"no log store":            {func(c *Config) { c.Stores.Log = nil }, ErrNoStores},
		"no snapshots":            {func(c *Config) { c.Stores.Snapshots = nil }, ErrNoStores},
		"negative pool":           {func(c *Config) { c.MaxPool = -1 }, ErrBadConfig},
		"negative rpcs":           {func(c *Config) { c.MaxRPCsInFlight = -1 }, ErrBadConfig},
		"negative cache":          {func(c *Config) { c.LogCacheSize = -1 }, ErrBadConfig},
		"negative first election": {func(c *Config) { c.FirstElection = -1 }, ErrBadConfig},
		"first election under lease": {func(c *Config) {
			c.FirstElection = c.Raft.LeaderLeaseTimeout / 2
		}, ErrBadConfig},
		"raft rejects": {func(c *Config) {
			c.Raft.LeaderLeaseTimeout = 2 * c.Raft.HeartbeatTimeout
		}, ErrBadConfig},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := valid()
			tc.edit(&c)
			if err := c.Validate(); !errors.Is(err, tc.want) {
				t.Fatalf("Validate() = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestStartForcesBatchApplyAndRejectsDuplicateGroup(t *testing.T) {
	m := newTestMux(t, time.Second)
	cfg := DefaultConfig()
	cfg.LocalID, cfg.GroupID, cfg.FSM = "n1", "g", NewCountingFSM()
	cfg.Stores = InmemStores(t, "n1", "g")
	cfg.Raft = TestRaftConfig()
	cfg.Raft.BatchApplyCh = false
	if !cfg.raftConfig().BatchApplyCh || cfg.Raft.BatchApplyCh {
		t.Fatal("raftConfig must force BatchApplyCh on a copy")
	}
	g, err := Start(m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Shutdown()
	if g.Addr() != raft.ServerAddress(m.Addr().String()) {
		t.Fatalf("group addr %s, mux addr %s", g.Addr(), m.Addr())
	}
	cfg.FSM = NewCountingFSM()
	if _, err := Start(m, cfg); !errors.Is(err, ErrGroupRegistered) {
		t.Fatalf("second Start of group: %v", err)
	}
}

// setFSM is a CountingFSM that also remembers every id it applied, so a
// test can tell whether an entry whose Apply ended in ErrLeadershipLost was
// committed after all.
type setFSM struct {
	*CountingFSM
	mu  sync.Mutex
	ids map[uint64]bool
}

func newSetFSM() raft.FSM { return &setFSM{CountingFSM: NewCountingFSM(), ids: map[uint64]bool{}} }

func (f *setFSM) Apply(l *raft.Log) any {
	f.record(l)
	return f.CountingFSM.Apply(l)
}

func (f *setFSM) ApplyBatch(logs []*raft.Log) []any {
	for _, l := range logs {
		f.record(l)
	}
	return f.CountingFSM.ApplyBatch(logs)
}

func (f *setFSM) record(l *raft.Log) {
	if id, err := EntryID(l.Data); err == nil && l.Type == raft.LogCommand {
		f.mu.Lock()
		f.ids[id] = true
		f.mu.Unlock()
	}
}

func (f *setFSM) has(id uint64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ids[id]
}

// newTestCluster is NewCluster with setFSMs.
func newTestCluster(t *testing.T, nodes int, groups []string, tweak func(*raft.Config)) *Cluster {
	return NewCluster(t, ClusterConfig{Nodes: nodes, Groups: groups, NewFSM: newSetFSM, Raft: tweak})
}

// applyN applies entries with ids from..to-1 on the group's leader, each
// exactly once, surviving leader changes: entries refused (never in the
// log) are retried; entries whose outcome is unknown are retried only if no
// node applied them once a new leader has committed a barrier.
func applyN(t *testing.T, c *Cluster, group string, from, to uint64) {
	t.Helper()
	var pending []uint64
	for id := from; id < to; id++ {
		pending = append(pending, id)
	}
	for attempt := 0; len(pending) > 0; attempt++ {
		if attempt == 10 {
			t.Fatalf("group %s: %d entries not applied after %d attempts", group, len(pending), attempt)
		}
		refused, unknown := applyOnce(t, c.Leader(group), group, pending)
		if len(unknown) > 0 {
			barrier(t, c, group)
			for _, id := range unknown {
				if !appliedAnywhere(c, group, id) {
					refused = append(refused, id)
				}
			}
		}
		pending = refused
	}
}

// applyOnce applies ids on leader; it returns the ids refused before
// reaching the log and those lost with leadership (maybe committed).
func applyOnce(t *testing.T, leader *raft.Raft, group string, ids []uint64) (refused, unknown []uint64) {
	t.Helper()
	futures := make([]raft.ApplyFuture, len(ids))
	for i, id := range ids {
		futures[i] = leader.Apply(EncodeEntry(id, 64), 5*time.Second)
	}
	for i, f := range futures {
		switch err := f.Error(); {
		case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrEnqueueTimeout):
			refused = append(refused, ids[i])
		case errors.Is(err, raft.ErrLeadershipLost):
			unknown = append(unknown, ids[i])
		case err != nil:
			t.Fatalf("group %s: apply %d: %v", group, ids[i], err)
		}
	}
	return refused, unknown
}

// barrier waits until some leader commits a barrier: from then on, an entry
// of an earlier term is either applied somewhere or lost for good.
func barrier(t *testing.T, c *Cluster, group string) {
	t.Helper()
	for attempt := 0; attempt < 10; attempt++ {
		if err := c.Leader(group).Barrier(5 * time.Second).Error(); err == nil {
			return
		}
	}
	t.Fatalf("group %s: no barrier committed", group)
}

func appliedAnywhere(c *Cluster, group string, id uint64) bool {
	for i := range c.Size() {
		if c.FSM(i, group).(*setFSM).has(id) {
			return true
		}
	}
	return false
}

func expectedState(from, to uint64) FSMState {
	var s FSMState
	for id := from; id < to; id++ {
		s.Add(id)
	}
	return s
}

func fsmState(c *Cluster, i int, group string) FSMState {
	return c.FSM(i, group).(*setFSM).State()
}

// waitConverged waits until the FSMs of group on nodes hold want.
func waitConverged(t *testing.T, c *Cluster, group string, want FSMState, nodes ...int) {
	t.Helper()
	deadline := time.Now().Add(convergeWait)
	for {
		var lagging []string
		for _, i := range nodes {
			if got := fsmState(c, i, group); !got.SameEntries(want) {
				lagging = append(lagging, fmt.Sprintf("%s: %+v", c.NodeID(i), got))
			}
		}
		if len(lagging) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("group %s: want %+v, lagging %v", group, want, lagging)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func allNodes(c *Cluster) []int {
	nodes := make([]int, c.Size())
	for i := range nodes {
		nodes[i] = i
	}
	return nodes
}

func TestClusterReplicatesThreeGroups(t *testing.T) {
	groups := []string{"meta", "stream-a", "stream-b"}
	c := MakeCluster(t, 3, groups, nil, newSetFSM)
	for _, g := range groups {
		applyN(t, c, g, 1, 1001)
	}
	for _, g := range groups {
		waitConverged(t, c, g, expectedState(1, 1001), allNodes(c)...)
		var idx []uint64
		for i := range c.Size() {
			idx = append(idx, fsmState(c, i, g).LastIndex)
		}
		if idx[0] != idx[1] || idx[1] != idx[2] {
			t.Fatalf("group %s: last applied index differs: %v", g, idx)
		}
	}
}

func TestLeaderShutdownElectsNewLeader(t *testing.T) {
	const g = "g"
	c := newTestCluster(t, 3, []string{g}, nil)
	applyN(t, c, g, 1, 101)
	old := c.LeaderNode(g)
	c.StopGroup(old, g)

	next := c.LeaderNode(g)
	if next == old {
		t.Fatalf("stopped node %d still reported as leader", old)
	}
	applyN(t, c, g, 101, 201)
	var rest []int
	for i := range c.Size() {
		if i != old {
			rest = append(rest, i)
		}
	}
	waitConverged(t, c, g, expectedState(1, 201), rest...)

	// The old leader comes back on its stores and catches up.
	c.StartGroup(old, g)
	waitConverged(t, c, g, expectedState(1, 201), allNodes(c)...)
}

func TestSnapshotRestoreAndInstall(t *testing.T) {
	const g = "g"
	c := newTestCluster(t, 3, []string{g}, func(rc *raft.Config) {
		rc.SnapshotThreshold = 64
		rc.TrailingLogs = 16
		rc.SnapshotInterval = 50 * time.Millisecond
	})
	leader := c.LeaderNode(g)
	lagger := (leader + 1) % c.Size()
	c.StopGroup(lagger, g)
	c.WipeGroup(lagger, g)

	applyN(t, c, g, 1, 501)
	if err := c.Leader(g).Snapshot().Error(); err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	applyN(t, c, g, 501, 601)
	if first, err := c.Stores(c.LeaderNode(g), g).Log.FirstIndex(); err != nil || first <= 2 {
		t.Fatalf("leader log not compacted: first index %d, %v", first, err)
	}

	// A wiped follower can only catch up through InstallSnapshot: the
	// leader has compacted the log it missed.
	c.StartGroup(lagger, g)
	want := expectedState(1, 601)
	waitConverged(t, c, g, want, allNodes(c)...)
	if snaps, err := c.Stores(lagger, g).Snapshots.List(); err != nil || len(snaps) == 0 {
		t.Fatalf("follower has no installed snapshot: %v %v", snaps, err)
	}

	// A restarted leader restores its FSM from its own snapshot plus logs.
	leader = c.LeaderNode(g)
	c.StopGroup(leader, g)
	c.StartGroup(leader, g)
	waitConverged(t, c, g, want, leader)
	applyN(t, c, g, 601, 701)
	waitConverged(t, c, g, expectedState(1, 701), allNodes(c)...)
}
