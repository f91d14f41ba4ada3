package storetest

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/pluginsdk"
)

// TestLogStore runs the raft.LogStore cases as subtests.
func TestLogStore(t *testing.T, open Opener) {
	cases := []struct {
		name string
		fn   func(*testing.T, Opener)
	}{
		{"Empty", testLogEmpty},
		{"StoreLog", testLogStoreLog},
		{"StoreLogs", testLogStoreLogs},
		{"GetLogMissing", testLogGetMissing},
		{"FirstIndexNotOne", testLogFirstIndexNotOne},
		{"DeleteRangeHead", testLogDeleteHead},
		{"DeleteRangeTail", testLogDeleteTail},
		{"DeleteRangeAllThenNext", testLogDeleteAllThenNext},
		{"DeleteRangeAllThenRewrite", testLogDeleteAllThenRewrite},
		{"DeleteRangeAllThenRestore", testLogDeleteAllThenRestore},
		{"GapAfterRestore", testLogGap},
		{"LargeEntry", testLogLargeEntry},
		{"LargeBatch", testLogLargeBatch},
		{"Reopen", testLogReopen},
		{"RangeReader", testLogRangeReader},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.fn(t, open) })
	}
}

// testLogEmpty: a new store has no entries, and says so with 0, 0.
func testLogEmpty(t *testing.T, open Opener) {
	s := openLog(t, open, newGroup("log-empty"))
	checkIndexes(t, s, 0, 0)
}

// testLogStoreLog: one entry stored with StoreLog reads back whole.
func testLogStoreLog(t *testing.T, open Opener) {
	s := openLog(t, open, newGroup("log-single"))
	l := makeLogs(1, 1, 1, "single")[0]
	if err := s.StoreLog(l); err != nil {
		t.Fatalf("StoreLog(1): %v", err)
	}
	checkIndexes(t, s, 1, 1)
	checkLogs(t, s, []*raft.Log{l})
}

// testLogStoreLogs: a batch of 64 entries, every field of every entry
// round-trips, with nil and empty Data and Extensions, zero and non-zero
// AppendedAt and every common log type.
func testLogStoreLogs(t *testing.T, open Opener) {
	s := openLog(t, open, newGroup("log-batch"))
	logs := makeLogs(1, 64, 3, "batch")
	storeLogs(t, s, logs)
	checkIndexes(t, s, 1, 64)
	checkLogs(t, s, logs)

	// A second batch continues the log.
	more := makeLogs(65, 64, 4, "batch2")
	storeLogs(t, s, more)
	checkIndexes(t, s, 1, 128)
	checkLogs(t, s, logs)
	checkLogs(t, s, more)
}

// testLogGetMissing: raft compares with ==, so a missing index must be
// reported with raft.ErrLogNotFound itself, not a wrapped or look-alike error.
func testLogGetMissing(t *testing.T, open Opener) {
	s := openLog(t, open, newGroup("log-missing"))
	checkMissing(t, s, 1, 2, 1000)

	storeLogs(t, s, makeLogs(10, 11, 1, "missing"))
	checkIndexes(t, s, 10, 20)
	checkMissing(t, s, 1, 9, 21, 22, 1<<40)
}

// testLogFirstIndexNotOne: the first entry a store ever gets need not be
// index 1 (raft starts a node after a snapshot restore at the snapshot
// index plus one).
func testLogFirstIndexNotOne(t *testing.T, open Opener) {
	s := openLog(t, open, newGroup("log-first"))
	logs := makeLogs(1000, 16, 7, "first")
	storeLogs(t, s, logs)
	checkIndexes(t, s, 1000, 1015)
	checkLogs(t, s, logs)
	checkMissing(t, s, 1, 999, 1016)
}

