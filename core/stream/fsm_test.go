package stream

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// t0 is the leader time of the first test entry. It is far from the wall
// clock on purpose: the FSM must go by entry times, never its own clock
// (tests with max_age use the wall clock instead, see TestFSMMaxAge).
const t0 = int64(1_000_000_000_000_000_000)

// testConfig returns a finished, valid ORDERS config.
func testConfig(t testing.TB, storage Storage, edit ...func(*Config)) Config {
	t.Helper()
	c := Config{Name: "ORDERS", Subjects: []string{"ORDERS.>"}, Storage: storage}
	for _, e := range edit {
		e(&c)
	}
	c.Finish()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	return c
}

// newFSM returns an FSM on s.
func newFSM(t testing.TB, c Config, s Store, catchup Catchup) *FSM {
	t.Helper()
	return NewFSM(FSMConfig{Config: c, Store: s, Catchup: catchup})
}

// testLog feeds entries to an FSM, numbering them, and keeps them so
// that they can be replayed to another.
type testLog struct {
	t       testing.TB
	f       *FSM
	entries []*raft.Log
}

func newTestLog(t testing.TB, f *FSM) *testLog { return &testLog{t: t, f: f} }

func (l *testLog) apply(data []byte) any {
	e := &raft.Log{Index: uint64(len(l.entries) + 1), Term: 1, Type: raft.LogCommand, Data: data}
	l.entries = append(l.entries, e)
	return l.f.Apply(e)
}

func (l *testLog) publish(now int64, batch ...Publish) []Result {
	l.t.Helper()
	res, ok := l.apply(encodePublish(now, batch)).([]Result)
	if !ok || len(res) != len(batch) {
		l.t.Fatalf("publish entry %d answered %#v", len(l.entries), res)
	}
	return res
}

// expire proposes the max_age expiry the leader would at now.
func (l *testLog) expire(now int64) {
	l.t.Helper()
	if through := l.f.ExpireThrough(now); through > 0 {
		if res := l.apply(encodeRemove(through)); res != nil {
			l.t.Fatalf("remove entry answered %#v", res)
		}
	}
}

func (l *testLog) purge() PurgeResult {
	l.t.Helper()
	res, ok := l.apply([]byte{opPurge}).(PurgeResult)
	if !ok {
		l.t.Fatalf("purge entry answered %#v", res)
	}
	return res
}

func (l *testLog) config(c Config) {
	l.t.Helper()
	data, err := encodeConfig(c)
	if err != nil {
		l.t.Fatal(err)
	}
	if res := l.apply(data); res != nil {
		l.t.Fatalf("config entry answered %#v", res)
	}
}

// replay applies entries to f and returns what each answered.
func replay(f *FSM, entries []*raft.Log) []any {
	out := make([]any, len(entries))
	for i, e := range entries {
		out[i] = f.Apply(e)
	}
	return out
}

// pub returns a publish whose content follows from n.
func pub(n int, id string) Publish {
	p := Publish{Subject: fmt.Sprintf("ORDERS.%d", n%5), Data: fmt.Appendf(nil, "order %d", n), MsgID: id}
	if n%4 == 0 {
		p.Header = []Header{{"k", "v"}, {"k", fmt.Sprint(n)}}
	}
	return p
}

// pubs returns pub(from) .. pub(to-1), without message ids.
func pubs(from, to int) []Publish {
	out := make([]Publish, 0, to-from)
	for n := from; n < to; n++ {
		out = append(out, pub(n, ""))
	}
	return out
}

// sized returns a publish of exactly size bytes as the stream counts them.
func sized(size int) Publish {
	p := Publish{Subject: "ORDERS.x"}
	p.Data = bytes.Repeat([]byte{'x'}, size-int(p.size()))
	if int(p.size()) != size {
		panic("sized: bad arithmetic")
	}
	return p
}

func wantSeqs(t testing.TB, res []Result, seqs ...uint64) {
	t.Helper()
	got := make([]uint64, len(res))
	for i, r := range res {
		if r.Err != nil || r.Duplicate {
			t.Fatalf("result %d = %+v, want a stored message", i, r)
		}
		got[i] = r.Seq
	}
	if !slices.Equal(got, seqs) {
		t.Fatalf("sequences %v, want %v", got, seqs)
	}
}

// sameState compares what two replicas hold; Deleted is each store's own
// history, so it is left out.
func sameState(a, b State) bool {
	a.Deleted, b.Deleted = 0, 0
	return a == b
}

// checkHolds checks that f's messages and State are exactly want's
// messages first..last, with bytes and times computed from them.
func checkHolds(t testing.TB, f *FSM, want Store, first, last uint64) {
	t.Helper()
	checkHoldsBut(t, f, want, first, last, nil)
}

