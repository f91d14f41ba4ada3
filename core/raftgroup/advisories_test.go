package raftgroup

import (
	"testing"
	"time"

	"github.com/hashicorp/raft"
	dto "github.com/prometheus/client_model/go"
)

func count(a *Advisories, kind, group string) float64 {
	var m dto.Metric
	_ = a.total.WithLabelValues(kind, group).Write(&m)
	return m.GetCounter().GetValue()
}

func TestAdvisoriesCountLeaderAndPeers(t *testing.T) {
	a := NewAdvisories("n0", nil)
	store := raft.NewInmemStore()
	mux, err := Listen("127.0.0.1:0", MuxConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer mux.Close()
	cfg := DefaultConfig()
	cfg.LocalID, cfg.GroupID, cfg.FSM, cfg.Raft = "n0", "g", NewCountingFSM(), TestRaftConfig()
	cfg.Stores = Stores{Log: store, Stable: store, Snapshots: raft.NewInmemSnapshotStore()}
	cfg.Advisories = a
	g, err := Start(mux, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Shutdown()
	if err := g.Bootstrap([]raft.Server{{ID: "n0", Address: g.Addr()}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for count(a, AdvisoryLeaderElected, "g") < 1 {
		if time.Now().After(deadline) {
			t.Fatal("no leader_elected advisory")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// A voter that never answers: added, then removed.
	if err := g.Raft().AddVoter("n1", "127.0.0.1:1", 0, 0).Error(); err != nil {
		t.Fatal(err)
	}
	_ = g.Raft().RemoveServer("n1", 0, 0).Error()
	for count(a, AdvisoryPeerAdded, "g") < 1 ||
		count(a, AdvisoryPeerRemoved, "g") < 1 {
		if time.Now().After(deadline) {
			t.Fatal("no peer advisories")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
