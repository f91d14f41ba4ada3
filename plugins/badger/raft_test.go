package badger

import (
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/stratadb/strata/internal/testlog"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

// countFSM counts applied commands.
type countFSM struct {
	mu sync.Mutex
	n  int
}

func (f *countFSM) Apply(*raft.Log) any {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	return f.n
}

func (f *countFSM) Snapshot() (raft.FSMSnapshot, error) { return nil, fmt.Errorf("no snapshots") }
func (f *countFSM) Restore(io.ReadCloser) error         { return fmt.Errorf("no snapshots") }

// startRaft runs a single-voter raft group on the plugin's stores.
func startRaft(t *testing.T, p *Plugin, group string, snaps raft.SnapshotStore) (*raft.Raft, *countFSM) {
	t.Helper()
	conf := raft.DefaultConfig()
	conf.LocalID = "n1"
	conf.HeartbeatTimeout = 50 * time.Millisecond
	conf.ElectionTimeout = 50 * time.Millisecond
	conf.LeaderLeaseTimeout = 50 * time.Millisecond
	conf.CommitTimeout = 5 * time.Millisecond
	conf.Logger = testlog.Logger(t, "", hclog.Warn)

	logs, stable := logStore(t, p, group), stableStore(t, p, group)
	_, trans := raft.NewInmemTransport("n1")
	existing, err := raft.HasExistingState(logs, stable, snaps)
	if err != nil {
		t.Fatalf("HasExistingState: %v", err)
	}
	if !existing {
		servers := raft.Configuration{Servers: []raft.Server{{ID: "n1", Address: trans.LocalAddr()}}}
		if err := raft.BootstrapCluster(conf, logs, stable, snaps, trans, servers); err != nil {
			t.Fatalf("BootstrapCluster: %v", err)
		}
	}
	fsm := &countFSM{}
	r, err := raft.NewRaft(conf, fsm, logs, stable, snaps, trans)
	if err != nil {
		t.Fatalf("NewRaft: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for r.State() != raft.Leader {
		if time.Now().After(deadline) {
			t.Fatal("no leader after 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return r, fsm
}

// TestRaftRestart runs hashicorp/raft on the stores, restarts it on a
// reopened plugin and checks it picks up its term and log.
func TestRaftRestart(t *testing.T) {
	dir := t.TempDir()
	snaps := raft.NewInmemSnapshotStore()
	p := openPlugin(t, dir, "")
	r, _ := startRaft(t, p, "g", snaps)
	for i := range 20 {
		if err := r.Apply(fmt.Appendf(nil, "cmd-%d", i), 5*time.Second).Error(); err != nil {
			t.Fatalf("Apply: %v", err)
		}
	}
	term, last := r.Stats()["term"], r.LastIndex()
	if err := r.Shutdown().Error(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}

	p = openPlugin(t, dir, "")
	r, fsm := startRaft(t, p, "g", snaps)
	defer r.Shutdown()
	// A restarted voter campaigns from its stored term, so it must rise.
	if got := r.Stats()["term"]; atoi(got) <= atoi(term) {
		t.Errorf("term after restart = %s, want above %s", got, term)
	}
	if err := r.Barrier(5 * time.Second).Error(); err != nil {
		t.Fatal(err)
	}
	fsm.mu.Lock()
	n := fsm.n
	fsm.mu.Unlock()
	if n != 20 {
		t.Errorf("FSM replayed %d commands after restart, want 20", n)
	}
	if r.LastIndex() <= last {
		t.Errorf("LastIndex after restart = %d, want above %d", r.LastIndex(), last)
	}
}

func atoi(s string) int {
	var n int
	fmt.Sscan(s, &n)
	return n
}