// testLogDeleteHead: compaction deletes an inclusive prefix, after which the
// first index moves past it and appends carry on. A compacted entry may stay
// readable (see checkCompacted).
func testLogDeleteHead(t *testing.T, open Opener) {
	s := openLog(t, open, newGroup("log-head"))
	logs := makeLogs(1, 20, 1, "head")
	storeLogs(t, s, logs)

	deleteRange(t, s, 1, 5)
	checkIndexes(t, s, 6, 20)
	checkCompacted(t, s, logs[:5])
	checkLogs(t, s, logs[5:])

	deleteRange(t, s, 6, 10)
	checkIndexes(t, s, 11, 20)
	checkCompacted(t, s, logs[:10])
	checkLogs(t, s, logs[10:])

	more := makeLogs(21, 5, 2, "head2")
	storeLogs(t, s, more)
	checkIndexes(t, s, 11, 25)
	checkLogs(t, s, logs[10:])
	checkLogs(t, s, more)
}

// testLogDeleteTail: on conflicting entries raft deletes an inclusive
// suffix [k, last] and stores new entries from k.
func testLogDeleteTail(t *testing.T, open Opener) {
	s := openLog(t, open, newGroup("log-tail"))
	logs := makeLogs(1, 20, 1, "tail")
	storeLogs(t, s, logs)

	deleteRange(t, s, 15, 20)
	checkIndexes(t, s, 1, 14)
	checkMissing(t, s, 15, 20)
	checkLogs(t, s, logs[:14])

	repl := makeLogs(15, 4, 2, "tail2")
	storeLogs(t, s, repl)
	checkIndexes(t, s, 1, 18)
	checkLogs(t, s, logs[:14])
	checkLogs(t, s, repl)
	checkMissing(t, s, 19, 20)
}

// testLogDeleteAllThenNext: deleting every entry leaves an empty store
// (0, 0), which then takes the next index.
func testLogDeleteAllThenNext(t *testing.T, open Opener) {
	s := openLog(t, open, newGroup("log-all-next"))
	storeLogs(t, s, makeLogs(1, 10, 1, "all"))
	deleteRange(t, s, 1, 10)
	checkIndexes(t, s, 0, 0)
	checkMissing(t, s, 1, 5, 10, 11)

	next := makeLogs(11, 5, 2, "all-next")
	storeLogs(t, s, next)
	checkIndexes(t, s, 11, 15)
	checkLogs(t, s, next)
	checkMissing(t, s, 10)
}

// testLogDeleteAllThenRewrite: a conflict at the very first entry deletes
// the whole log from its first index, and raft stores from that index again.
func testLogDeleteAllThenRewrite(t *testing.T, open Opener) {
	s := openLog(t, open, newGroup("log-all-rewrite"))
	storeLogs(t, s, makeLogs(5, 6, 1, "rewrite"))
	deleteRange(t, s, 5, 10)
	checkIndexes(t, s, 0, 0)

	repl := makeLogs(5, 4, 2, "rewrite2")
	storeLogs(t, s, repl)
	checkIndexes(t, s, 5, 8)
	checkLogs(t, s, repl)
	checkMissing(t, s, 9, 10)
}

// testLogDeleteAllThenRestore: after a snapshot restore raft removes every
// log and appends from the snapshot index plus one, which may be far past
// the old last index.
func testLogDeleteAllThenRestore(t *testing.T, open Opener) {
	s := openLog(t, open, newGroup("log-all-restore"))
	storeLogs(t, s, makeLogs(1, 10, 1, "restore"))
	deleteRange(t, s, 1, 10)
	checkIndexes(t, s, 0, 0)

	after := makeLogs(101, 5, 3, "restore2")
	storeLogs(t, s, after)
	checkIndexes(t, s, 101, 105)
	checkLogs(t, s, after)
	checkMissing(t, s, 10, 11, 100)
}

