// Package storebench holds the benchmarks every Strata store runs, so that
// the numbers of different stores, in process or behind a plugin, compare.
// Like hashicorp/raft's bench package, each function takes a store and a
// *testing.B:
//
//	func BenchmarkStoreLogs(b *testing.B) { storebench.StoreLogs(b, newStore(b)) }
//
// The functions work on a store that already holds entries: they append
// after its last index.
package storebench

import (
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

const (
	// BatchSize is the number of entries of one StoreLogs op, raft's
	// default MaxAppendEntries.
	BatchSize = 64
	// EntrySize is the size of the Data of each entry written.
	EntrySize = 128
	// GetLogEntries is how many entries GetLog stores before reading.
	GetLogEntries = 10_000

	// compactEvery is how many StoreLogs ops run between two compactions,
	// which keep the store from growing without bound, as raft's do.
	compactEvery = 1024
)

// StoreLogs measures StoreLogs of BatchSize entries of EntrySize bytes with
// contiguous indexes, one call per op. It reports entries/s, and bytes/s
// of entry data. Every compactEvery ops it deletes all but the last batch,
// outside the timer.
func StoreLogs(b *testing.B, s raft.LogStore) {
	next := lastIndex(b, s) + 1
	data := payload(EntrySize)
	b.SetBytes(BatchSize * EntrySize)
	ops := 0
	for b.Loop() {
		if err := s.StoreLogs(batch(next, data)); err != nil {
			b.Fatalf("StoreLogs(%d..%d): %v", next, next+BatchSize-1, err)
		}
		next += BatchSize
		if ops++; ops%compactEvery == 0 {
			b.StopTimer()
			compact(b, s, next-BatchSize-1)
			b.StartTimer()
		}
	}
	b.ReportMetric(float64(BatchSize*b.N)/b.Elapsed().Seconds(), "entries/s")
}

// GroupsPerCPU is how many groups StoreLogsGroups writes at once per CPU.
const GroupsPerCPU = 4

// StoreLogsGroups measures StoreLogs as a node with many Raft groups makes
// them: GroupsPerCPU goroutines per CPU, each appending batches like
// StoreLogs to its own group's store from open (called on the goroutine
// that uses the store). An op is one StoreLogs call; it reports entries/s
// over all groups. One plugin process serves every group of a node, so
// this is the throughput a node gets from it.
func StoreLogsGroups(b *testing.B, open func(group string) (raft.LogStore, error)) {
	data := payload(EntrySize)
	var groups atomic.Int64
	b.SetParallelism(GroupsPerCPU)
	b.SetBytes(BatchSize * EntrySize)
	b.RunParallel(func(pb *testing.PB) {
		group := fmt.Sprintf("bench-%d", groups.Add(1))
		s, err := open(group)
		if err != nil {
			b.Errorf("open %s: %v", group, err)
			return
		}
		next := uint64(1)
		for pb.Next() {
			if err := s.StoreLogs(batch(next, data)); err != nil {
				b.Errorf("StoreLogs(%d..): %v", next, err)
				return
			}
			next += BatchSize
		}
	})
	b.ReportMetric(float64(BatchSize*b.N)/b.Elapsed().Seconds(), "entries/s")
}

// LargeEntrySize is the size of the one entry of StoreLargeLog: a
// restore batch or a batch of large publishes.
const LargeEntrySize = 3 << 20

// StoreLargeLog measures StoreLogs of one LargeEntrySize entry per op.
func StoreLargeLog(b *testing.B, s raft.LogStore) {
	next := lastIndex(b, s) + 1
	data := payload(LargeEntrySize)
	b.SetBytes(LargeEntrySize)
	ops := 0
	for b.Loop() {
		l := &raft.Log{Index: next, Term: 1, Type: raft.LogCommand, Data: data, AppendedAt: time.Now()}
		if err := s.StoreLogs([]*raft.Log{l}); err != nil {
			b.Fatalf("StoreLogs(%d): %v", next, err)
		}
		next++
		if ops++; ops%64 == 0 {
			b.StopTimer()
			compact(b, s, next-2)
			b.StartTimer()
		}
	}
}

// GetLog stores GetLogEntries entries, then measures GetLog of one of them
// per op, in two sub-benchmarks: sequential indexes, as replication reads,
// and random ones.
func GetLog(b *testing.B, s raft.LogStore) {
	first := lastIndex(b, s) + 1
	data := payload(EntrySize)
	for idx := first; idx < first+GetLogEntries; idx += BatchSize {
		if err := s.StoreLogs(batch(idx, data)); err != nil {
			b.Fatalf("StoreLogs(%d..): %v", idx, err)
		}
	}
	b.Run("sequential", func(b *testing.B) {
		b.SetBytes(EntrySize)
		var l raft.Log
		i := uint64(0)
		for b.Loop() {
			getLog(b, s, first+i, &l)
			i = (i + 1) % GetLogEntries
		}
	})
	b.Run("random", func(b *testing.B) {
		b.SetBytes(EntrySize)
		rng := rand.New(rand.NewPCG(1, 2))
		var l raft.Log
		for b.Loop() {
			getLog(b, s, first+rng.Uint64N(GetLogEntries), &l)
		}
	})
}

// Snapshot measures writing a snapshot of size bytes (Create, Write in
// 1 MiB chunks, Close) and then opening and reading one, in two
// sub-benchmarks. Each write is newer than the last, so a store that
// retains only its newest snapshots does not grow.
func Snapshot(b *testing.B, s raft.SnapshotStore, size int64) {
	chunk := payload(1 << 20)
	index := uint64(1)
	var id string
	b.Run("write", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			id = writeSnapshot(b, s, index, size, chunk)
			index++
		}
	})
	if id == "" {
		id = writeSnapshot(b, s, index, size, chunk)
	}
	b.Run("read", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			readSnapshot(b, s, id, size, chunk)
		}
	})
}

