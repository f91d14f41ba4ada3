package stream

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/hashicorp/go-hclog"
)

// testMsg returns the message every test stores at seq: its content
// follows from seq, so a reader can check what it gets.
func testMsg(seq uint64) Message {
	m := Message{
		Seq:     seq,
		Subject: fmt.Sprintf("ORDERS.%d", seq%7),
		Data:    fmt.Appendf(nil, "payload %d", seq),
		Time:    1_700_000_000_000_000_000 + int64(seq)*1000,
	}
	if seq%3 == 0 {
		m.MsgID = fmt.Sprintf("id-%d", seq)
		m.Header = []Header{{"a", "1"}, {"a", "2"}, {"Nats-Msg-Id", m.MsgID}}
	}
	if seq%5 == 0 {
		m.Data = nil
	}
	return m
}

func testMsgs(from, to uint64) []Message {
	msgs := make([]Message, 0, to-from+1)
	for seq := from; seq <= to; seq++ {
		msgs = append(msgs, testMsg(seq))
	}
	return msgs
}

func sizeOf(from, to uint64) uint64 {
	var n uint64
	for seq := from; seq <= to; seq++ {
		n += testMsg(seq).Size()
	}
	return n
}

func sameMsg(a, b Message) bool {
	return a.Seq == b.Seq && a.Subject == b.Subject && a.MsgID == b.MsgID && a.Time == b.Time &&
		bytes.Equal(a.Data, b.Data) && slices.Equal(a.Header, b.Header)
}

// checkGet checks that seq holds testMsg(seq).
func checkGet(t testing.TB, s Store, seq uint64) {
	t.Helper()
	m, err := s.Get(seq)
	if err != nil {
		t.Fatalf("Get(%d): %v", seq, err)
	}
	if want := testMsg(seq); !sameMsg(m, want) {
		t.Fatalf("Get(%d) = %+v, want %+v", seq, m, want)
	}
}

func checkNotFound(t testing.TB, s Store, seqs ...uint64) {
	t.Helper()
	for _, seq := range seqs {
		if _, err := s.Get(seq); !errors.Is(err, ErrMsgNotFound) {
			t.Fatalf("Get(%d) = %v, want ErrMsgNotFound", seq, err)
		}
	}
}

func checkState(t testing.TB, s Store, want State) {
	t.Helper()
	if got := s.State(); got != want {
		t.Fatalf("State() =\n %+v, want\n %+v", got, want)
	}
}