// testLogGap: a store that does not say it is monotonic (see
// raft.MonotonicLogStore) must accept a gap in indexes, which is how raft
// marks a snapshot restore on such stores, and compact across it.
func testLogGap(t *testing.T, open Opener) {
	s := openLog(t, open, newGroup("log-gap"))
	if m, ok := s.(raft.MonotonicLogStore); ok && m.IsMonotonic() {
		t.Skip("store is monotonic; raft never leaves a gap in it")
	}
	before := makeLogs(1, 10, 1, "gap")
	after := makeLogs(101, 5, 2, "gap2")
	storeLogs(t, s, before)
	storeLogs(t, s, after)
	checkIndexes(t, s, 1, 105)
	checkLogs(t, s, before)
	checkLogs(t, s, after)
	checkMissing(t, s, 11, 50, 100)

	deleteRange(t, s, 1, 102)
	checkIndexes(t, s, 103, 105)
	checkLogs(t, s, after[2:])
	checkCompacted(t, s, before)
	checkCompacted(t, s, after[:2])
	checkMissing(t, s, 50)
}

// testLogLargeEntry: a 1 MiB entry round-trips.
func testLogLargeEntry(t *testing.T, open Opener) {
	s := openLog(t, open, newGroup("log-large"))
	l := &raft.Log{
		Index: 1, Term: 1, Type: raft.LogCommand,
		Data:       patternBytes(1<<20, 1),
		Extensions: patternBytes(4<<10, 2),
		AppendedAt: time.Now(),
	}
	if err := s.StoreLog(l); err != nil {
		t.Fatalf("StoreLog(1 MiB): %v", err)
	}
	checkLogs(t, s, []*raft.Log{l})
}

// testLogLargeBatch: raft hands a store up to MaxAppendEntries entries at
// once, whatever their size; 8 entries of 1 MiB make a batch larger than a
// default gRPC message.
func testLogLargeBatch(t *testing.T, open Opener) {
	s := openLog(t, open, newGroup("log-large-batch"))
	logs := make([]*raft.Log, 8)
	for i := range logs {
		logs[i] = &raft.Log{
			Index: uint64(i + 1), Term: 1, Type: raft.LogCommand,
			Data:       patternBytes(1<<20, byte(i)),
			AppendedAt: time.Now(),
		}
	}
	storeLogs(t, s, logs)
	checkIndexes(t, s, 1, 8)
	checkLogs(t, s, logs)
}

// testLogReopen: entries are still there when the group is opened again.
func testLogReopen(t *testing.T, open Opener) {
	group := newGroup("log-reopen")
	s := openLog(t, open, group)
	logs := makeLogs(1, 32, 2, "reopen")
	storeLogs(t, s, logs)
	deleteRange(t, s, 1, 4)

	s = openLog(t, open, group)
	checkIndexes(t, s, 5, 32)
	checkLogs(t, s, logs[4:])
	checkCompacted(t, s, logs[:4])
	checkMissing(t, s, 33)

	more := makeLogs(33, 4, 3, "reopen2")
	storeLogs(t, s, more)
	checkIndexes(t, s, 5, 36)
	checkLogs(t, s, more)
}

