package config

import (
	"fmt"
	"time"

	"github.com/hashicorp/raft"
)

// Raft is the `cluster { raft { } }` block: the Raft timings of every group
// on the node. Unset keys keep hashicorp/raft's defaults.
type Raft struct {
	HeartbeatTimeout   string `hcl:"heartbeat_timeout,optional"`
	ElectionTimeout    string `hcl:"election_timeout,optional"`
	LeaderLeaseTimeout string `hcl:"leader_lease_timeout,optional"`
	CommitTimeout      string `hcl:"commit_timeout,optional"`
	SnapshotInterval   string `hcl:"snapshot_interval,optional"`
	SnapshotThreshold  uint64 `hcl:"snapshot_threshold,optional"`
	TrailingLogs       uint64 `hcl:"trailing_logs,optional"`
}

// RaftConfig returns a copy of base with the raft block's settings, checked
// by raft.ValidateConfig. An error names the key.
func (c *Config) RaftConfig(base *raft.Config) (*raft.Config, error) {
	rc := *base
	r := c.Cluster.Raft
	if r == nil {
		return &rc, nil
	}
	durations := []struct {
		key string
		val string
		dst *time.Duration
	}{
		{"heartbeat_timeout", r.HeartbeatTimeout, &rc.HeartbeatTimeout},
		{"election_timeout", r.ElectionTimeout, &rc.ElectionTimeout},
		{"leader_lease_timeout", r.LeaderLeaseTimeout, &rc.LeaderLeaseTimeout},
		{"commit_timeout", r.CommitTimeout, &rc.CommitTimeout},
		{"snapshot_interval", r.SnapshotInterval, &rc.SnapshotInterval},
	}
	for _, d := range durations {
		if d.val == "" {
			continue
		}
		v, err := time.ParseDuration(d.val)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("cluster.raft.%s: %q is not a positive duration", d.key, d.val)
		}
		*d.dst = v
	}
	if r.SnapshotThreshold > 0 {
		rc.SnapshotThreshold = r.SnapshotThreshold
	}
	if r.TrailingLogs > 0 {
		rc.TrailingLogs = r.TrailingLogs
	}
	rc.LocalID = "check" // ValidateConfig wants one; the group sets its own
	if err := raft.ValidateConfig(&rc); err != nil {
		return nil, fmt.Errorf("cluster.raft: %w", err)
	}
	rc.LocalID = base.LocalID
	return &rc, nil
}