func writeSnapshot(b *testing.B, s raft.SnapshotStore, index uint64, size int64, chunk []byte) string {
	b.Helper()
	conf := raft.Configuration{Servers: []raft.Server{
		{Suffrage: raft.Voter, ID: "node-1", Address: "127.0.0.1:7001"},
	}}
	sink, err := s.Create(raft.SnapshotVersionMax, index, 1, conf, 1, peerTransport{})
	if err != nil {
		b.Fatalf("Create: %v", err)
	}
	for left := size; left > 0; {
		n, err := sink.Write(chunk[:min(int64(len(chunk)), left)])
		if err != nil {
			_ = sink.Cancel()
			b.Fatalf("sink.Write: %v", err)
		}
		left -= int64(n)
	}
	if err := sink.Close(); err != nil {
		b.Fatalf("sink.Close: %v", err)
	}
	return sink.ID()
}

func readSnapshot(b *testing.B, s raft.SnapshotStore, id string, size int64, buf []byte) {
	b.Helper()
	_, rc, err := s.Open(id)
	if err != nil {
		b.Fatalf("Open(%q): %v", id, err)
	}
	defer func() { _ = rc.Close() }()
	var n int64
	for {
		m, err := rc.Read(buf)
		n += int64(m)
		if err != nil {
			break
		}
	}
	if n != size {
		b.Fatalf("read %d bytes of snapshot %q, want %d", n, id, size)
	}
}

// peerTransport only encodes peers, which is all a SnapshotStore may use
// its transport for.
type peerTransport struct{ raft.Transport }

func (peerTransport) EncodePeer(_ raft.ServerID, addr raft.ServerAddress) []byte {
	return []byte(addr)
}

func lastIndex(b *testing.B, s raft.LogStore) uint64 {
	b.Helper()
	last, err := s.LastIndex()
	if err != nil {
		b.Fatalf("LastIndex: %v", err)
	}
	return last
}

func getLog(b *testing.B, s raft.LogStore, idx uint64, l *raft.Log) {
	if err := s.GetLog(idx, l); err != nil {
		b.Fatalf("GetLog(%d): %v", idx, err)
	}
}

// compact deletes every entry up to and including upTo, as raft's
// compaction after a snapshot does.
func compact(b *testing.B, s raft.LogStore, upTo uint64) {
	b.Helper()
	first, err := s.FirstIndex()
	if err != nil {
		b.Fatalf("FirstIndex: %v", err)
	}
	if first == 0 || first > upTo {
		return
	}
	if err := s.DeleteRange(first, upTo); err != nil {
		b.Fatalf("DeleteRange(%d, %d): %v", first, upTo, err)
	}
}

// batch returns BatchSize fresh entries from index first. Stores may keep
// the pointers they are given (raft.InmemStore does), so each op gets new
// ones; data is shared, as stores must not change it.
func batch(first uint64, data []byte) []*raft.Log {
	now := time.Now()
	logs := make([]raft.Log, BatchSize)
	ptrs := make([]*raft.Log, BatchSize)
	for i := range logs {
		logs[i] = raft.Log{Index: first + uint64(i), Term: 1, Type: raft.LogCommand, Data: data, AppendedAt: now}
		ptrs[i] = &logs[i]
	}
	return ptrs
}

// payload returns n bytes that do not compress to nothing.
func payload(n int) []byte {
	p := make([]byte, n)
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	for i := range p {
		p[i] = byte(rng.Uint32())
	}
	return p
}
