package raftgroup

import (
	"testing"
)

// With coalescing on, heartbeats and commit-index ticks of several groups
// share frames; the groups still replicate, converge (followers learn the
// commit index only from ticks once writes stop) and fail over.
func TestCoalescedGroupsReplicateAndFailOver(t *testing.T) {
	groups := []string{"meta", "stream-a", "stream-b"}
	c := NewCluster(t, ClusterConfig{Nodes: 3, Groups: groups, NewFSM: newSetFSM, CoalesceWindow: DefaultCoalesceWindow})
	for _, g := range groups {
		applyN(t, c, g, 1, 201)
	}
	for _, g := range groups {
		waitConverged(t, c, g, expectedState(1, 201), allNodes(c)...)
	}
	for _, g := range groups { // a leader's heartbeats and ticks went coalesced
		i := c.LeaderNode(g)
		n := c.nodes[i]
		n.mux.co.mu.Lock()
		peers := len(n.mux.co.peers)
		n.mux.co.mu.Unlock()
		if peers == 0 {
			t.Fatalf("node %d, leader of %s, sent nothing through its coalescer", i, g)
		}
	}
	const g = "stream-a"
	old := c.LeaderNode(g)
	c.StopGroup(old, g)
	if next := c.LeaderNode(g); next == old {
		t.Fatalf("stopped node %d still reported as leader", old)
	}
	applyN(t, c, g, 201, 301)
	c.StartGroup(old, g)
	waitConverged(t, c, g, expectedState(1, 301), allNodes(c)...)
}

// A leader's VerifyLeader sends its heartbeats straight out, not in the
// next coalesced frame: a linearizable read pays a round trip, not a
// window.
func TestCoalescedVerifyLeaderSendsDirect(t *testing.T) {
	c := NewCluster(t, ClusterConfig{Nodes: 3, Groups: []string{"g"}, CoalesceWindow: DefaultCoalesceWindow})
	i := c.LeaderNode("g")
	g := c.Group(i, "g")
	for range 5 {
		if err := g.VerifyLeader(); err != nil {
			t.Fatalf("VerifyLeader on the leader: %v", err)
		}
	}
	if n := g.trans.direct.Load(); n == 0 {
		t.Fatal("VerifyLeader's heartbeats all went through the coalescer")
	}
	if g.trans.urgent.Load() != 0 {
		t.Fatal("urgent count not released after VerifyLeader")
	}
}
