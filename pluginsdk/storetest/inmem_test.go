package storetest

import (
	"errors"
	"io"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	wal "github.com/hashicorp/raft-wal"
	"github.com/hashicorp/raft-wal/metadb"
)

// TestInmem proves the kit against raft's own reference stores: InmemStore
// for logs and stable state, FileSnapshotStore for snapshots. A reopened
// group gets the same InmemStore and a new FileSnapshotStore on the same
// directory.
func TestInmem(t *testing.T) {
	Run(t, inmemOpener(func(s Stores) Stores { return s }))
}

// inmemOpener opens raft's reference stores, passed through wrap.
func inmemOpener(wrap func(Stores) Stores) Opener {
	var (
		mu    sync.Mutex
		mem   = map[string]*raft.InmemStore{}
		snaps = map[string]string{}
	)
	return func(t testing.TB, group string) Stores {
		mu.Lock()
		defer mu.Unlock()
		s, ok := mem[group]
		if !ok {
			s = raft.NewInmemStore()
			mem[group] = s
			snaps[group] = t.TempDir()
		}
		return wrap(Stores{Log: s, Stable: s, Snapshots: fileSnapshots(t, snaps[group])})
	}
}

// TestWAL proves the kit against hashicorp/raft-wal, a monotonic log store
// whose missing stable keys read as (nil, nil). A reopened group closes its
// WAL and opens it again from disk.
func TestWAL(t *testing.T) {
	var (
		mu   sync.Mutex
		dirs = map[string]string{}
		open = map[string]func() error{}
	)
	Run(t, func(t testing.TB, group string) Stores {
		mu.Lock()
		defer mu.Unlock()
		dir, ok := dirs[group]
		if !ok {
			dir = t.TempDir()
			dirs[group] = dir
		}
		if closeOld := open[group]; closeOld != nil {
			if err := closeOld(); err != nil {
				t.Fatalf("closing WAL of %s: %v", group, err)
			}
		}
		// WAL.Close leaves its bolt meta database (and its file lock) open,
		// so the opener owns the meta database and closes it too.
		meta := &metadb.BoltMetaDB{}
		w, err := wal.Open(dir, wal.WithMetaStore(meta), wal.WithLogger(hclog.NewNullLogger()))
		if err != nil {
			t.Fatalf("wal.Open(%s): %v", group, err)
		}
		var once sync.Once
		var closeErr error
		closeWAL := func() error {
			once.Do(func() { closeErr = errors.Join(w.Close(), meta.Close()) })
			return closeErr
		}
		open[group] = closeWAL
		t.Cleanup(func() { _ = closeWAL() })
		return Stores{Log: w, Stable: w, Snapshots: fileSnapshots(t, dir+"-snap")}
	})
}

// TestOnlySnapshots checks that the cases of kinds a plugin does not serve
// are skipped rather than failed.
func TestOnlySnapshots(t *testing.T) {
	dirs := map[string]string{}
	var mu sync.Mutex
	open := func(t testing.TB, group string) Stores {
		mu.Lock()
		defer mu.Unlock()
		if _, ok := dirs[group]; !ok {
			dirs[group] = t.TempDir()
		}
		return Stores{Snapshots: fileSnapshots(t, dirs[group])}
	}
	t.Run("Log", func(t *testing.T) { TestLogStore(t, open) })
	t.Run("Groups", func(t *testing.T) { TestGroups(t, open) })
}

func fileSnapshots(t testing.TB, dir string) raft.SnapshotStore {
	t.Helper()
	s, err := raft.NewFileSnapshotStore(dir, 3, io.Discard)
	if err != nil {
		t.Fatalf("NewFileSnapshotStore: %v", err)
	}
	return s
}