// testLogRangeReader: a store that implements pluginsdk.LogRangeReader
// returns what GetLog calls return, across its writes, up to a gap, and
// within the limits.
func testLogRangeReader(t *testing.T, open Opener) {
	s := openLog(t, open, newGroup("log-range"))
	r, ok := s.(pluginsdk.LogRangeReader)
	if !ok {
		t.Skip("store reads no ranges")
	}
	storeLogs(t, s, makeLogs(1, 10, 1, "range"))
	storeLogs(t, s, makeLogs(11, 30, 1, "range2"))
	storeLogs(t, s, makeLogs(41, 1, 1, "range3"))
	deleteRange(t, s, 1, 5)
	gap := true
	if m, ok := s.(raft.MonotonicLogStore); ok && m.IsMonotonic() {
		gap = false
	}
	if gap {
		storeLogs(t, s, makeLogs(60, 11, 2, "range4"))
	}
	for _, c := range []struct {
		from     uint64
		max      int
		maxBytes uint64
	}{
		{1, 100, 1 << 20}, {6, 100, 1 << 20}, {6, 7, 1 << 20}, {9, 100, 100}, {9, 100, 0},
		{30, 100, 1 << 20}, {41, 100, 1 << 20}, {42, 100, 1 << 20}, {60, 100, 1 << 20}, {70, 1, 0},
	} {
		got, err := r.GetLogs(c.from, c.max, c.maxBytes)
		if err != nil {
			t.Fatalf("GetLogs(%d, %d, %d): %v", c.from, c.max, c.maxBytes, err)
		}
		want, err := pluginsdk.GetLogs(s, c.from, c.max, c.maxBytes)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Errorf("GetLogs(%d, %d, %d) = %d logs; GetLog calls give %d", c.from, c.max, c.maxBytes, len(got), len(want))
			continue
		}
		for i := range got {
			if d := diffLog(got[i], want[i]); d != "" {
				t.Errorf("GetLogs(%d, %d, %d)[%d]: %s", c.from, c.max, c.maxBytes, i, d)
			}
		}
	}
}

// makeLogs returns n entries from index first, with every field set and
// varied: all the common log types, nil, empty and binary Data and
// Extensions, and zero, wall-clock and monotonic AppendedAt.
func makeLogs(first uint64, n int, term uint64, tag string) []*raft.Log {
	types := []raft.LogType{raft.LogCommand, raft.LogNoop, raft.LogConfiguration, raft.LogBarrier, raft.LogCommand}
	base := time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.FixedZone("strata", 5*3600+1800))
	logs := make([]*raft.Log, n)
	for i := range logs {
		idx := first + uint64(i)
		l := &raft.Log{Index: idx, Term: term, Type: types[i%len(types)]}
		switch i % 8 {
		case 3:
			l.Data = nil
		case 5:
			l.Data = []byte{}
		default:
			l.Data = append([]byte(fmt.Sprintf("%s/%d/%d", tag, term, idx)), 0, 0xff, byte(i))
		}
		if i%3 == 0 {
			l.Extensions = []byte(fmt.Sprintf("ext-%s-%d\x00", tag, idx))
		}
		switch i % 4 {
		case 1:
			// zero: raft leaves AppendedAt unset on bootstrap entries.
		case 2:
			l.AppendedAt = time.Now()
		default:
			l.AppendedAt = base.Add(time.Duration(idx) * 7919 * time.Nanosecond)
		}
		logs[i] = l
	}
	return logs
}

