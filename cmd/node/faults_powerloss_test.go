//go:build faults

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stratadb/strata/pluginsdk/storetest/lazyfs"
)

// Power loss without the page cache: each server's data dir (its message
// store, its Raft log, stable and snapshot plugins' files) is a lazyfs
// mount, and a crash throws away every byte the server wrote and did not
// fsync, as a power failure does. A server acknowledges a publish only
// once it is committed, so each acknowledged message must survive the
// loss of one node's, a majority's or every node's unsynced writes.

// powerCluster is a faultCluster whose servers' data dirs are lazyfs
// mounts.
type powerCluster struct {
	*faultCluster
	mounts map[*server]*diskMount
}

// diskMount is one server's data dir: a lazyfs of under mounted at mnt.
type diskMount struct {
	under, mnt string
	fs         *lazyfs.FS
}

func newPowerCluster(t *testing.T) *powerCluster {
	if err := lazyfs.Available(); err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	pc := &powerCluster{mounts: map[*server]*diskMount{}}
	var mounts []*diskMount
	for i := 1; i <= 3; i++ {
		m := &diskMount{under: filepath.Join(dir, fmt.Sprintf("n%d.disk", i)), mnt: filepath.Join(dir, fmt.Sprintf("n%d", i))}
		for _, d := range []string{m.under, m.mnt} {
			if err := os.Mkdir(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		m.mount(t)
		// Cleanups run last-in first-out: the servers, registered after,
		// are killed before the mounts go.
		t.Cleanup(func() { _ = m.fs.Unmount() })
		mounts = append(mounts, m)
	}
	servers := newFlagClusterIn(t, dir, 3)
	for i, s := range servers {
		pc.mounts[s] = mounts[i]
	}
	for _, s := range servers {
		s.start(t, 1)
	}
	waitFormed(t, servers)
	pc.faultCluster = &faultCluster{t: t, servers: servers, c: connectAll(t, servers), run: 1}
	return pc
}

func (m *diskMount) mount(t *testing.T) {
	t.Helper()
	fsys, err := lazyfs.Mount(m.under, m.mnt)
	if err != nil {
		t.Fatal(err)
	}
	m.fs = fsys
}

// powerFail kills every server in down at once with SIGKILL (plugins
// too), throws away what each did not fsync, and starts them again on
// their remounted disks once the fault has lasted past the election
// timeout. It returns the bytes thrown away.
func (pc *powerCluster) powerFail(down ...*server) int64 {
	var names []string
	for _, s := range down {
		names = append(names, s.name)
		s.kill()
	}
	var lost int64
	for _, s := range down {
		m := pc.mounts[s]
		n, err := m.fs.Crash()
		if err != nil {
			pc.t.Fatalf("%s: crash its disk: %v", s.name, err)
		}
		lost += n
		m.mount(pc.t)
	}
	pc.t.Logf("power loss on %s: %d bytes of writes not fsynced thrown away", strings.Join(names, ", "), lost)
	time.Sleep(2 * time.Second) // the fault lasts past the election timeout
	for _, s := range down {
		pc.restart(s)
	}
	return lost
}

// powerScenario picks the servers that lose power together.
type powerScenario struct {
	name string
	down func(pc *powerCluster, stream string) []*server
}

var powerScenarios = []powerScenario{
	{"power loss on the stream leader", func(pc *powerCluster, st string) []*server {
		return []*server{pc.streamLeader(st)}
	}},
	{"power loss on a majority (the stream leader and a follower) at once", func(pc *powerCluster, st string) []*server {
		return []*server{pc.streamLeader(st), pc.follower(st)}
	}},
	{"power loss on every server at once", func(pc *powerCluster, st string) []*server {
		return pc.servers
	}},
}

// TestPowerLoss runs each power-loss scenario under load on a stream of
// its own and checks that nothing acknowledged was lost, duplicated or
// reordered, and that the history is linearizable.
func TestPowerLoss(t *testing.T) {
	needBinaries(t)
	pc := newPowerCluster(t)
	var rows []faultResult
	for i, sc := range powerScenarios {
		name := fmt.Sprintf("P%d", i+1)
		var lost int64
		r := pc.underLoad(name, func() { lost = pc.powerFail(sc.down(pc, name)...) })
		r.scenario = fmt.Sprintf("%s (%d unsynced bytes thrown away)", sc.name, lost)
		rows = append(rows, r)
		logResult(t, r)
	}
	printSummary(rows)
}