func mustUpdate(t testing.TB, s Store, u Update) {
	t.Helper()
	if err := s.Update(u); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// stateOf is the State of a store holding testMsgs(first, last).
func stateOf(first, last, deleted uint64) State {
	st := State{FirstSeq: first, LastSeq: last, Deleted: deleted}
	if last > 0 {
		st.LastTime = testMsg(last).Time
	}
	if first <= last {
		st.Msgs, st.Bytes = last-first+1, sizeOf(first, last)
		st.FirstTime = testMsg(first).Time
	}
	return st
}

// testStore is the conformance suite of a Store; open returns a new,
// empty one.
func testStore(t *testing.T, open func(t testing.TB) Store) {
	t.Run("Empty", func(t *testing.T) {
		s := open(t)
		checkState(t, s, State{FirstSeq: 1})
		checkNotFound(t, s, 0, 1, 2)
		if s.Applied() != 0 {
			t.Fatalf("Applied() = %d", s.Applied())
		}
	})

	t.Run("AppendRemove", func(t *testing.T) {
		s := open(t)
		mustUpdate(t, s, Update{Append: testMsgs(1, 10), Applied: 5})
		checkState(t, s, stateOf(1, 10, 0))
		for seq := uint64(1); seq <= 10; seq++ {
			checkGet(t, s, seq)
		}
		checkNotFound(t, s, 0, 11)
		if s.Applied() != 5 {
			t.Fatalf("Applied() = %d, want 5", s.Applied())
		}

		mustUpdate(t, s, Update{RemoveThrough: 4}) // Applied 0 keeps 5
		checkState(t, s, stateOf(5, 10, 4))
		checkNotFound(t, s, 1, 4)
		checkGet(t, s, 5)
		if s.Applied() != 5 {
			t.Fatalf("Applied() = %d, want 5", s.Applied())
		}

		mustUpdate(t, s, Update{RemoveThrough: 3, Applied: 6}) // below FirstSeq
		checkState(t, s, stateOf(5, 10, 4))

		// Appended and partly removed at once.
		mustUpdate(t, s, Update{Append: testMsgs(11, 13), RemoveThrough: 11, Applied: 7})
		checkState(t, s, stateOf(12, 13, 11))
		checkNotFound(t, s, 10, 11)
		checkGet(t, s, 12)
		checkGet(t, s, 13)

		// Appended and wholly removed at once.
		mustUpdate(t, s, Update{Append: testMsgs(14, 15), RemoveThrough: 15, Applied: 8})
		checkState(t, s, stateOf(16, 15, 15))

		// Past the last sequence: the store skips to it.
		mustUpdate(t, s, Update{Append: testMsgs(16, 17), Applied: 9})
		mustUpdate(t, s, Update{RemoveThrough: 30, Applied: 10})
		checkState(t, s, State{FirstSeq: 31, LastSeq: 30, LastTime: testMsg(17).Time, Deleted: 17})
		checkNotFound(t, s, 16, 17, 30, 31)
		mustUpdate(t, s, Update{Append: testMsgs(31, 33), Applied: 11})
		checkState(t, s, stateOf(31, 33, 17))
		checkGet(t, s, 31)
		if s.Applied() != 11 {
			t.Fatalf("Applied() = %d, want 11", s.Applied())
		}
	})

	t.Run("RemoveOneByOne", func(t *testing.T) {
		s := open(t)
		mustUpdate(t, s, Update{Append: testMsgs(1, 10), Applied: 1})
		// Inside the range: the others keep their sequences.
		mustUpdate(t, s, Update{Remove: []uint64{4, 7, 7, 42}, Applied: 2})
		checkHoles(t, s, 1, 10, 0, 4, 7)
		// The first message: FirstSeq moves past it and the holes behind.
		mustUpdate(t, s, Update{Remove: []uint64{1, 2, 3}})
		checkHoles(t, s, 5, 10, 4, 7)
		// A prefix removal takes the holes it covers.
		mustUpdate(t, s, Update{RemoveThrough: 8})
		checkHoles(t, s, 9, 10, 8)
		// Appended and removed in one update, both ways.
		mustUpdate(t, s, Update{Append: testMsgs(11, 14), Remove: []uint64{9, 12}, RemoveThrough: 10})
		checkHoles(t, s, 11, 14, 10, 12)
		if v, ok := s.(Viewer); ok {
			checkViewHoles(t, v, []uint64{11, 13, 14})
		}
		// A prefix removal up to a hole: FirstSeq moves past the hole.
		mustUpdate(t, s, Update{RemoveThrough: 11})
		checkHoles(t, s, 13, 14, 12)
		// Every message removed: the store is empty after its last sequence.
		mustUpdate(t, s, Update{Remove: []uint64{13, 14}})
		checkState(t, s, State{FirstSeq: 15, LastSeq: 14, LastTime: testMsg(14).Time, Deleted: 14})
		mustUpdate(t, s, Update{Append: testMsgs(15, 16)})
		checkState(t, s, stateOf(15, 16, 14))
		too := make([]uint64, MaxRemove+1)
		if err := s.Update(Update{Remove: too}); !errors.Is(err, ErrBadUpdate) {
			t.Fatalf("%d removals in one update: %v, want ErrBadUpdate", len(too), err)
		}
	})

	t.Run("BadUpdate", func(t *testing.T) {
		s := open(t)
		mustUpdate(t, s, Update{Append: testMsgs(1, 3), Applied: 1})
		bad := [][]Message{
			testMsgs(3, 4),                             // repeats 3
			testMsgs(5, 6),                             // skips 4
			{testMsg(4), testMsg(6)},                   // a gap inside
			append(testMsgs(4, 5), testMsg(5)),         // repeats at the end
			{{Seq: 0, Subject: "x"}},                   // zero
			{testMsg(4), {Seq: 1 << 63, Subject: "x"}}, // far ahead
		}
		for i, msgs := range bad {
			err := s.Update(Update{Append: msgs, RemoveThrough: 2, Applied: 99})
			if !errors.Is(err, ErrBadUpdate) {
				t.Fatalf("bad update %d: err = %v, want ErrBadUpdate", i, err)
			}
			checkState(t, s, stateOf(1, 3, 0))
			checkNotFound(t, s, 4)
			checkGet(t, s, 1)
			if s.Applied() != 1 {
				t.Fatalf("bad update %d: Applied() = %d, want 1", i, s.Applied())
			}
		}
	})

	t.Run("OwnsItsCopy", func(t *testing.T) {
		s := open(t)
		m := testMsg(1)
		m.Data = []byte("original")
		m.Header = []Header{{"k", "v"}}
		mustUpdate(t, s, Update{Append: []Message{m}})
		m.Data[0] = 'X'
		m.Header[0].Value = "changed"
		got, err := s.Get(1)
		if err != nil {
			t.Fatal(err)
		}
		if string(got.Data) != "original" || got.Header[0].Value != "v" {
			t.Fatalf("the store shares the caller's buffers: %+v", got)
		}
	})

	t.Run("Closed", func(t *testing.T) {
		s := open(t)
		mustUpdate(t, s, Update{Append: testMsgs(1, 2)})
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if err := s.Update(Update{Append: testMsgs(3, 3)}); !errors.Is(err, ErrStoreClosed) {
			t.Fatalf("Update after Close: %v", err)
		}
		if _, err := s.Get(1); !errors.Is(err, ErrStoreClosed) {
			t.Fatalf("Get after Close: %v", err)
		}
		for name, fn := range map[string]func() error{"Sync": s.Sync, "Close": s.Close, "Delete": s.Delete} {
			if err := fn(); !errors.Is(err, ErrStoreClosed) {
				t.Fatalf("%s after Close: %v", name, err)
			}
		}
	})

	t.Run("ConcurrentGet", func(t *testing.T) {
		s := open(t)
		const keep, batches, batch = 50, 200, 10
		var done atomic.Bool
		var wg sync.WaitGroup
		var reads atomic.Int64
		for r := range 3 {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(r), 1))
				for !done.Load() {
					st := s.State()
					if st.Msgs == 0 {
						continue
					}
					if st.Msgs != st.LastSeq-st.FirstSeq+1 || st.Msgs > keep {
						t.Errorf("inconsistent state %+v", st)
						return
					}
					seq := st.FirstSeq + rng.Uint64N(st.Msgs)
					m, err := s.Get(seq)
					switch {
					case err == nil && !sameMsg(m, testMsg(seq)):
						t.Errorf("Get(%d) = %+v", seq, m)
						return
					case err != nil && !errors.Is(err, ErrMsgNotFound):
						t.Errorf("Get(%d): %v", seq, err)
						return
					case err != nil && s.State().FirstSeq <= seq:
						t.Errorf("Get(%d): not found, but state is %+v", seq, s.State())
						return
					}
					reads.Add(1)
				}
			})
		}
		for i := range uint64(batches) {
			last := (i + 1) * batch
			through := uint64(0)
			if last > keep {
				through = last - keep
			}
			mustUpdate(t, s, Update{Append: testMsgs(i*batch+1, last), RemoveThrough: through, Applied: i + 1})
		}
		done.Store(true)
		wg.Wait()
		checkState(t, s, stateOf(batches*batch-keep+1, batches*batch, batches*batch-keep))
		t.Logf("%d concurrent reads", reads.Load())
	})

	t.Run("LargeRemove", func(t *testing.T) {
		if testing.Short() {
			t.Skip("short")
		}
		s := open(t)
		// Small messages, all in one update, one Badger key each: more
		// than twice as many as one Badger transaction takes (checked
		// below), so the appends and the deletes each take several.
		const n = 60_000
		if bs, ok := s.(*BadgerStore); ok {
			bs.db.batchMsgs = 1
			if n < 2*bs.db.db.MaxBatchCount() {
				t.Fatalf("%d messages fit in 2 transactions of at most %d entries", n, bs.db.db.MaxBatchCount())
			}
		}
		msgs := make([]Message, n)
		for i := range msgs {
			msgs[i] = Message{Seq: uint64(i + 1), Subject: "a", Data: []byte{byte(i)}, Time: int64(i)}
		}
		mustUpdate(t, s, Update{Append: msgs, Applied: 1})
		st := s.State()
		if st.Msgs != n || st.Bytes != n*msgs[0].Size() {
			t.Fatalf("after %d appends: %+v", n, st)
		}
		mustUpdate(t, s, Update{RemoveThrough: n - 10, Applied: 2})
		want := State{Msgs: 10, Bytes: 10 * msgs[0].Size(), FirstSeq: n - 9, FirstTime: n - 10,
			LastSeq: n, LastTime: n - 1, Deleted: n - 10}
		checkState(t, s, want)
		if _, err := s.Get(n - 10); !errors.Is(err, ErrMsgNotFound) {
			t.Fatalf("Get(%d): %v", n-10, err)
		}
		if m, err := s.Get(n - 9); err != nil || m.Data[0] != byte((n-10)%256) {
			t.Fatalf("Get(%d) = %+v, %v", n-9, m, err)
		}
		if bs, ok := s.(*BadgerStore); ok {
			if keys := countKeys(t, bs.db, bs.msgPrefix); keys != 10 {
				t.Fatalf("%d message keys left, want 10", keys)
			}
		}
	})
}

