package storetest

import (
	"bytes"
	"fmt"
	"io"
	"sync"
	"testing"

	"github.com/hashicorp/raft"
)

// concurrentGroups is how many groups Groups/Concurrent writes at once.
const concurrentGroups = 16

// TestGroups runs the cases about many Raft groups sharing one plugin.
func TestGroups(t *testing.T, open Opener) {
	t.Run("Isolation", func(t *testing.T) { testGroupsIsolation(t, open) })
	t.Run("Concurrent", func(t *testing.T) { testGroupsConcurrent(t, open) })
}

// groupData is what one group of the Groups cases writes: its own log
// count, term, stable values and snapshot bytes.
type groupData struct {
	name     string
	stores   Stores
	logs     []*raft.Log
	term     uint64
	cand     []byte
	snap     *raft.SnapshotMeta
	snapData []byte
}

func newGroupData(name string, stores Stores, i int) *groupData {
	g := &groupData{
		name:     name,
		stores:   stores,
		logs:     makeLogs(1, 8+i, uint64(i+1), name),
		term:     uint64(100 + i),
		cand:     []byte(fmt.Sprintf("%s-candidate", name)),
		snap:     snapMeta(uint64(50+i), uint64(i+1), 1, 0),
		snapData: []byte(fmt.Sprintf("snapshot of %s", name)),
	}
	g.snap.Size = int64(len(g.snapData))
	return g
}

// write stores the group's data through every store kind it has. It runs
// off the test goroutine, so it returns errors instead of failing.
func (g *groupData) write() error {
	if s := g.stores.Log; s != nil {
		if err := s.StoreLogs(g.logs[:4]); err != nil {
			return fmt.Errorf("%s: StoreLogs: %w", g.name, err)
		}
		if err := s.StoreLogs(g.logs[4:]); err != nil {
			return fmt.Errorf("%s: StoreLogs: %w", g.name, err)
		}
	}
	if s := g.stores.Stable; s != nil {
		if err := s.SetUint64(keyCurrentTerm, g.term); err != nil {
			return fmt.Errorf("%s: SetUint64: %w", g.name, err)
		}
		if err := s.Set(keyLastVoteCand, g.cand); err != nil {
			return fmt.Errorf("%s: Set: %w", g.name, err)
		}
	}
	if s := g.stores.Snapshots; s != nil {
		m := g.snap
		sink, err := s.Create(m.Version, m.Index, m.Term, m.Configuration, m.ConfigurationIndex, peerTransport{})
		if err != nil {
			return fmt.Errorf("%s: Create: %w", g.name, err)
		}
		if _, err := sink.Write(g.snapData); err != nil {
			_ = sink.Cancel()
			return fmt.Errorf("%s: sink.Write: %w", g.name, err)
		}
		if err := sink.Close(); err != nil {
			return fmt.Errorf("%s: sink.Close: %w", g.name, err)
		}
		g.snap.ID = sink.ID()
	}
	return nil
}

// check verifies the group sees exactly its own data.
func (g *groupData) check(t *testing.T) {
	t.Helper()
	if s := g.stores.Log; s != nil {
		checkIndexes(t, s, 1, uint64(len(g.logs)))
		checkLogs(t, s, g.logs)
		checkMissing(t, s, uint64(len(g.logs)+1))
	}
	if s := g.stores.Stable; s != nil {
		checkGetUint64(t, s, keyCurrentTerm, g.term)
		checkGet(t, s, keyLastVoteCand, g.cand)
	}
	if s := g.stores.Snapshots; s != nil {
		metas := list(t, s)
		if len(metas) != 1 {
			t.Errorf("group %s lists snapshots %v, want only its own %q", g.name, ids(metas), g.snap.ID)
			return
		}
		checkMeta(t, "List of group "+g.name, metas[0], g.snap)
		checkSnapshot(t, s, g.snap, g.snapData)
	}
}

// checkEmpty verifies the group has no data at all.
func checkEmpty(t *testing.T, name string, st Stores) {
	t.Helper()
	if s := st.Log; s != nil {
		checkIndexes(t, s, 0, 0)
		checkMissing(t, s, 1)
	}
	if s := st.Stable; s != nil {
		checkUint64Missing(t, s, keyCurrentTerm)
		checkGetMissing(t, s, keyLastVoteCand)
	}
	if s := st.Snapshots; s != nil {
		if metas := list(t, s); len(metas) != 0 {
			t.Errorf("group %s lists snapshots %v, want none", name, ids(metas))
		}
	}
}

func skipIfNothing(t *testing.T, st Stores) {
	t.Helper()
	if st.Log == nil && st.Stable == nil && st.Snapshots == nil {
		t.Skip("plugin serves no store kind")
	}
}

// testGroupsIsolation: data written to one group is invisible in another,
// including one whose name extends the first's.
func testGroupsIsolation(t *testing.T, open Opener) {
	base := newGroup("groups-iso")
	a := newGroupData(base, open(t, base), 0)
	skipIfNothing(t, a.stores)
	b := newGroupData(base+"1", open(t, base+"1"), 1)

	if err := a.write(); err != nil {
		t.Fatal(err)
	}
	checkEmpty(t, b.name, b.stores)
	if err := b.write(); err != nil {
		t.Fatal(err)
	}
	a.check(t)
	b.check(t)
}

// testGroupsConcurrent: many groups write logs, stable values and a
// snapshot at the same time; afterwards each sees only its own data.
func testGroupsConcurrent(t *testing.T, open Opener) {
	groups := make([]*groupData, concurrentGroups)
	for i := range groups {
		name := newGroup(fmt.Sprintf("groups-conc-%d", i))
		groups[i] = newGroupData(name, open(t, name), i)
	}
	skipIfNothing(t, groups[0].stores)

	errs := make([]error, len(groups))
	var wg sync.WaitGroup
	for i, g := range groups {
		wg.Go(func() { errs[i] = g.write() })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	// Read back concurrently too, then check each group in turn.
	reads := make([][]byte, len(groups))
	for i, g := range groups {
		wg.Go(func() { reads[i], errs[i] = g.readSnapshot() })
	}
	wg.Wait()
	for i, g := range groups {
		if errs[i] != nil {
			t.Errorf("%s: %v", g.name, errs[i])
		} else if g.stores.Snapshots != nil && !bytes.Equal(reads[i], g.snapData) {
			t.Errorf("%s: concurrent snapshot read = %q, want %q", g.name, reads[i], g.snapData)
		}
		g.check(t)
	}
}

// readSnapshot reads the group's snapshot, off the test goroutine.
func (g *groupData) readSnapshot() ([]byte, error) {
	if g.stores.Snapshots == nil {
		return nil, nil
	}
	_, rc, err := g.stores.Snapshots.Open(g.snap.ID)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rc.Close() }()
	return io.ReadAll(rc)
}
