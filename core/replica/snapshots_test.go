package replica

import (
	"io"
	"testing"

	"github.com/hashicorp/raft"
)

func createSnapshot(t *testing.T, s raft.SnapshotStore, index uint64) {
	t.Helper()
	sink, err := s.Create(raft.SnapshotVersionMax, index, 1, raft.Configuration{}, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sink.Write([]byte("header")); err != nil {
		t.Fatal(err)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
}

func listedIndexes(t *testing.T, s raft.SnapshotStore) []uint64 {
	t.Helper()
	metas, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	var out []uint64
	for _, m := range metas {
		out = append(out, m.Index)
	}
	return out
}

// TestHideUnapplied: snapshots past the store's applied index at start
// are hidden; older ones and those taken later are listed.
func TestHideUnapplied(t *testing.T) {
	fs, err := raft.NewFileSnapshotStore(t.TempDir(), 5, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	createSnapshot(t, fs, 5)
	createSnapshot(t, fs, 10)
	same, n, err := hideUnapplied(fs, 10)
	if err != nil || n != 0 || same != raft.SnapshotStore(fs) {
		t.Fatalf("store at the newest snapshot: hid %d (%v)", n, err)
	}
	s, n, err := hideUnapplied(fs, 7)
	if err != nil || n != 1 {
		t.Fatalf("hid %d snapshots (%v), want 1", n, err)
	}
	if got := listedIndexes(t, s); len(got) != 1 || got[0] != 5 {
		t.Fatalf("listed %v, want [5]", got)
	}
	createSnapshot(t, s, 12)
	if got := listedIndexes(t, s); len(got) != 2 || got[0] != 12 || got[1] != 5 {
		t.Fatalf("after a new snapshot listed %v, want [12 5]", got)
	}
}