// checkHoldsBut is checkHolds with holes: the sequences hole says.
func checkHoldsBut(t testing.TB, f *FSM, want Store, first, last uint64, hole func(uint64) bool) {
	t.Helper()
	st := f.State()
	if st.FirstSeq != first || st.LastSeq != last {
		t.Fatalf("holds %d..%d, want %d..%d (state %+v)", st.FirstSeq, st.LastSeq, first, last, st)
	}
	var bytes, n uint64
	for seq := first; seq <= last; seq++ {
		got, err := f.Get(seq)
		if hole != nil && hole(seq) {
			if !errors.Is(err, ErrMsgNotFound) {
				t.Fatalf("Get(%d) of a hole: %v", seq, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("Get(%d): %v", seq, err)
		}
		w, err := want.Get(seq)
		if err != nil {
			t.Fatalf("source Get(%d): %v", seq, err)
		}
		if !sameMsg(got, w) {
			t.Fatalf("message %d = %+v, want %+v", seq, got, w)
		}
		bytes += got.Size()
		n++
	}
	if st.Msgs != n || st.Bytes != bytes {
		t.Fatalf("state %+v: want %d msgs, %d bytes", st, n, bytes)
	}
	if first > 1 {
		if _, err := f.Get(first - 1); !errors.Is(err, ErrMsgNotFound) {
			t.Fatalf("Get(%d) below the first sequence: %v", first-1, err)
		}
	}
}

func TestFSMSequences(t *testing.T) {
	f := newFSM(t, testConfig(t, MemoryStorage), NewMemStore(), nil)
	l := newTestLog(t, f)
	wantSeqs(t, l.publish(t0, pubs(0, 3)...), 1, 2, 3)
	wantSeqs(t, l.publish(t0+5, pubs(3, 4)...), 4)
	wantSeqs(t, l.publish(t0+9, pubs(4, 8)...), 5, 6, 7, 8)

	for seq := uint64(1); seq <= 8; seq++ {
		m, err := f.Get(seq)
		if err != nil {
			t.Fatal(err)
		}
		p := pub(int(seq-1), "")
		want := Message{Seq: seq, Subject: p.Subject, Header: p.Header, Data: p.Data}
		switch {
		case seq <= 3:
			want.Time = t0
		case seq == 4:
			want.Time = t0 + 5
		default:
			want.Time = t0 + 9
		}
		if !sameMsg(m, want) {
			t.Fatalf("Get(%d) = %+v, want %+v", seq, m, want)
		}
	}
	st := f.State()
	if st.Msgs != 8 || st.FirstSeq != 1 || st.LastSeq != 8 || st.FirstTime != t0 || st.LastTime != t0+9 {
		t.Fatalf("state %+v", st)
	}

	// Entries that are not commands, empty or undecodable change nothing.
	if res := f.Apply(&raft.Log{Index: 100, Type: raft.LogNoop}); res != nil {
		t.Fatalf("noop answered %v", res)
	}
	for _, data := range [][]byte{{opPublish, 1, 2}, {99}, encodePublish(t0, pubs(0, 2))[:20]} {
		res := f.Apply(&raft.Log{Index: 101, Type: raft.LogCommand, Data: data})
		if err, ok := res.(error); !ok || !errors.Is(err, errBadEntry) {
			t.Fatalf("bad entry %v answered %v, want errBadEntry", data, res)
		}
	}
	if st2 := f.State(); st2 != st {
		t.Fatalf("bad entries changed the state: %+v", st2)
	}
}

func TestEntryCodec(t *testing.T) {
	batch := []Publish{
		{Subject: "a.b", MsgID: "id", Header: []Header{{"k", "1"}, {"k", "2"}}, Data: []byte("hello")},
		{Subject: "c"},
		{Subject: "d", Header: []Header{{"", ""}}, Data: bytes.Repeat([]byte{0}, 300)},
	}
	now, got, err := decodePublish(encodePublish(-5, batch)[1:])
	if err != nil || now != -5 || len(got) != len(batch) {
		t.Fatalf("decode: %d, %d publishes, %v", now, len(got), err)
	}
	for i := range batch {
		a, b := batch[i], got[i]
		if a.Subject != b.Subject || a.MsgID != b.MsgID || !bytes.Equal(a.Data, b.Data) || !slices.Equal(a.Header, b.Header) {
			t.Fatalf("publish %d = %+v, want %+v", i, b, a)
		}
	}
	// Every truncation of an entry fails to decode rather than panic.
	full := encodePublish(7, batch)[1:]
	for n := range len(full) {
		if _, _, err := decodePublish(full[:n]); err == nil {
			t.Fatalf("decode of %d of %d bytes succeeded", n, len(full))
		}
	}
}

func TestFSMDuplicates(t *testing.T) {
	c := testConfig(t, MemoryStorage, func(c *Config) { c.DupeWindow = time.Minute })
	window := int64(time.Minute)
	f := newFSM(t, c, NewMemStore(), nil)
	l := newTestLog(t, f)

	wantSeqs(t, l.publish(t0, pub(1, "a"), pub(2, "b"), pub(3, "")), 1, 2, 3)
	// Within the window: duplicates answer the original sequence; an id
	// repeated in one batch is a duplicate of the batch's first.
	res := l.publish(t0+window-1, pub(4, "b"), pub(5, "c"), pub(6, "c"), pub(7, ""), pub(8, "a"))
	want := []Result{{Seq: 2, Duplicate: true}, {Seq: 4}, {Seq: 4, Duplicate: true}, {Seq: 5}, {Seq: 1, Duplicate: true}}
	if !slices.Equal(res, want) {
		t.Fatalf("results %+v, want %+v", res, want)
	}
	if st := f.State(); st.LastSeq != 5 || st.Msgs != 5 {
		t.Fatalf("duplicates were stored: %+v", st)
	}
	// An empty id is never a duplicate.
	wantSeqs(t, l.publish(t0+window-1, pub(9, ""), pub(9, "")), 6, 7)

	// "a" and "b" were stored at t0: an entry at t0+window still knows
	// them; one after it does not. "c" (t0+window-1) is still known.
	res = l.publish(t0+window, pub(10, "a"))
	if !slices.Equal(res, []Result{{Seq: 1, Duplicate: true}}) {
		t.Fatalf("at the window's end: %+v", res)
	}
	res = l.publish(t0+window+1, pub(11, "a"), pub(12, "c"), pub(13, "b"))
	if !slices.Equal(res, []Result{{Seq: 8}, {Seq: 4, Duplicate: true}, {Seq: 9}}) {
		t.Fatalf("after the window: %+v", res)
	}
	// The new "a" is remembered from its own time.
	res = l.publish(t0+2*window, pub(14, "a"), pub(15, "c"))
	if !slices.Equal(res, []Result{{Seq: 8, Duplicate: true}, {Seq: 10}}) {
		t.Fatalf("second window: %+v", res)
	}

	// A refused message's id is not remembered.
	big := pub(16, "big")
	big.Data = make([]byte, DefaultMaxMsgSize+1)
	if res := l.publish(t0+2*window, big); !errors.Is(res[0].Err, ErrMsgTooLarge) {
		t.Fatalf("too large: %+v", res)
	}
	wantSeqs(t, l.publish(t0+2*window, pub(17, "big")), 11)
}

// reopen closes f and its store and reopens the store from a new DB on
// dir, with a new FSM.
func reopen(t *testing.T, f *FSM, db *DB, dir, id string, c Config) (*FSM, *DB) {
	t.Helper()
	if err := f.CloseStore(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openTestDB(t, dir)
	return newFSM(t, c, openStore(t, db, id), nil), db
}

func TestFSMDedupeAfterReopen(t *testing.T) {
	dir := t.TempDir()
	db := openTestDB(t, dir)
	c := testConfig(t, FileStorage, func(c *Config) { c.DupeWindow = time.Minute })
	window := int64(time.Minute)
	f := newFSM(t, c, openStore(t, db, "ORDERS-1"), nil)
	l := newTestLog(t, f)
	wantSeqs(t, l.publish(t0, pub(1, "old"), pub(2, "")), 1, 2)
	wantSeqs(t, l.publish(t0+window/2, pub(3, "a"), pub(4, "b")), 3, 4)
	wantSeqs(t, l.publish(t0+window, pub(5, "c"), pub(6, "")), 5, 6)

	f, _ = reopen(t, f, db, dir, "ORDERS-1", c)
	l.f = f
	// Within the window of the new entry: a, b and c are known; "old"
	// (t0) is not, at t0+window+1.
	res := l.publish(t0+window+1, pub(7, "a"), pub(8, "b"), pub(9, "c"), pub(10, "old"))
	want := []Result{{Seq: 3, Duplicate: true}, {Seq: 4, Duplicate: true}, {Seq: 5, Duplicate: true}, {Seq: 7}}
	if !slices.Equal(res, want) {
		t.Fatalf("after reopen: %+v, want %+v", res, want)
	}
}

// TestFSMDedupeAfterReopenTrimmed checks that a replica that restarts
// answers publishes as one that did not: the ids of messages removed by
// limits (or a purge) within the dupe window must still be duplicates.
// The FSM rebuilds its table from the store's messages only, so a
// restarted replica forgets them and stores what the others refuse as a
// duplicate: sequences diverge.
func TestFSMDedupeAfterReopenTrimmed(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(*Config)
		purge bool
	}{
		{name: "MaxMsgs", edit: func(c *Config) { c.MaxMsgs = 1 }},
		{name: "Purge", edit: func(*Config) {}, purge: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			db := openTestDB(t, dir)
			c := testConfig(t, FileStorage, tc.edit)
			f := newFSM(t, c, openStore(t, db, "ORDERS-1"), nil)
			ref := newFSM(t, c, NewMemStore(), nil) // a replica that keeps running
			l := newTestLog(t, f)
			l.publish(t0, pub(1, "a"))
			l.publish(t0+1, pub(2, "b"))
			if tc.purge {
				l.purge()
			}
			replay(ref, l.entries)

			f, _ = reopen(t, f, db, dir, "ORDERS-1", c)
			l.f = f
			next := encodePublish(t0+2, []Publish{pub(3, "a")})
			got := l.apply(next)
			want := ref.Apply(l.entries[len(l.entries)-1])
			if !slices.Equal(got.([]Result), want.([]Result)) {
				t.Fatalf("restarted replica answered %+v, running one %+v", got, want)
			}
			if !sameState(f.State(), ref.State()) {
				t.Fatalf("replicas diverge: %+v and %+v", f.State(), ref.State())
			}
		})
	}
}

func TestFSMReplaySkip(t *testing.T) {
	dir := t.TempDir()
	db := openTestDB(t, dir)
	c := testConfig(t, FileStorage)
	f := newFSM(t, c, openStore(t, db, "ORDERS-1"), nil)
	l := newTestLog(t, f)
	l.publish(t0, pubs(0, 3)...)
	l.publish(t0+1, pubs(3, 5)...)
	l.purge()
	l.publish(t0+2, pubs(5, 7)...)
	l.config(testConfig(t, FileStorage, func(c *Config) { c.MaxMsgs = 1 }))
	before := f.State()

	f, _ = reopen(t, f, db, dir, "ORDERS-1", c)
	if got := f.State(); got != before {
		t.Fatalf("reopened state %+v, want %+v", got, before)
	}
	// Raft replays the whole log: the store has it all, nothing changes.
	for i, res := range replay(f, l.entries) {
		if res != nil {
			t.Fatalf("replayed entry %d answered %v", i+1, res)
		}
	}
	if got := f.State(); got != before {
		t.Fatalf("replay changed the state to %+v, want %+v", got, before)
	}
	// The next entry continues the sequences (with the config the meta
	// group passed to NewFSM: the skipped config entry is not applied).
	l.f = f
	wantSeqs(t, l.publish(t0+3, pubs(7, 9)...), 8, 9)
	if st := f.State(); st.Msgs != 3 || st.FirstSeq != 7 {
		t.Fatalf("state %+v", st)
	}
}

func TestFSMMaxMsgsDiscardOld(t *testing.T) {
	ref := NewMemStore() // every message, untrimmed
	c := testConfig(t, MemoryStorage, func(c *Config) { c.MaxMsgs = 3 })
	refFSM := newFSM(t, testConfig(t, MemoryStorage), ref, nil)
	f := newFSM(t, c, NewMemStore(), nil)
	l := newTestLog(t, f)
	publish := func(now int64, batch ...Publish) []Result {
		replay(refFSM, []*raft.Log{{Index: uint64(len(l.entries) + 1), Type: raft.LogCommand, Data: encodePublish(now, batch)}})
		return l.publish(now, batch...)
	}
	wantSeqs(t, publish(t0, pubs(0, 2)...), 1, 2)
	checkHolds(t, f, ref, 1, 2)
	wantSeqs(t, publish(t0+1, pubs(2, 7)...), 3, 4, 5, 6, 7) // more than the limit in one batch
	checkHolds(t, f, ref, 5, 7)
	wantSeqs(t, publish(t0+2, pubs(7, 8)...), 8)
	checkHolds(t, f, ref, 6, 8)
	if st := f.State(); st.FirstTime != t0+1 || st.LastTime != t0+2 || st.Deleted != 5 {
		t.Fatalf("state %+v", st)
	}
}

func TestFSMMaxBytesDiscardOld(t *testing.T) {
	c := testConfig(t, MemoryStorage, func(c *Config) { c.MaxBytes = 350 })
	f := newFSM(t, c, NewMemStore(), nil)
	l := newTestLog(t, f)
	wantSeqs(t, l.publish(t0, sized(100), sized(100), sized(100)), 1, 2, 3)
	checkBytes := func(first, last, bytes uint64) {
		t.Helper()
		st := f.State()
		if st.FirstSeq != first || st.LastSeq != last || st.Msgs != last-first+1 || st.Bytes != bytes {
			t.Fatalf("state %+v, want %d..%d with %d bytes", st, first, last, bytes)
		}
	}
	checkBytes(1, 3, 300)
	wantSeqs(t, l.publish(t0, sized(50)), 4) // exactly full
	checkBytes(1, 4, 350)
	wantSeqs(t, l.publish(t0, sized(60)), 5) // 410: seq 1 goes
	checkBytes(2, 5, 310)
	wantSeqs(t, l.publish(t0, sized(300), sized(40)), 6, 7) // 650: 2..5 go
	checkBytes(6, 7, 340)
	// Both limits: max_msgs trims first, then max_bytes.
	l.config(testConfig(t, MemoryStorage, func(c *Config) { c.MaxBytes = 350; c.MaxMsgs = 2 }))
	wantSeqs(t, l.publish(t0, sized(30), sized(40)), 8, 9)
	checkBytes(8, 9, 70)
	wantSeqs(t, l.publish(t0, sized(340)), 10) // max_msgs removes 8; 9+10 = 380 > 350 removes 9
	checkBytes(10, 10, 340)
}

func TestFSMDiscardNew(t *testing.T) {
	c := testConfig(t, MemoryStorage, func(c *Config) {
		c.Discard = DiscardNew
		c.MaxMsgs = 3
		c.MaxBytes = 250
		c.MaxMsgSize = 120
	})
	f := newFSM(t, c, NewMemStore(), nil)
	l := newTestLog(t, f)
	res := l.publish(t0, sized(100), sized(100), sized(100), sized(40), sized(30), sized(30))
	want := []Result{{Seq: 1}, {Seq: 2}, {Err: ErrMaxBytes}, {Seq: 3}, {Err: ErrMaxMsgs}, {Err: ErrMaxMsgs}}
	if !slices.Equal(res, want) {
		t.Fatalf("results %+v, want %+v", res, want)
	}
	if st := f.State(); st.Msgs != 3 || st.Bytes != 240 || st.FirstSeq != 1 || st.LastSeq != 3 {
		t.Fatalf("state %+v", st)
	}
	if _, err := f.Get(4); !errors.Is(err, ErrMsgNotFound) {
		t.Fatalf("Get(4): %v", err)
	}
	// A refused message's id is not remembered.
	p := pub(1, "x")
	if res := l.publish(t0, p); !errors.Is(res[0].Err, ErrMaxMsgs) {
		t.Fatalf("full: %+v", res)
	}
	// After a purge there is room again, and sequences continue.
	if got := l.purge(); got.Purged != 3 {
		t.Fatalf("purged %d", got.Purged)
	}
	wantSeqs(t, l.publish(t0, p), 4)

	// max_msg_size counts the data.
	over := Publish{Subject: "ORDERS.x", Data: make([]byte, 121)}
	if res := l.publish(t0, over, sized(60)); !errors.Is(res[0].Err, ErrMsgTooLarge) || res[1] != (Result{Seq: 5}) {
		t.Fatalf("too large: %+v", res)
	}
}

func TestFSMMaxMsgSizeDefault(t *testing.T) {
	f := newFSM(t, testConfig(t, MemoryStorage), NewMemStore(), nil)
	l := newTestLog(t, f)
	at := Publish{Subject: "ORDERS.x", Data: make([]byte, DefaultMaxMsgSize)}
	over := Publish{Subject: "ORDERS.x", Data: make([]byte, DefaultMaxMsgSize+1)}
	res := l.publish(t0, at, over)
	if res[0] != (Result{Seq: 1}) || !errors.Is(res[1].Err, ErrMsgTooLarge) {
		t.Fatalf("results %+v", res)
	}
}

func TestFSMMaxAge(t *testing.T) {
	// Expiry is an entry the leader proposes at its clock's time.
	base := time.Now().UnixNano()
	c := testConfig(t, MemoryStorage, func(c *Config) { c.MaxAge = time.Hour })
	if c.DupeWindow != DefaultDupeWindow {
		t.Fatalf("dupe window %s", c.DupeWindow)
	}
	f := newFSM(t, c, NewMemStore(), nil)
	l := newTestLog(t, f)
	l.publish(base, pubs(0, 2)...)
	l.publish(base+int64(10*time.Minute), pubs(2, 3)...)
	l.publish(base+int64(20*time.Minute), pubs(3, 5)...)

	l.expire(base + int64(time.Hour)) // a message exactly max_age old stays
	if st := f.State(); st.Msgs != 5 {
		t.Fatalf("state %+v", st)
	}
	l.expire(base + int64(time.Hour+5*time.Minute))
	if st := f.State(); st.FirstSeq != 3 || st.Msgs != 3 || st.FirstTime != base+int64(10*time.Minute) {
		t.Fatalf("state %+v", st)
	}
	l.expire(base + int64(2*time.Hour))
	st := f.State()
	if st.Msgs != 0 || st.Bytes != 0 || st.FirstSeq != 6 || st.LastSeq != 5 {
		t.Fatalf("state %+v", st)
	}
	// Sequences are not affected.
	wantSeqs(t, l.publish(base+int64(2*time.Hour), pubs(5, 6)...), 6)

	// Without max_age, expire does nothing.
	g := newFSM(t, testConfig(t, MemoryStorage), NewMemStore(), nil)
	gl := newTestLog(t, g)
	gl.publish(t0, pubs(0, 2)...)
	gl.expire(t0 + int64(1000*time.Hour))
	if st := g.State(); st.Msgs != 2 {
		t.Fatalf("expired without max_age: %+v", st)
	}
}

func TestFSMPurge(t *testing.T) {
	for _, storage := range []Storage{MemoryStorage, FileStorage} {
		t.Run(string(storage), func(t *testing.T) {
			var s Store = NewMemStore()
			if storage == FileStorage {
				s = openStore(t, openTestDB(t, t.TempDir()), "ORDERS-1")
			}
			f := newFSM(t, testConfig(t, storage), s, nil)
			l := newTestLog(t, f)
			l.publish(t0, pubs(0, 10)...)
			if got := l.purge(); got != (PurgeResult{Purged: 10}) {
				t.Fatalf("purge = %+v", got)
			}
			st := f.State()
			if st.Msgs != 0 || st.Bytes != 0 || st.FirstSeq != 11 || st.LastSeq != 10 || st.Deleted != 10 {
				t.Fatalf("state after purge %+v", st)
			}
			if got := l.purge(); got != (PurgeResult{}) {
				t.Fatalf("second purge = %+v", got)
			}
			wantSeqs(t, l.publish(t0+1, pubs(10, 12)...), 11, 12)
			if st := f.State(); st.Msgs != 2 || st.FirstSeq != 11 || st.FirstTime != t0+1 {
				t.Fatalf("state %+v", st)
			}
		})
	}
}

func TestFSMConfigEntry(t *testing.T) {
	f := newFSM(t, testConfig(t, MemoryStorage), NewMemStore(), nil)
	l := newTestLog(t, f)
	l.publish(t0, pubs(0, 10)...)
	c := testConfig(t, MemoryStorage, func(c *Config) { c.MaxMsgs = 4 })
	l.config(c)
	if got := f.Config(); got.MaxMsgs != 4 {
		t.Fatalf("config %+v", got)
	}
	if st := f.State(); st.Msgs != 4 || st.FirstSeq != 7 || st.LastSeq != 10 {
		t.Fatalf("state after lowering max_msgs %+v", st)
	}
	c.MaxBytes = int64(sized(100).size()) // not a message's size: just a bound
	l.config(c)
	if st := f.State(); st.Bytes > 100 || st.LastSeq != 10 {
		t.Fatalf("state after lowering max_bytes %+v", st)
	}
	if res := l.apply([]byte{opConfig, '{'}); res == nil {
		t.Fatal("a bad config entry was taken")
	}
	if f.Config().MaxMsgs != 4 {
		t.Fatal("a bad config entry changed the config")
	}
}

// TestFSMDiscardNewExpiryDiverges: were max_age expiry each replica's
// own clock, replicas would expire at different log positions, and a
// discard-new stream would take a publish on one and refuse it on the
// other. Expiry is an entry, so both answer alike.
func TestFSMDiscardNewExpiryDiverges(t *testing.T) {
	base := time.Now().UnixNano()
	c := testConfig(t, MemoryStorage, func(c *Config) {
		c.Discard = DiscardNew
		c.MaxMsgs = 1
		c.MaxAge = time.Hour
	})
	a := newFSM(t, c, NewMemStore(), nil)
	b := newFSM(t, c, NewMemStore(), nil)
	l := newTestLog(t, a)
	l.publish(base, pub(1, ""))
	replay(b, l.entries)
	l.expire(base + int64(2*time.Hour)) // the leader's clock: an entry
	resA := l.publish(base+1, pub(2, ""))
	b.Apply(l.entries[1])
	resB := b.Apply(l.entries[2]).([]Result)
	if !slices.Equal(resA, resB) {
		t.Fatalf("one entry, two answers: replica a %+v, replica b %+v", resA, resB)
	}
}

func TestConfigValidate(t *testing.T) {
	ok := func(edit func(*Config)) Config {
		c := Config{Name: "ORDERS", Subjects: []string{"ORDERS.*", "SHIP.>"}}
		edit(&c)
		c.Finish()
		return c
	}
	for name, c := range map[string]Config{
		"defaults":      ok(func(*Config) {}),
		"unlimited":     ok(func(c *Config) { c.MaxMsgs, c.MaxBytes, c.MaxMsgSize = -1, -1, -1 }),
		"memory":        ok(func(c *Config) { c.Storage = MemoryStorage; c.Discard = DiscardNew }),
		"long name":     ok(func(c *Config) { c.Name = strings.Repeat("x", 64) }),
		"name chars":    ok(func(c *Config) { c.Name = "orders_v2-EU" }),
		"account's":     ok(func(c *Config) { c.Name = Qualify("APP", "orders") }),
		"disjoint subj": ok(func(c *Config) { c.Subjects = []string{"a.b", "a.c", "b.*"} }),
	} {
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	for name, c := range map[string]Config{
		"no name":        ok(func(c *Config) { c.Name = "" }),
		"name too long":  ok(func(c *Config) { c.Name = strings.Repeat("x", 65) }),
		"name dot":       ok(func(c *Config) { c.Name = "a.b.c" }),
		"empty account":  ok(func(c *Config) { c.Name = ".b" }),
		"account only":   ok(func(c *Config) { c.Name = "a." }),
		"name star":      ok(func(c *Config) { c.Name = "a*" }),
		"name gt":        ok(func(c *Config) { c.Name = "a>" }),
		"name slash":     ok(func(c *Config) { c.Name = "a/b" }),
		"name backslash": ok(func(c *Config) { c.Name = `a\b` }),
		"name space":     ok(func(c *Config) { c.Name = "a b" }),
		"name tab":       ok(func(c *Config) { c.Name = "a\tb" }),
		"no subjects":    ok(func(c *Config) { c.Subjects = nil }),
		"empty subject":  ok(func(c *Config) { c.Subjects = []string{""} }),
		"bad subject":    ok(func(c *Config) { c.Subjects = []string{"a..b"} }),
		"overlap":        ok(func(c *Config) { c.Subjects = []string{"a.b", "c", "a.*"} }),
		"overlap gt":     ok(func(c *Config) { c.Subjects = []string{"a.>", "a.b.c"} }),
		"same subject":   ok(func(c *Config) { c.Subjects = []string{"a", "a"} }),
		"storage":        ok(func(c *Config) { c.Storage = "tape" }),
		"discard":        ok(func(c *Config) { c.Discard = "middle" }),
		"max_msgs":       ok(func(c *Config) { c.MaxMsgs = -2 }),
		"max_bytes":      ok(func(c *Config) { c.MaxBytes = -5 }),
		"max_msg_size":   ok(func(c *Config) { c.MaxMsgSize = -2 }),
		"max_age":        ok(func(c *Config) { c.MaxAge = -time.Second }),
		"dupe_window":    ok(func(c *Config) { c.DupeWindow = -time.Second }),
	} {
		if err := c.Validate(); !errors.Is(err, ErrBadConfig) {
			t.Errorf("%s: Validate = %v, want ErrBadConfig", name, err)
		}
	}
}

func TestConfigFinish(t *testing.T) {
	c := Config{Name: "X", Subjects: []string{"x"}, MaxMsgs: -1, MaxBytes: -1, MaxMsgSize: -1}
	c.Finish()
	want := Config{Name: "X", Subjects: []string{"x"}, Replicas: 1, Storage: FileStorage, Discard: DiscardOld, DupeWindow: DefaultDupeWindow}
	if !configEqual(c, want) {
		t.Fatalf("finished %+v, want %+v", c, want)
	}
	// Set fields stay; the dupe window is clipped to max_age.
	c = Config{Name: "X", Subjects: []string{"x"}, Replicas: 3, Storage: MemoryStorage, Discard: DiscardNew,
		MaxMsgs: 7, MaxAge: time.Second, DupeWindow: time.Hour}
	c.Finish()
	if c.Replicas != 3 || c.Storage != MemoryStorage || c.Discard != DiscardNew || c.MaxMsgs != 7 || c.DupeWindow != time.Second {
		t.Fatalf("finished %+v", c)
	}
	if err := c.CheckUpdate(Config{Name: "X", Storage: MemoryStorage}); err != nil {
		t.Fatal(err)
	}
	if err := c.CheckUpdate(Config{Name: "Y", Storage: MemoryStorage}); !errors.Is(err, ErrBadConfig) {
		t.Fatalf("rename: %v", err)
	}
	if err := c.CheckUpdate(Config{Name: "X", Storage: FileStorage}); !errors.Is(err, ErrBadConfig) {
		t.Fatalf("storage change: %v", err)
	}
}

func configEqual(a, b Config) bool {
	return slices.Equal(a.Subjects, b.Subjects) && slices.Equal(a.Tags, b.Tags) &&
		a.Name == b.Name && a.Replicas == b.Replicas && a.Storage == b.Storage && a.MaxMsgs == b.MaxMsgs &&
		a.MaxBytes == b.MaxBytes && a.MaxAge == b.MaxAge && a.MaxMsgSize == b.MaxMsgSize &&
		a.Discard == b.Discard && a.DupeWindow == b.DupeWindow
}

// bufSink is a raft.SnapshotSink into memory.
type bufSink struct {
	bytes.Buffer
	closed, canceled bool
}

func (s *bufSink) ID() string    { return "test" }
func (s *bufSink) Close() error  { s.closed = true; return nil }
func (s *bufSink) Cancel() error { s.canceled = true; return nil }

// snapshotOf persists a snapshot of f and returns its bytes.
func snapshotOf(t testing.TB, f *FSM) []byte {
	t.Helper()
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Release()
	var sink bufSink
	if err := snap.Persist(&sink); err != nil {
		t.Fatal(err)
	}
	if !sink.closed || sink.canceled {
		t.Fatalf("sink closed %v, canceled %v", sink.closed, sink.canceled)
	}
	return sink.Bytes()
}

func restore(f *FSM, snap []byte) error {
	return f.Restore(io.NopCloser(bytes.NewReader(snap)))
}

func TestFSMSnapshotMemory(t *testing.T) {
	c := testConfig(t, MemoryStorage, func(c *Config) { c.MaxMsgs = 50 })
	src := newFSM(t, c, NewMemStore(), nil)
	l := newTestLog(t, src)
	for i := range 10 {
		batch := pubs(i*10, i*10+10)
		batch[0].MsgID = fmt.Sprintf("id-%d", i)
		l.publish(t0+int64(i), batch...)
	}
	snap := snapshotOf(t, src)

	// Changes after Snapshot are not in it.
	l.publish(t0+20, pubs(100, 105)...)
	after := l.entries[len(l.entries)-1]

	dst := newFSM(t, testConfig(t, MemoryStorage), NewMemStore(), nil)
	if err := restore(dst, snap); err != nil {
		t.Fatal(err)
	}
	if got := dst.Config(); got.MaxMsgs != 50 {
		t.Fatalf("restored config %+v", got)
	}
	if got := dst.State(); got.FirstSeq != 51 || got.LastSeq != 100 || got.Msgs != 50 {
		t.Fatalf("restored state %+v, want 51..100", got)
	}
	// Entries up to the snapshot's index are skipped; the next one gives
	// the same answers and state as on the source.
	if res := replay(dst, l.entries[:10]); slices.ContainsFunc(res, func(r any) bool { return r != nil }) {
		t.Fatalf("entries before the snapshot answered %v", res)
	}
	res := dst.Apply(after).([]Result)
	wantSeqs(t, res, 101, 102, 103, 104, 105)
	checkHolds(t, dst, src.store, 56, 105)
	if !sameState(dst.State(), src.State()) {
		t.Fatalf("restored %+v, source %+v", dst.State(), src.State())
	}
	// The dupe table came with the messages.
	l.f = dst
	res = l.publish(t0+21, pub(0, "id-9"))
	if !slices.Equal(res, []Result{{Seq: 91, Duplicate: true}}) {
		t.Fatalf("duplicate after restore: %+v", res)
	}

	// Restoring over a store that holds other messages replaces them.
	other := newFSM(t, c, NewMemStore(), nil)
	ol := newTestLog(t, other)
	ol.publish(t0, pubs(0, 200)...)
	if err := restore(other, snap); err != nil {
		t.Fatal(err)
	}
	if got := other.State(); got.FirstSeq != 51 || got.LastSeq != 100 || got.Msgs != 50 {
		t.Fatalf("restored over a longer store: %+v", got)
	}
}

func TestFSMSnapshotMemoryEmpty(t *testing.T) {
	src := newFSM(t, testConfig(t, MemoryStorage), NewMemStore(), nil)
	l := newTestLog(t, src)
	l.publish(t0, pubs(0, 7)...)
	l.purge()
	dst := newFSM(t, testConfig(t, MemoryStorage), NewMemStore(), nil)
	if err := restore(dst, snapshotOf(t, src)); err != nil {
		t.Fatal(err)
	}
	// LastTime is not compared: a store cannot be told the time of a
	// last message it never had.
	got, want := dst.State(), src.State()
	if got.FirstSeq != want.FirstSeq || got.LastSeq != want.LastSeq || got.Msgs != 0 || got.Bytes != 0 {
		t.Fatalf("restored %+v, want %+v", got, want)
	}
	res := dst.Apply(&raft.Log{Index: 3, Type: raft.LogCommand, Data: encodePublish(t0, pubs(0, 1))})
	wantSeqs(t, res.([]Result), 8)
}

// fileSource is a file stream's replica that serves catch-up reads, and
// records what it was asked for.
type fileSource struct {
	store Store
	calls [][2]uint64
	// skip, if set, leaves out the messages it returns true for, as a
	// leader that removed them since would.
	skip func(seq uint64) bool
}

// catchup sends what the Catchup RPC does: the source's first message
// when it lies before first, then the messages in [first, last].
func (s *fileSource) catchup(ctx context.Context, first, last uint64, fn func(Message) error) error {
	s.calls = append(s.calls, [2]uint64{first, last})
	if st := s.store.State(); st.Msgs > 0 && st.FirstSeq < first {
		m, err := s.store.Get(st.FirstSeq)
		if err != nil {
			return err
		}
		if err := fn(m); err != nil {
			return err
		}
	}
	for seq := first; seq <= last; seq++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if s.skip != nil && s.skip(seq) {
			continue
		}
		m, err := s.store.Get(seq)
		if errors.Is(err, ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if err := fn(m); err != nil {
			return err
		}
	}
	return nil
}

func TestFSMSnapshotFileHeaderOnly(t *testing.T) {
	db := openTestDB(t, t.TempDir())
	c := testConfig(t, FileStorage)
	var sizes []int
	for i, n := range []int{10, 10_000} {
		f := newFSM(t, c, openStore(t, db, fmt.Sprintf("ORDERS-%d", i)), nil)
		l := newTestLog(t, f)
		for from := 0; from < n; from += 1000 {
			l.publish(t0, pubs(from, min(from+1000, n))...)
		}
		snap := snapshotOf(t, f)
		if len(snap) >= 2048 {
			t.Fatalf("snapshot of %d messages is %d bytes", n, len(snap))
		}
		sizes = append(sizes, len(snap))
		// The store is durable through the snapshot's index.
		if got := f.store.Applied(); got != uint64(len(l.entries)) {
			t.Fatalf("store applied %d after snapshot, want %d", got, len(l.entries))
		}
	}
	t.Logf("snapshot sizes: %v", sizes)
}

func TestFSMRestoreCatchup(t *testing.T) {
	db := openTestDB(t, t.TempDir())
	c := testConfig(t, FileStorage, func(c *Config) { c.MaxMsgs = 80 })
	src := newFSM(t, c, openStore(t, db, "src"), nil)
	l := newTestLog(t, src)
	for i := range 10 {
		l.publish(t0+int64(i), pubs(i*10, i*10+10)...) // 100 messages, 21..100 kept
	}
	snap := snapshotOf(t, src)
	source := &fileSource{store: src.store}

	t.Run("Empty", func(t *testing.T) {
		source.calls = nil
		dst := newFSM(t, testConfig(t, FileStorage), openStore(t, db, "empty"), source.catchup)
		if err := restore(dst, snap); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(source.calls, [][2]uint64{{21, 100}}) {
			t.Fatalf("catchup calls %v, want [21 100]", source.calls)
		}
		checkHolds(t, dst, src.store, 21, 100)
		if dst.Config().MaxMsgs != 80 || dst.store.Applied() != 10 {
			t.Fatalf("config %+v, applied %d", dst.Config(), dst.store.Applied())
		}
		// Entries through the snapshot are skipped, later ones apply.
		replay(dst, l.entries)
		checkHolds(t, dst, src.store, 21, 100)
	})

	for _, tc := range []struct {
		name    string
		applied int       // entries the replica applied before the install
		want    [2]uint64 // the range it must fetch
	}{
		{"Behind", 3, [2]uint64{31, 100}},    // it holds 1..30
		{"FarBehind", 1, [2]uint64{21, 100}}, // all it holds is below the snapshot's first
	} {
		t.Run(tc.name, func(t *testing.T) {
			source.calls = nil
			dst := newFSM(t, c, openStore(t, db, strings.ToLower(tc.name)), source.catchup)
			replay(dst, l.entries[:tc.applied])
			if err := restore(dst, snap); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(source.calls, [][2]uint64{tc.want}) {
				t.Fatalf("catchup calls %v, want %v", source.calls, tc.want)
			}
			checkHolds(t, dst, src.store, 21, 100)
		})
	}

	t.Run("Current", func(t *testing.T) {
		// A replica that holds everything needs nothing.
		source.calls = nil
		dst := newFSM(t, c, openStore(t, db, "current"), source.catchup)
		replay(dst, l.entries)
		if err := restore(dst, snap); err != nil {
			t.Fatal(err)
		}
		if len(source.calls) != 0 {
			t.Fatalf("catchup calls %v, want none", source.calls)
		}
		checkHolds(t, dst, src.store, 21, 100)
	})

	t.Run("NoSource", func(t *testing.T) {
		dst := newFSM(t, c, openStore(t, db, "nosource"), nil)
		if err := restore(dst, snap); err == nil {
			t.Fatal("restore without a catchup source succeeded")
		}
	})

	t.Run("SourceFails", func(t *testing.T) {
		fail := func(context.Context, uint64, uint64, func(Message) error) error { return io.ErrUnexpectedEOF }
		dst := newFSM(t, c, openStore(t, db, "fails"), fail)
		if err := restore(dst, snap); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("restore: %v", err)
		}
	})
}

// TestFSMRestoreCatchupSkips installs a snapshot from a leader that has
// since removed messages: the follower takes what the leader still has,
// and the entries after the snapshot bring it to the leader's state.
func TestFSMRestoreCatchupSkips(t *testing.T) {
	db := openTestDB(t, t.TempDir())
	c := testConfig(t, FileStorage, func(c *Config) { c.MaxMsgs = 80 })
	src := newFSM(t, c, openStore(t, db, "src"), nil)
	l := newTestLog(t, src)
	for i := range 10 {
		l.publish(t0+int64(i), pubs(i*10, i*10+10)...)
	}
	snap := snapshotOf(t, src) // 21..100
	at := len(l.entries)
	l.publish(t0+20, pubs(100, 120)...) // the leader now holds 41..120

	for _, tc := range []struct {
		name string
		skip func(uint64) bool
	}{
		{"Front", nil}, // the source's own trimming: 21..40 are gone
		{"Hole", func(seq uint64) bool { return seq >= 50 && seq < 60 }},
	} {
		name, skip := tc.name, tc.skip
		t.Run(name, func(t *testing.T) {
			source := &fileSource{store: src.store, skip: skip}
			dst := newFSM(t, testConfig(t, FileStorage), openStore(t, db, "dst-"+name), source.catchup)
			if err := restore(dst, snap); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(source.calls, [][2]uint64{{21, 100}}) {
				t.Fatalf("catchup calls %v", source.calls)
			}
			// What the source does not send is a hole (removed one by
			// one); the messages around it stay.
			checkHoldsBut(t, dst, src.store, 41, 100, skip)
			// The entries after the snapshot make it the leader's.
			replay(dst, l.entries[at:])
			if skip == nil && !sameState(dst.State(), src.State()) {
				t.Fatalf("follower %+v, leader %+v", dst.State(), src.State())
			}
			checkHoldsBut(t, dst, src.store, 41, 120, skip)
		})
	}
}

// TestFSMRestoreOwnSnapshot is a node's restart: raft restores the latest
// snapshot into an FSM whose store already holds entries after it, then
// replays those entries. They must be skipped, not applied again.
func TestFSMRestoreOwnSnapshot(t *testing.T) {
	dir := t.TempDir()
	db := openTestDB(t, dir)
	c := testConfig(t, FileStorage)
	f := newFSM(t, c, openStore(t, db, "ORDERS-1"), nil)
	l := newTestLog(t, f)
	l.publish(t0, pubs(0, 3)...)
	l.publish(t0, pubs(3, 5)...)
	snap := snapshotOf(t, f) // at index 2
	l.publish(t0, pubs(5, 7)...)
	l.purge()
	l.publish(t0, pubs(7, 8)...)
	want := f.State()

	f, _ = reopen(t, f, db, dir, "ORDERS-1", c)
	if err := restore(f, snap); err != nil {
		t.Fatal(err)
	}
	for i, res := range replay(f, l.entries[2:]) {
		if res != nil {
			t.Fatalf("replayed entry %d answered %v", i+3, res)
		}
	}
	if got := f.State(); got != want {
		t.Fatalf("state after restart %+v, want %+v", got, want)
	}
}

// TestFSMSnapshotDuringReplay takes a snapshot while a restarted node
// replays entries its store already holds: the snapshot must describe
// the store as it is, so a follower installing it skips those entries.
func TestFSMSnapshotDuringReplay(t *testing.T) {
	dir := t.TempDir()
	db := openTestDB(t, dir)
	c := testConfig(t, FileStorage)
	f := newFSM(t, c, openStore(t, db, "ORDERS-1"), nil)
	l := newTestLog(t, f)
	for i := range 5 {
		l.publish(t0, pubs(i*2, i*2+2)...)
	}
	want := f.State()
	f, db = reopen(t, f, db, dir, "ORDERS-1", c)
	replay(f, l.entries[:2]) // raft replays from an older snapshot
	snap := snapshotOf(t, f)

	source := &fileSource{store: f.store}
	dst := newFSM(t, c, openStore(t, db, "follower"), source.catchup)
	if err := restore(dst, snap); err != nil {
		t.Fatal(err)
	}
	replay(dst, l.entries[2:]) // what the leader sends after the snapshot
	if got := dst.State(); !sameState(got, want) {
		t.Fatalf("follower %+v, want %+v", got, want)
	}
}

// TestFSMRemoveMsgs: messages removed one by one leave holes the other
// sequences keep around; their ids are forgotten; limits and expiry count
// only the messages still held and walk over holes.
func TestFSMRemoveMsgs(t *testing.T) {
	base := time.Now().UnixNano()
	c := testConfig(t, MemoryStorage, func(c *Config) { c.MaxMsgs = 5; c.MaxAge = time.Hour })
	f := newFSM(t, c, NewMemStore(), nil)
	l := newTestLog(t, f)
	l.publish(base, pub(0, "a"), pub(1, "b"), pub(2, "c"), pub(3, "d"), pub(4, "e"))
	if res := l.apply(encodeRemoveMsgs([]uint64{2, 4})); res != nil {
		t.Fatalf("remove entry answered %#v", res)
	}
	if st := f.State(); st.Msgs != 3 || st.FirstSeq != 1 || st.LastSeq != 5 || st.Deleted != 2 {
		t.Fatalf("state after removing 2 and 4: %+v", st)
	}
	if _, err := f.Get(2); !errors.Is(err, ErrMsgNotFound) {
		t.Fatalf("get 2: %v", err)
	}
	// The id of a removed message is forgotten; the others are not.
	wantSeqs(t, l.publish(base, pub(1, "b")), 6)
	if res := l.publish(base, pub(2, "c")); !res[0].Duplicate || res[0].Seq != 3 {
		t.Fatalf("publish of c again: %+v, want a duplicate of 3", res[0])
	}
	// Six held (1 3 5 6 and now 7 8): max_msgs 5 removes only 1.
	wantSeqs(t, l.publish(base+int64(time.Minute), pubs(7, 9)...), 7, 8)
	if st := f.State(); st.Msgs != 5 || st.FirstSeq != 3 {
		t.Fatalf("state after max_msgs over a hole: %+v", st)
	}
	// Expiry walks over the hole at 4 to the first young message, 7.
	l.expire(base + int64(time.Hour+time.Second))
	if st := f.State(); st.Msgs != 2 || st.FirstSeq != 7 {
		t.Fatalf("state after expiry over a hole: %+v", st)
	}
	for _, bad := range [][]byte{
		{opRemoveMsgs, 2, 5, 0},         // out of order (a zero step)
		{opRemoveMsgs, 2, 5},            // truncated
		{opRemoveMsgs, 1, 5, 9},         // trailing bytes
		{opRemoveMsgs, 0xff, 0xff, 0x1}, // too many
	} {
		if _, err := decodeRemoveMsgs(bad[1:]); !errors.Is(err, errBadEntry) {
			t.Errorf("decode %v: %v, want errBadEntry", bad, err)
		}
	}
}

// TestFSMRestoreCatchupNothingToFetch: a replica that holds every message
// of a snapshot but not its last entries (a config change after them)
// fetches nothing and keeps its messages.
func TestFSMRestoreCatchupNothingToFetch(t *testing.T) {
	db := openTestDB(t, t.TempDir())
	c := testConfig(t, FileStorage)
	src := newFSM(t, c, openStore(t, db, "src"), nil)
	l := newTestLog(t, src)
	l.publish(t0, pubs(0, 10)...)
	c2 := c
	c2.MaxMsgs = 50
	l.config(c2)
	snap := snapshotOf(t, src)
	source := &fileSource{store: src.store}
	dst := newFSM(t, c, openStore(t, db, "dst"), source.catchup)
	replay(dst, l.entries[:1])
	if err := restore(dst, snap); err != nil {
		t.Fatal(err)
	}
	if len(source.calls) != 0 {
		t.Fatalf("catchup calls %v, want none", source.calls)
	}
	checkHolds(t, dst, src.store, 1, 10)
}

func TestQualifiedNames(t *testing.T) {
	if got := Qualify("APP", "ORDERS"); got != "APP.ORDERS" {
		t.Fatalf("Qualify = %q", got)
	}
	if got := Qualify("", "ORDERS"); got != "ORDERS" {
		t.Fatalf("Qualify without an account = %q", got)
	}
	if a, n := SplitName("APP.ORDERS"); a != "APP" || n != "ORDERS" {
		t.Fatalf("SplitName = %q, %q", a, n)
	}
	if a, n := SplitName("ORDERS"); a != "" || n != "ORDERS" {
		t.Fatalf("SplitName of a plain name = %q, %q", a, n)
	}
	for _, c := range []struct{ account, stored, want string }{
		{"APP", "APP.ORDERS", "ORDERS"},
		{"APP", "ORDERS", "ORDERS"},
		{"APP", "OTHER.ORDERS", "OTHER.ORDERS"},
		{"", "APP.ORDERS", "APP.ORDERS"},
	} {
		if got := Unqualify(c.account, c.stored); got != c.want {
			t.Errorf("Unqualify(%q, %q) = %q, want %q", c.account, c.stored, got, c.want)
		}
	}
}

func TestFSMCommandIndex(t *testing.T) {
	dir := t.TempDir()
	db := openTestDB(t, dir)
	c := testConfig(t, FileStorage)
	f := newFSM(t, c, openStore(t, db, "ORDERS-1"), nil)
	if got := f.CommandIndex(); got != 0 {
		t.Fatalf("empty store: command index %d", got)
	}
	l := newTestLog(t, f)
	l.publish(t0, pubs(0, 3)...)
	l.purge()
	if got := f.CommandIndex(); got != 2 {
		t.Fatalf("after two entries: command index %d, want 2", got)
	}
	// Entries that do not reach the store still count once Apply is done.
	f.Apply(&raft.Log{Index: 3, Type: raft.LogCommand})
	f.Apply(&raft.Log{Index: 4, Type: raft.LogCommand, Data: []byte{0xff}})
	if got := f.CommandIndex(); got != 4 {
		t.Fatalf("after an empty and a bad entry: command index %d, want 4", got)
	}
	f.Apply(&raft.Log{Index: 5, Type: raft.LogNoop})
	if got := f.CommandIndex(); got != 4 {
		t.Fatalf("a no-op moved the command index to %d", got)
	}
	// A reopened FSM starts from what its store holds, and replayed
	// entries it skips count too.
	f, _ = reopen(t, f, db, dir, "ORDERS-1", c)
	if got, want := f.CommandIndex(), f.StoreApplied(); got != want {
		t.Fatalf("reopened: command index %d, store applied %d", got, want)
	}
	replay(f, l.entries[:1])
	if got := f.CommandIndex(); got != 1 {
		t.Fatalf("after replaying entry 1: command index %d", got)
	}
}
