package systemtest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	entriesPerGroup = 100_000
	applyBatch      = 2_000
	killAfter       = 30_000 // acked entries of the first group before the kill
	downFor         = 2 * time.Second
	ackedWhileDown  = 2 * applyBatch // acked entries of the first group while the node is down
	loadDeadline    = 4 * time.Minute
)

// TestKillNodeLosesNoAckedEntry runs three node processes with three Raft
// groups on the Badger (log, stable) and file (snapshots) plugins, applies
// 100,000 entries to each group, kill -9s one node with its plugins midway,
// restarts it, and expects every acknowledged entry on every node.
func TestKillNodeLosesNoAckedEntry(t *testing.T) {
	if testing.Short() {
		t.Skip("system test")
	}
	groups := []string{"g1", "g2", "g3"}
	c := startCluster(t, 3, groups)
	for _, g := range groups {
		waitLeader(t, c, g)
	}

	var firstAcked atomic.Int64
	acked := make([][]uint64, len(groups))
	var wg sync.WaitGroup
	for gi, g := range groups {
		wg.Add(1)
		go func() {
			defer wg.Done()
			acked[gi] = load(t, c, g, func(n int) {
				if gi == 0 {
					firstAcked.Store(int64(n))
				}
			})
		}()
	}
	killAndRestart(t, c, 2, &firstAcked)
	wg.Wait()

	for gi, g := range groups {
		if len(acked[gi]) < entriesPerGroup/2 {
			t.Fatalf("group %s: only %d of %d entries acknowledged", g, len(acked[gi]), entriesPerGroup)
		}
		t.Logf("group %s: %d entries acknowledged", g, len(acked[gi]))
		for i := range c.specs {
			waitAllPresent(t, c, i, g, acked[gi])
		}
	}
}

// killAndRestart kill -9s node i once the first group has killAfter acked
// entries, and restarts it on the same data directory once it has been
// down for downFor and the first group has acked ackedWhileDown more
// entries without it (entries the restarted node must catch up on).
func killAndRestart(t *testing.T, c *cluster, i int, progress *atomic.Int64) {
	deadline := time.Now().Add(loadDeadline)
	for progress.Load() < killAfter {
		if time.Now().After(deadline) {
			t.Fatal("load did not reach the kill point")
		}
		time.Sleep(50 * time.Millisecond)
	}
	killedAt := progress.Load()
	c.kill9(i)
	time.Sleep(downFor) // the length of the outage
	deadline = time.Now().Add(loadDeadline)
	for progress.Load() < killedAt+ackedWhileDown {
		if time.Now().After(deadline) {
			t.Fatalf("node %s down: the first group acked %d entries in %s, want %d", c.specs[i].ID,
				progress.Load()-killedAt, loadDeadline, ackedWhileDown)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("restarting node %s (%d entries of the first group acked while it was down)", c.specs[i].ID, progress.Load()-killedAt)
	c.start(i)
}

func waitLeader(t *testing.T, c *cluster, group string) int {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if l := c.leader(group); l >= 0 {
			return l
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no leader for %s", group)
	return -1
}

// load applies ids 1..entriesPerGroup through whichever node leads the
// group, and returns the ids acknowledged. A batch that fails (its leader
// died) is not retried: those ids may or may not be applied, and only the
// acknowledged ones are checked.
func load(t *testing.T, c *cluster, group string, progress func(int)) []uint64 {
	var acked []uint64
	deadline := time.Now().Add(loadDeadline)
	for next := uint64(1); next <= entriesPerGroup; {
		if time.Now().After(deadline) {
			t.Errorf("group %s: load did not finish in %s", group, loadDeadline)
			return acked
		}
		l := c.leader(group)
		if l < 0 {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		bt := time.Now()
		got, err := c.apply(l, group, next, applyBatch)
		if err != nil {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		if next%20000 == 1 {
			t.Logf("%s %s: next %d, batch took %s", time.Now().Format("15:04:05.000"), group, next, time.Since(bt))
		}
		acked = append(acked, got...)
		progress(len(acked))
		next += applyBatch
	}
	return acked
}

// waitAllPresent waits until node i has applied every acked id of group.
func waitAllPresent(t *testing.T, c *cluster, i int, group string, acked []uint64) {
	deadline := time.Now().Add(60 * time.Second)
	var missing []uint64
	for time.Now().Before(deadline) {
		have, err := c.ids(i, group)
		missing = missing[:0]
		if err == nil {
			for _, id := range acked {
				if !have[id] {
					missing = append(missing, id)
				}
			}
			if len(missing) == 0 {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("node %s group %s: %s", c.specs[i].ID, group, describeMissing(missing))
}

func describeMissing(missing []uint64) string {
	if len(missing) == 0 {
		return "not reachable"
	}
	return fmt.Sprintf("%d acknowledged entries missing, first %d", len(missing), missing[0])
}
