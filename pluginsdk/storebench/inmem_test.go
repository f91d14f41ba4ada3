package storebench

import (
	"flag"
	"io"
	"testing"

	"github.com/hashicorp/raft"
)

// BenchmarkInmem runs the suite against raft's reference stores, which
// shows what the suite itself costs.
func BenchmarkInmem(b *testing.B) {
	b.Run("StoreLogs", func(b *testing.B) { StoreLogs(b, raft.NewInmemStore()) })
	b.Run("GetLog", func(b *testing.B) { GetLog(b, raft.NewInmemStore()) })
	b.Run("Snapshot1MiB", func(b *testing.B) { Snapshot(b, fileSnapshots(b), 1<<20) })
}

// TestSuiteRuns runs each benchmark for a few iterations, so a broken suite
// fails go test without -bench.
func TestSuiteRuns(t *testing.T) {
	old := flag.Lookup("test.benchtime").Value.String()
	if err := flag.Set("test.benchtime", "3x"); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = flag.Set("test.benchtime", old) }()

	r := testing.Benchmark(func(b *testing.B) { StoreLogs(b, raft.NewInmemStore()) })
	if r.N != 3 || r.Extra["entries/s"] <= 0 || r.Bytes != BatchSize*EntrySize {
		t.Errorf("StoreLogs: N=%d entries/s=%v bytes=%d", r.N, r.Extra["entries/s"], r.Bytes)
	}
	for name, f := range map[string]func(*testing.B){
		"GetLog":   func(b *testing.B) { GetLog(b, raft.NewInmemStore()) },
		"Snapshot": func(b *testing.B) { Snapshot(b, fileSnapshots(b), 3<<20+5) },
	} {
		// A benchmark with sub-benchmarks reports N=1 when it succeeds.
		if r := testing.Benchmark(f); r.N != 1 {
			t.Errorf("%s failed: %+v", name, r)
		}
	}
}

// TestStoreLogsCompacts checks that StoreLogs keeps a store from growing
// past compactEvery batches, and appends with contiguous indexes.
func TestStoreLogsCompacts(t *testing.T) {
	s := raft.NewInmemStore()
	if err := s.StoreLogs(batch(1, payload(EntrySize))); err != nil {
		t.Fatal(err)
	}
	testing.Benchmark(func(b *testing.B) {
		for b.N < 2*compactEvery+10 {
			b.N = 2*compactEvery + 10
		}
		StoreLogs(b, s)
	})
	first, _ := s.FirstIndex()
	last, _ := s.LastIndex()
	if last < (2*compactEvery+1)*BatchSize || last-first+1 > (compactEvery+10)*BatchSize {
		t.Errorf("after the run the store holds %d..%d", first, last)
	}
	for idx := first; idx <= last; idx++ {
		var l raft.Log
		if err := s.GetLog(idx, &l); err != nil {
			t.Fatalf("GetLog(%d): %v", idx, err)
		}
	}
}

func fileSnapshots(b *testing.B) raft.SnapshotStore {
	s, err := raft.NewFileSnapshotStore(b.TempDir(), 2, io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	return s
}
