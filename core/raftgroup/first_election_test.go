package raftgroup

import (
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// A new group whose node 0 has FirstElection elects node 0 long before the
// others' heartbeat timeout could fire, and node 0 then runs with the
// configured timeouts again.
func TestFirstElectionElectsPreferredThenRestoresTimeouts(t *testing.T) {
	const slow = 3 * time.Second
	c := NewCluster(t, ClusterConfig{
		Nodes:  3,
		Groups: []string{"g"},
		Raft: func(rc *raft.Config) {
			rc.HeartbeatTimeout, rc.ElectionTimeout = slow, slow
		},
		Group: func(node int, cfg *Config) {
			if node == 0 {
				cfg.FirstElection = cfg.Raft.LeaderLeaseTimeout
			}
		},
	})
	if got := c.LeaderNode("g"); got != 0 {
		t.Fatalf("leader is node %d, want the preferred node 0", got)
	}
	r := c.Group(0, "g").Raft()
	deadline := time.Now().Add(LeaderWait)
	for r.ReloadableConfig().HeartbeatTimeout != slow {
		if time.Now().After(deadline) {
			t.Fatalf("heartbeat timeout still %s after the first election, want %s",
				r.ReloadableConfig().HeartbeatTimeout, slow)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if et := r.ReloadableConfig().ElectionTimeout; et != slow {
		t.Fatalf("election timeout %s, want %s", et, slow)
	}
	if err := r.Apply([]byte("x"), time.Second).Error(); err != nil {
		t.Fatalf("apply after restore: %v", err)
	}
}
