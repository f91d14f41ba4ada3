package stream

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

// putBatch writes the batch of msgs behind the store's back.
func putBatch(t testing.TB, s *BadgerStore, msgs []Message) {
	t.Helper()
	err := s.db.db.Update(func(txn *badger.Txn) error {
		return txn.Set(msgKey(s.msgPrefix, msgs[len(msgs)-1].Seq), appendBatch(nil, msgs, 0))
	})
	if err != nil {
		t.Fatal(err)
	}
}

// batchKeys returns the last sequences of the store's batch keys.
func batchKeys(t testing.TB, s *BadgerStore) []uint64 {
	t.Helper()
	var lasts []uint64
	err := s.db.scanKeys(s.msgPrefix, s.msgPrefix, nil, func(key []byte) error {
		lasts = append(lasts, binary.BigEndian.Uint64(key[len(s.msgPrefix):]))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return lasts
}

// TestBadgerMatchesMemStore runs random updates on a BadgerStore with
// small batches, split often, and on a MemStore, and checks that they
// hold the same messages and state, and that the BadgerStore keeps no
// batch it holds no message of, across reopens.
func TestBadgerMatchesMemStore(t *testing.T) {
	dir := t.TempDir()
	open := func() *BadgerStore {
		db := openTestDB(t, dir)
		db.batchMsgs, db.batchBytes = 7, 200
		return openStore(t, db, "DIFF-1")
	}
	s, mem := open(), NewMemStore()
	rng := rand.New(rand.NewPCG(7, 11))
	for step := range 400 {
		u := randomUpdate(rng, mem.State(), uint64(step))
		mustUpdate(t, mem, u)
		mustUpdate(t, s, u)
		if step%100 == 99 {
			if err := s.db.Close(); err != nil {
				t.Fatal(err)
			}
			s = open()
		}
		checkSameStore(t, s, mem)
	}
}

// randomUpdate returns an update of a store in state st: some appends,
// and a removal of none, some or all of the messages, or past them.
func randomUpdate(rng *rand.Rand, st State, step uint64) Update {
	n := uint64(rng.IntN(30))
	u := Update{Append: testMsgs(st.LastSeq+1, st.LastSeq+n), Applied: step + 1}
	last := st.LastSeq + n
	switch rng.IntN(8) {
	case 0:
		u.RemoveThrough = last + uint64(rng.IntN(3))
	case 1, 2, 3:
		from := st.FirstSeq - min(st.FirstSeq, 2)
		u.RemoveThrough = from + rng.Uint64N(last+1-from)
	}
	if rng.IntN(4) == 0 {
		u.Applied = 0
	}
	return u
}

// checkSameStore checks that s holds what want holds, and no batch but
// those holding a message of it.
func checkSameStore(t *testing.T, s *BadgerStore, want Store) {
	t.Helper()
	st := want.State()
	checkState(t, s, st)
	if s.Applied() != want.Applied() {
		t.Fatalf("Applied() = %d, want %d", s.Applied(), want.Applied())
	}
	for seq := st.FirstSeq - min(st.FirstSeq, 3); seq <= st.LastSeq+3; seq++ {
		m, err := s.Get(seq)
		w, werr := want.Get(seq)
		if !errors.Is(err, werr) || (err == nil && !sameMsg(m, w)) {
			t.Fatalf("Get(%d) = %+v, %v; want %+v, %v", seq, m, err, w, werr)
		}
	}
	keys := batchKeys(t, s)
	if st.Msgs == 0 && len(keys) > 0 {
		t.Fatalf("no messages, batch keys %v", keys)
	}
	if len(keys) > 0 && (keys[0] < st.FirstSeq || keys[len(keys)-1] != st.LastSeq) {
		t.Fatalf("state %+v, batch keys %v", st, keys)
	}
}

// TestBadgerBigUpdate appends 20 MiB in one update, split into batches
// of the default limits, and removes up to the middle of one of them.
func TestBadgerBigUpdate(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	dir := t.TempDir()
	db := openTestDB(t, dir)
	s := openStore(t, db, "BIG-1")
	const n, size = 20_000, 1 << 10
	msgs, data := make([]Message, n), make([]byte, n*size)
	for i := range msgs {
		d := data[i*size : (i+1)*size : (i+1)*size]
		binary.BigEndian.PutUint64(d, uint64(i+1))
		msgs[i] = Message{Seq: uint64(i + 1), Subject: "big", Data: d, Time: int64(i)}
	}
	mustUpdate(t, s, Update{Append: msgs, Applied: 1})
	keys := batchKeys(t, s)
	if len(keys) < n*size/batchBytes || len(keys) > n*size/batchBytes+2 {
		t.Fatalf("%d batch keys for %d bytes in batches of %d", len(keys), n*size, batchBytes)
	}
	msgSize := msgs[0].Size()
	checkState(t, s, State{Msgs: n, Bytes: n * msgSize, FirstSeq: 1, LastSeq: n, LastTime: n - 1})
	checkBig(t, s, msgs, 1)

	// Through a message inside the batch after the first.
	through := keys[1] - 3
	mustUpdate(t, s, Update{RemoveThrough: through, Applied: 2})
	want := State{Msgs: n - through, Bytes: (n - through) * msgSize, FirstSeq: through + 1,
		FirstTime: int64(through), LastSeq: n, LastTime: n - 1, Deleted: through}
	checkState(t, s, want)
	if got := batchKeys(t, s); !slices.Equal(got, keys[1:]) {
		t.Fatalf("batch keys after removal %v, want %v", got, keys[1:])
	}
	checkNotFound(t, s, through)
	checkBig(t, s, msgs, through+1)

	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, openTestDB(t, dir), "BIG-1")
	checkState(t, s, want)
	checkBig(t, s, msgs, through+1)
}

// checkBig checks some of msgs, from message first on, and that a Get's
// Data is the caller's own.
func checkBig(t *testing.T, s Store, msgs []Message, first uint64) {
	t.Helper()
	for i := first - 1; i < uint64(len(msgs)); i += 97 {
		if m, err := s.Get(i + 1); err != nil || !sameMsg(m, msgs[i]) {
			t.Fatalf("Get(%d): %v", i+1, err)
		}
	}
	m, err := s.Get(first)
	if err != nil {
		t.Fatal(err)
	}
	clear(m.Data)
	if m, err := s.Get(first); err != nil || !bytes.Equal(m.Data, msgs[first-1].Data) {
		t.Fatalf("Get(%d) after clearing the Data of an earlier Get: %v", first, err)
	}
}

// TestBadgerFailedUpdate puts a batch where an Update that failed before
// its commit point leaves it, past LastSeq, with other messages than the
// next updates append at its sequences and other batch boundaries: the
// next Update deletes it before it could shadow their batches.
func TestBadgerFailedUpdate(t *testing.T) {
	db := openTestDB(t, t.TempDir())
	s := openStore(t, db, "FAIL-1")
	mustUpdate(t, s, Update{Append: testMsgs(1, 3)})
	stale := testMsgs(4, 10)
	for i := range stale {
		stale[i].Data = []byte("stale")
	}
	putBatch(t, s, stale)
	s.dirty = true // as write leaves it after such a failure
	mustUpdate(t, s, Update{Append: testMsgs(4, 6)})
	mustUpdate(t, s, Update{Append: testMsgs(7, 12)})
	for seq := uint64(1); seq <= 12; seq++ {
		checkGet(t, s, seq)
	}
	if got := batchKeys(t, s); !slices.Equal(got, []uint64{3, 6, 12}) {
		t.Fatalf("batch keys %v, want [3 6 12]", got)
	}
}

// TestBadgerBatchCut checks where batches end: at batchMsgs messages or
// batchBytes of bodies, but never empty.
func TestBadgerBatchCut(t *testing.T) {
	d := &DB{batchMsgs: 3, batchBytes: 100}
	msg := func(n int) Message { return Message{Data: make([]byte, n-bodyLen(Message{}))} }
	for _, c := range []struct {
		bodies []int
		want   int
	}{
		{[]int{10}, 1},
		{[]int{10, 10, 10, 10}, 3},
		{[]int{50, 50, 5}, 2},
		{[]int{50, 51}, 1},
		{[]int{500, 5}, 1},
		{[]int{5, 500}, 1},
		{[]int{50, 46, 4}, 3},
	} {
		msgs := make([]Message, len(c.bodies))
		for i, n := range c.bodies {
			msgs[i] = msg(n)
		}
		if got := d.cut(msgs); got != c.want {
			t.Errorf("bodies %v: cut %d, want %d", c.bodies, got, c.want)
		}
	}
}
