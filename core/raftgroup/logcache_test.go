package raftgroup

import (
	"testing"

	"github.com/hashicorp/raft"
)

// countingStore counts GetLog calls that reach the store.
type countingStore struct {
	*raft.InmemStore
	gets int
}

func (s *countingStore) GetLog(idx uint64, l *raft.Log) error {
	s.gets++
	return s.InmemStore.GetLog(idx, l)
}

func logsOf(first uint64, n, size int) []*raft.Log {
	logs := make([]*raft.Log, n)
	for i := range logs {
		logs[i] = &raft.Log{Index: first + uint64(i), Term: 1, Data: make([]byte, size)}
	}
	return logs
}

func cached(t *testing.T, c *LogCache, s *countingStore, idx uint64) bool {
	t.Helper()
	before := s.gets
	var l raft.Log
	if err := c.GetLog(idx, &l); err != nil || l.Index != idx {
		t.Fatalf("GetLog(%d) = %d, %v", idx, l.Index, err)
	}
	return s.gets == before
}

func TestLogCacheBounds(t *testing.T) {
	s := &countingStore{InmemStore: raft.NewInmemStore()}
	c := NewLogCache(s, 8, 4*(100+logOverhead))
	if err := c.StoreLogs(logsOf(1, 6, 100)); err != nil {
		t.Fatal(err)
	}
	// The byte bound holds 4 of the 6: 3..6 cached, 1..2 from the store.
	for idx, want := range map[uint64]bool{1: false, 2: false, 3: true, 6: true} {
		if got := cached(t, c, s, idx); got != want {
			t.Errorf("index %d cached = %v, want %v", idx, got, want)
		}
	}
	if err := c.StoreLogs(logsOf(7, 10, 1)); err != nil {
		t.Fatal(err)
	}
	// Small entries: now the count bound (8) holds 9..16.
	for idx, want := range map[uint64]bool{8: false, 9: true, 16: true} {
		if got := cached(t, c, s, idx); got != want {
			t.Errorf("index %d cached = %v, want %v", idx, got, want)
		}
	}
}

func TestLogCacheResets(t *testing.T) {
	s := &countingStore{InmemStore: raft.NewInmemStore()}
	c := NewLogCache(s, 8, 1<<20)
	if err := c.StoreLogs(logsOf(1, 4, 10)); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteRange(3, 4); err != nil {
		t.Fatal(err)
	}
	var l raft.Log
	if err := c.GetLog(4, &l); err != raft.ErrLogNotFound {
		t.Fatalf("GetLog of a deleted index = %v, want ErrLogNotFound", err)
	}
	if err := c.StoreLogs(logsOf(3, 2, 10)); err != nil {
		t.Fatal(err)
	}
	if !cached(t, c, s, 4) || !cached(t, c, s, 1) {
		t.Fatal("after a cut of the back the cache holds what it left and what was stored since")
	}
	huge := logsOf(5, 1, 2<<20)
	if err := c.StoreLogs(huge); err != nil {
		t.Fatal(err)
	}
	if cached(t, c, s, 5) {
		t.Fatal("an entry larger than the cache must not be cached")
	}
}

func TestLogCacheForwardsMonotonic(t *testing.T) {
	if NewLogCache(raft.NewInmemStore(), 8, 1024).IsMonotonic() {
		t.Fatal("InmemStore is not monotonic")
	}
	m := &raft.MockMonotonicLogStore{}
	if !NewLogCache(m, 8, 1024).IsMonotonic() {
		t.Fatal("a monotonic store must stay monotonic behind the cache")
	}
}

// TestLogCacheKeepsRestOnTrim: deleting the front (compaction) or the back
// (a conflicting suffix) of the cached range keeps the rest cached; a hole
// in the middle empties the cache.
func TestLogCacheKeepsRestOnTrim(t *testing.T) {
	s := &countingStore{InmemStore: raft.NewInmemStore()}
	c := NewLogCache(s, 8, 1<<20)
	if err := c.StoreLogs(logsOf(1, 8, 10)); err != nil {
		t.Fatal(err)
	}
	mustDeleteRange(t, c, 0, 3)
	mustDeleteRange(t, c, 7, 100)
	for idx := uint64(4); idx <= 6; idx++ {
		if !cached(t, c, s, idx) {
			t.Errorf("index %d left the cache", idx)
		}
	}
	var l raft.Log
	for _, idx := range []uint64{3, 7} {
		if err := c.GetLog(idx, &l); err != raft.ErrLogNotFound {
			t.Errorf("GetLog(%d) of a deleted index = %v, want ErrLogNotFound", idx, err)
		}
	}
	if err := c.StoreLogs(logsOf(7, 2, 10)); err != nil {
		t.Fatal(err)
	}
	if !cached(t, c, s, 4) || !cached(t, c, s, 8) {
		t.Fatal("logs stored after a cut of the back must extend the cached range")
	}
	mustDeleteRange(t, c, 5, 5)
	if cached(t, c, s, 4) || cached(t, c, s, 8) {
		t.Fatal("a hole in the middle must empty the cache")
	}
}

func mustDeleteRange(t *testing.T, s raft.LogStore, min, max uint64) {
	t.Helper()
	if err := s.DeleteRange(min, max); err != nil {
		t.Fatalf("DeleteRange(%d, %d): %v", min, max, err)
	}
}