// patternBytes returns n deterministic, non-repeating-looking bytes.
func patternBytes(n int, seed byte) []byte {
	b := make([]byte, n)
	x := uint32(seed)*2654435761 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

func storeLogs(t testing.TB, s raft.LogStore, logs []*raft.Log) {
	t.Helper()
	if err := s.StoreLogs(logs); err != nil {
		t.Fatalf("StoreLogs(%d..%d): %v", logs[0].Index, logs[len(logs)-1].Index, err)
	}
}

func deleteRange(t testing.TB, s raft.LogStore, min, max uint64) {
	t.Helper()
	if err := s.DeleteRange(min, max); err != nil {
		t.Fatalf("DeleteRange(%d, %d): %v", min, max, err)
	}
}

// checkIndexes checks FirstIndex and LastIndex.
func checkIndexes(t testing.TB, s raft.LogStore, first, last uint64) {
	t.Helper()
	got, err := s.FirstIndex()
	if err != nil {
		t.Fatalf("FirstIndex: %v", err)
	}
	if got != first {
		t.Errorf("FirstIndex = %d, want %d", got, first)
	}
	got, err = s.LastIndex()
	if err != nil {
		t.Fatalf("LastIndex: %v", err)
	}
	if got != last {
		t.Errorf("LastIndex = %d, want %d", got, last)
	}
}

// checkLogs reads every entry of want back and compares it.
func checkLogs(t testing.TB, s raft.LogStore, want []*raft.Log) {
	t.Helper()
	for _, w := range want {
		var got raft.Log
		if err := s.GetLog(w.Index, &got); err != nil {
			t.Fatalf("GetLog(%d): %v", w.Index, err)
		}
		if diff := diffLog(&got, w); diff != "" {
			t.Errorf("GetLog(%d): %s", w.Index, diff)
		}
	}
}

// checkMissing checks that GetLog of each index returns raft.ErrLogNotFound
// itself: raft compares with ==.
func checkMissing(t testing.TB, s raft.LogStore, indexes ...uint64) {
	t.Helper()
	for _, idx := range indexes {
		var l raft.Log
		err := s.GetLog(idx, &l)
		if err != raft.ErrLogNotFound {
			t.Errorf("GetLog(%d) of a missing index = %v, want raft.ErrLogNotFound itself (raft compares with ==)", idx, err)
		}
	}
}

// checkCompacted checks entries deleted from the head of the log by
// compaction: GetLog returns raft.ErrLogNotFound itself or, if the store
// still has it, the entry unchanged. raft-wal keeps serving compacted
// entries that are still in its tail segment, and raft tolerates that:
// compaction only drops committed entries, which never change, so raft
// sending one to a follower instead of a snapshot is still correct.
// Entries deleted any other way (a conflicting suffix, the whole log
// before a restore) must be gone: see checkMissing.
func checkCompacted(t testing.TB, s raft.LogStore, compacted []*raft.Log) {
	t.Helper()
	for _, w := range compacted {
		var got raft.Log
		err := s.GetLog(w.Index, &got)
		switch {
		case err == raft.ErrLogNotFound:
		case err != nil:
			t.Errorf("GetLog(%d) of a compacted index = %v, want raft.ErrLogNotFound itself (raft compares with ==)", w.Index, err)
		default:
			if diff := diffLog(&got, w); diff != "" {
				t.Errorf("GetLog(%d) of a compacted index returned a changed entry: %s", w.Index, diff)
			}
		}
	}
}

// diffLog describes how got differs from want, or returns "". Nil and empty
// byte slices are equal; AppendedAt is compared as an instant, and a zero
// AppendedAt must stay zero (raft reads zero as "unknown").
func diffLog(got, want *raft.Log) string {
	var d []string
	if got.Index != want.Index {
		d = append(d, fmt.Sprintf("Index %d, want %d", got.Index, want.Index))
	}
	if got.Term != want.Term {
		d = append(d, fmt.Sprintf("Term %d, want %d", got.Term, want.Term))
	}
	if got.Type != want.Type {
		d = append(d, fmt.Sprintf("Type %v, want %v", got.Type, want.Type))
	}
	if !bytes.Equal(got.Data, want.Data) {
		d = append(d, fmt.Sprintf("Data %s, want %s", shortBytes(got.Data), shortBytes(want.Data)))
	}
	if !bytes.Equal(got.Extensions, want.Extensions) {
		d = append(d, fmt.Sprintf("Extensions %s, want %s", shortBytes(got.Extensions), shortBytes(want.Extensions)))
	}
	switch {
	case want.AppendedAt.IsZero():
		if !got.AppendedAt.IsZero() {
			d = append(d, fmt.Sprintf("AppendedAt %v, want the zero time", got.AppendedAt))
		}
	case !got.AppendedAt.Equal(want.AppendedAt):
		d = append(d, fmt.Sprintf("AppendedAt %v, want %v", got.AppendedAt, want.AppendedAt.Round(0)))
	}
	if len(d) == 0 {
		return ""
	}
	return fmt.Sprint(d)
}

// shortBytes formats b for an error message without flooding it.
func shortBytes(b []byte) string {
	if len(b) <= 32 {
		return fmt.Sprintf("%q", b)
	}
	return fmt.Sprintf("%q...(%d bytes)", b[:32], len(b))
}
