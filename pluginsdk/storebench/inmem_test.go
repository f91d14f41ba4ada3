package storebench

import (
	"flag"
	"fmt"
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
	setBenchtime(t, "3x")
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

// TestStoreLogsCompacts checks that StoreLogs appends after what a store
// holds, with contiguous indexes, and compacts all but the last batch every
// compactEvery ops.
func TestStoreLogsCompacts(t *testing.T) {
	const ops = 2*compactEvery + 10
	setBenchtime(t, fmt.Sprintf("%dx", ops))
	s := raft.NewInmemStore()
	if err := s.StoreLogs(batch(1, payload(EntrySize))); err != nil {
		t.Fatal(err)
	}
	if r := testing.Benchmark(func(b *testing.B) { StoreLogs(b, s) }); r.N != ops {
		t.Fatalf("StoreLogs ran %d ops, want %d", r.N, ops)
	}
	first, _ := s.FirstIndex()
	last, _ := s.LastIndex()
	wantLast := uint64(ops+1) * BatchSize
	wantFirst := wantLast - 11*BatchSize + 1 // the batch kept at op 2048, then 10 more
	if first != wantFirst || last != wantLast {
		t.Fatalf("store holds %d..%d, want %d..%d", first, last, wantFirst, wantLast)
	}
	for idx := first; idx <= last; idx++ {
		var l raft.Log
		if err := s.GetLog(idx, &l); err != nil || l.Index != idx || len(l.Data) != EntrySize {
			t.Fatalf("GetLog(%d) = index %d, %d bytes, %v", idx, l.Index, len(l.Data), err)
		}
	}
}

// setBenchtime sets -test.benchtime for testing.Benchmark until t ends.
func setBenchtime(t *testing.T, v string) {
	f := flag.Lookup("test.benchtime")
	old := f.Value.String()
	if err := f.Value.Set(v); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Value.Set(old) })
}

func fileSnapshots(b *testing.B) raft.SnapshotStore {
	s, err := raft.NewFileSnapshotStore(b.TempDir(), 2, io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	return s
}