// checkHoles checks a store holding first..last but for the holes, with
// deleted messages removed before first besides them.
func checkHoles(t testing.TB, s Store, first, last, deletedBefore uint64, holes ...uint64) {
	t.Helper()
	want := stateOf(first, last, deletedBefore)
	for _, h := range holes {
		want.Msgs--
		want.Bytes -= testMsg(h).Size()
		want.Deleted++
	}
	checkState(t, s, want)
	for seq := first; seq <= last; seq++ {
		if slices.Contains(holes, seq) {
			checkNotFound(t, s, seq)
		} else {
			checkGet(t, s, seq)
		}
	}
	checkNotFound(t, s, first-1, last+1)
}

// checkViewHoles checks that a view of the store scans exactly want.
func checkViewHoles(t testing.TB, s Viewer, want []uint64) {
	t.Helper()
	v, err := s.View()
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	var got []uint64
	if err := v.Scan(0, func(m Message) error { got = append(got, m.Seq); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("view scans %v, want %v", got, want)
	}
}

// TestBadgerReopenHoles: holes survive a reopen, and stale hole keys
// (outside the range) are not read as holes.
func TestBadgerReopenHoles(t *testing.T) {
	dir := t.TempDir()
	db := openTestDB(t, dir)
	s := openStore(t, db, "W-1")
	mustUpdate(t, s, Update{Append: testMsgs(1, 10), Remove: []uint64{3, 5, 6}, Applied: 2})
	mustUpdate(t, s, Update{RemoveThrough: 3})
	checkHoles(t, s, 4, 10, 3, 5, 6)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openTestDB(t, dir)
	s = openStore(t, db, "W-1")
	checkHoles(t, s, 4, 10, 3, 5, 6)
	mustUpdate(t, s, Update{Remove: []uint64{4}})
	checkHoles(t, s, 7, 10, 6)
	if n := countKeys(t, db, s.holePrefix); n != 0 {
		t.Fatalf("%d hole keys left after the prefix took them", n)
	}
}

func TestMemStore(t *testing.T) {
	testStore(t, func(testing.TB) Store { return NewMemStore() })
}

func TestBadgerStore(t *testing.T) {
	testStore(t, func(t testing.TB) Store {
		db := openTestDB(t, t.TempDir())
		s, err := db.Open("ORDERS-1")
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func openTestDB(t testing.TB, dir string) *DB {
	t.Helper()
	db, err := OpenDB(dir, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db
}

func openStore(t testing.TB, db *DB, id string) *BadgerStore {
	t.Helper()
	s, err := db.Open(id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// countKeys counts the keys under prefix.
func countKeys(t testing.TB, db *DB, prefix []byte) int {
	t.Helper()
	n := 0
	err := db.db.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.PrefetchValues = false
		opts.Prefix = prefix
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestBadgerReopen(t *testing.T) {
	dir := t.TempDir()
	db, err := OpenDB(dir, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	a, b := openStore(t, db, "A-1"), openStore(t, db, "A-10")
	mustUpdate(t, a, Update{Append: testMsgs(1, 20), RemoveThrough: 5, Applied: 3})
	mustUpdate(t, b, Update{Append: testMsgs(1, 4), Applied: 7})
	mustUpdate(t, b, Update{RemoveThrough: 9, Applied: 8})
	if err := a.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Update(Update{Applied: 4}); !errors.Is(err, ErrStoreClosed) {
		t.Fatalf("Update after DB.Close: %v", err)
	}
	if _, err := db.Open("A-1"); !errors.Is(err, ErrStoreClosed) {
		t.Fatalf("Open after DB.Close: %v", err)
	}

	db = openTestDB(t, dir)
	a, b = openStore(t, db, "A-1"), openStore(t, db, "A-10")
	checkState(t, a, stateOf(6, 20, 5))
	checkState(t, b, State{FirstSeq: 10, LastSeq: 9, LastTime: testMsg(4).Time, Deleted: 4})
	if a.Applied() != 3 || b.Applied() != 8 {
		t.Fatalf("Applied = %d, %d, want 3, 8", a.Applied(), b.Applied())
	}
	for seq := uint64(6); seq <= 20; seq++ {
		checkGet(t, a, seq)
	}
	checkNotFound(t, a, 5, 21)
	checkNotFound(t, b, 1, 4, 9, 10)
	// The reopened stores carry on where they were.
	mustUpdate(t, a, Update{Append: testMsgs(21, 22), RemoveThrough: 6})
	checkState(t, a, stateOf(7, 22, 6))
	mustUpdate(t, b, Update{Append: testMsgs(10, 10)})
	checkState(t, b, stateOf(10, 10, 4))
}

func TestBadgerStreams(t *testing.T) {
	db := openTestDB(t, t.TempDir())
	ids := []string{"a", "ab", "ORDERS-17", "ü-2", string(make([]byte, 200))}
	stores := map[string]*BadgerStore{}
	for i, id := range ids {
		s := openStore(t, db, id)
		stores[id] = s
		mustUpdate(t, s, Update{Append: testMsgs(1, uint64(10+i)), Applied: uint64(i + 1)})
	}
	if _, err := db.Open("a"); err == nil {
		t.Fatal("opened an open store a second time")
	}
	empty := openStore(t, db, "EMPTY-1") // opened, never written
	_ = empty

	got, err := db.Streams()
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Sorted(slices.Values(ids))
	if !slices.Equal(got, want) {
		t.Fatalf("Streams() = %q, want %q", got, want)
	}

	// Streams are independent: removing from "a" leaves "ab" alone.
	mustUpdate(t, stores["a"], Update{RemoveThrough: 5})
	checkState(t, stores["a"], stateOf(6, 10, 5))
	checkState(t, stores["ab"], stateOf(1, 11, 0))
	checkGet(t, stores["ab"], 1)

	if err := stores["a"].Delete(); err != nil {
		t.Fatal(err)
	}
	if n := countKeys(t, db, []byte{kindMsg, 1, 'a'}); n != 0 {
		t.Fatalf("%d keys of deleted stream a left", n)
	}
	if n := countKeys(t, db, []byte{kindMsg}); n != 4 { // one batch each
		t.Fatalf("%d message keys left, want 4", n)
	}
	got, err = db.Streams()
	if err != nil {
		t.Fatal(err)
	}
	if want := slices.DeleteFunc(want, func(id string) bool { return id == "a" }); !slices.Equal(got, want) {
		t.Fatalf("Streams() after Delete = %q, want %q", got, want)
	}
	for _, id := range ids[1:] {
		checkGet(t, stores[id], 1)
	}
	// A deleted stream opens empty.
	a := openStore(t, db, "a")
	checkState(t, a, State{FirstSeq: 1})
	if a.Applied() != 0 {
		t.Fatalf("Applied() = %d after Delete", a.Applied())
	}

	// Close keeps the data, and frees the id.
	if err := stores["ab"].Close(); err != nil {
		t.Fatal(err)
	}
	ab := openStore(t, db, "ab")
	checkState(t, ab, stateOf(1, 11, 0))
}

// putBatches writes the batches of testMsgs(r[0], r[1]) for each range
// r, behind the store's back.
func putBatches(t testing.TB, s *BadgerStore, ranges ...[2]uint64) {
	t.Helper()
	for _, r := range ranges {
		putBatch(t, s, testMsgs(r[0], r[1]))
	}
}

// TestBadgerStaleKeys puts batches where a crash in an Update leaves
// them, wholly below FirstSeq and past LastSeq: they are unseen, and Open
// deletes them, but not the batch holding FirstSeq after removed ones.
func TestBadgerStaleKeys(t *testing.T) {
	db := openTestDB(t, t.TempDir())
	s := openStore(t, db, "S-1")
	mustUpdate(t, s, Update{Append: testMsgs(1, 10), RemoveThrough: 4})
	putBatches(t, s, [2]uint64{1, 2}, [2]uint64{3, 4}, [2]uint64{11, 12}, [2]uint64{13, 20}, [2]uint64{1 << 40, 1 << 40})
	checkNotFound(t, s, 1, 3, 4, 11, 12, 20, 1<<40)
	for seq := uint64(5); seq <= 10; seq++ {
		checkGet(t, s, seq)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, db, "S-1")
	if n := countKeys(t, db, s.msgPrefix); n != 1 {
		t.Fatalf("%d message keys after Open, want 1", n)
	}
	checkState(t, s, stateOf(5, 10, 4))
	checkGet(t, s, 5)
	mustUpdate(t, s, Update{Append: testMsgs(11, 12)})
	checkGet(t, s, 11)
	checkGet(t, s, 12)
}

// TestBadgerDeleteLarge deletes a stream big enough for DropPrefix.
func TestBadgerDeleteLarge(t *testing.T) {
	db := openTestDB(t, t.TempDir())
	db.dropPrefixMin = 1000
	big, other := openStore(t, db, "BIG-1"), openStore(t, db, "BIG-10")
	msgs := make([]Message, db.dropPrefixMin)
	for i := range msgs {
		msgs[i] = Message{Seq: uint64(i + 1), Subject: "a", Data: []byte{1}}
	}
	mustUpdate(t, big, Update{Append: msgs})
	mustUpdate(t, other, Update{Append: testMsgs(1, 3)})
	if err := big.Delete(); err != nil {
		t.Fatal(err)
	}
	if n := countKeys(t, db, big.msgPrefix); n != 0 {
		t.Fatalf("%d keys left", n)
	}
	if ids, err := db.Streams(); err != nil || !slices.Equal(ids, []string{"BIG-10"}) {
		t.Fatalf("Streams() = %q, %v", ids, err)
	}
	checkGet(t, other, 3)
}

// TestBadgerGC runs one round of value-log GC on a DB with garbage in
// its value log (messages above Badger's value threshold, removed), and
// checks the live stream is intact after it.
func TestBadgerGC(t *testing.T) {
	db := openTestDB(t, t.TempDir())
	s := openStore(t, db, "GC-1")
	data := bytes.Repeat([]byte("v"), 2*dbValueThreshold)
	for i := range uint64(20) {
		msgs := make([]Message, 10)
		for j := range msgs {
			msgs[j] = Message{Seq: i*10 + uint64(j) + 1, Subject: "a", Data: data}
		}
		mustUpdate(t, s, Update{Append: msgs, RemoveThrough: i * 10})
	}
	db.gcOnce()
	st := s.State()
	if st.Msgs != 10 || st.FirstSeq != 191 {
		t.Fatalf("state after GC: %+v", st)
	}
	for seq := st.FirstSeq; seq <= st.LastSeq; seq++ {
		if m, err := s.Get(seq); err != nil || !bytes.Equal(m.Data, data) {
			t.Fatalf("Get(%d) after GC: %v", seq, err)
		}
	}
}

// TestOpenDBAfterEmptyLogs opens a message database in which a power loss
// left an empty memtable log (dgraph-io/badger#2207).
func TestOpenDBAfterEmptyLogs(t *testing.T) {
	dir := t.TempDir()
	db, err := OpenDB(dir, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "00099.mem"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	openTestDB(t, dir)
}
