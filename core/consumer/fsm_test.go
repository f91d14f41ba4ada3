package consumer

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

const sec = int64(time.Second)

func TestFSMAckPolicies(t *testing.T) {
	cases := []struct {
		policy AckPolicy
		// after delivering 1..5, then acking 3, then acking 1:
		pending3, pending1 []uint64
		floor3, floor1     uint64
		ignored            uint64
		processed          []uint64 // by both acks
	}{
		{AckExplicit, []uint64{1, 2, 4, 5}, []uint64{2, 4, 5}, 0, 1, 0, []uint64{3, 1}},
		{AckAll, []uint64{4, 5}, []uint64{4, 5}, 3, 3, 1, []uint64{1, 2, 3}},
		{AckNone, nil, nil, 5, 5, 2, nil},
	}
	for _, tc := range cases {
		t.Run(string(tc.policy), func(t *testing.T) {
			l := newFSMLog(t, finished(func(c *Config) { c.AckPolicy = tc.policy }))
			l.start(0)
			if got := seqsOf(l.deliver(t0, 1, 2, 3, 4, 5)); !slices.Equal(got, []uint64{1, 2, 3, 4, 5}) {
				t.Fatalf("accepted %v", got)
			}
			r3 := l.acks(t0+1, 3)
			st := l.f.State()
			if got := pendingSeqs(st); !slices.Equal(got, tc.pending3) || st.AckFloor.Stream != tc.floor3 {
				t.Fatalf("after ack 3: pending %v floor %+v", got, st.AckFloor)
			}
			r1 := l.acks(t0+2, 1)
			st = l.f.State()
			if got := pendingSeqs(st); !slices.Equal(got, tc.pending1) || st.AckFloor.Stream != tc.floor1 {
				t.Fatalf("after ack 1: pending %v floor %+v", got, st.AckFloor)
			}
			if st.AcksIgnored != tc.ignored {
				t.Fatalf("acks ignored %d, want %d", st.AcksIgnored, tc.ignored)
			}
			if got := append(r3.processed, r1.processed...); !slices.Equal(got, tc.processed) {
				t.Fatalf("processed %v, want %v", got, tc.processed)
			}
			if st.Delivered != (SeqPair{Consumer: 5, Stream: 5}) {
				t.Fatalf("delivered %+v", st.Delivered)
			}
		})
	}
}

func TestFSMRedelivery(t *testing.T) {
	backoff := []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second}
	cases := []struct {
		name    string
		backoff []time.Duration
		waits   []int64 // ack wait of deliveries 1, 2, 3, 4 in seconds
	}{
		{"ack wait", nil, []int64{30, 30, 30, 30}},
		{"backoff", backoff, []int64{10, 20, 40, 40}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := newFSMLog(t, finished(func(c *Config) { c.Backoff = tc.backoff }))
			l.start(0)
			now := t0
			l.deliver(now, 1)
			for n, wait := range tc.waits {
				p := l.f.State().Pending[1]
				if p.Count != uint64(n+1) || p.Deadline != now+wait*sec || p.Time != now {
					t.Fatalf("delivery %d: pending %+v, want deadline %d s after", n+1, p, wait)
				}
				if got := l.deliver(p.Deadline-1, 1); len(got) != 0 {
					t.Fatalf("redelivered before the deadline: %v", got)
				}
				now = p.Deadline
				got := l.deliver(now, 1)
				if len(got) != 1 || got[0].Count != uint64(n+2) || got[0].Consumer != uint64(n+2) {
					t.Fatalf("redelivery at the deadline: %+v", got)
				}
			}
			st := l.f.State()
			if st.Redelivered != uint64(len(tc.waits)) || st.Delivered.Stream != 1 || st.AckFloor.Stream != 0 {
				t.Fatalf("state %+v", st)
			}
		})
	}
}

func TestFSMAckKinds(t *testing.T) {
	cases := []struct {
		name     string
		ack      Ack
		pending  bool
		deadline int64 // of seq 1 after the ack, taken at t0+5s
	}{
		{"nak now", Ack{Seq: 1, Kind: AckNak}, true, t0 + 5*sec},
		{"nak with delay", Ack{Seq: 1, Kind: AckNak, Delay: 2 * time.Second}, true, t0 + 7*sec},
		{"progress", Ack{Seq: 1, Kind: AckProgress}, true, t0 + 35*sec},
		{"term", Ack{Seq: 1, Kind: AckTerm}, false, 0},
		{"ack", Ack{Seq: 1}, false, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := newFSMLog(t, finished())
			l.start(0)
			l.deliver(t0, 1, 2)
			res := l.ack(t0+5*sec, tc.ack)
			if !slices.Equal(res.applied, []bool{true}) {
				t.Fatalf("applied %v", res.applied)
			}
			p, ok := l.f.State().Pending[1]
			if ok != tc.pending || (ok && p.Deadline != tc.deadline) {
				t.Fatalf("pending %v %+v, want %v with deadline %d", ok, p, tc.pending, tc.deadline)
			}
			if !tc.pending && l.f.State().AckFloor.Stream != 1 {
				t.Fatalf("floor %+v after processing 1", l.f.State().AckFloor)
			}
			if tc.pending {
				// Due at its deadline, not before.
				if got := l.deliver(tc.deadline-1, 1); len(got) != 0 {
					t.Fatalf("redelivered before the deadline: %v", got)
				}
				if got := l.deliver(tc.deadline, 1); len(got) != 1 || got[0].Count != 2 {
					t.Fatalf("not redelivered at the deadline: %v", got)
				}
			}
		})
	}
}

func TestFSMMaxDeliver(t *testing.T) {
	l := newFSMLog(t, finished(func(c *Config) { c.MaxDeliver = 2; c.AckWait = time.Second }))
	l.start(0)
	l.deliver(t0, 1, 2)
	if got := seqsOf(l.deliver(t0+sec, 1, 2)); !slices.Equal(got, []uint64{1, 2}) {
		t.Fatalf("second deliveries %v", got)
	}
	if got := l.deliver(t0+5*sec, 1, 2); len(got) != 0 {
		t.Fatalf("delivered past max deliver: %v", got)
	}
	l.deliver(t0+5*sec, 3) // delivered once: not droppable
	res := l.drop(dropMaxDeliver, 1, 3)
	st := l.f.State()
	if !slices.Equal(res.processed, []uint64{1}) || st.MaxDelivered != 1 || !slices.Equal(pendingSeqs(st), []uint64{2, 3}) {
		t.Fatalf("drop: processed %v, state %+v", res.processed, st)
	}
	if st.AckFloor.Stream != 1 {
		t.Fatalf("floor %+v, want 1", st.AckFloor)
	}
	// A raised max deliver allows the redelivery again.
	cfg := l.f.Config()
	cfg.MaxDeliver = 3
	l.noError(l.apply(mustConfig(t, cfg)))
	if got := l.deliver(t0+10*sec, 2); len(got) != 1 || got[0].Count != 3 {
		t.Fatalf("after raising max deliver: %v", got)
	}
}

func mustConfig(t testing.TB, c Config) []byte {
	t.Helper()
	data, err := encodeConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestFSMMaxAckPending(t *testing.T) {
	l := newFSMLog(t, finished(func(c *Config) { c.MaxAckPending = 2; c.AckWait = time.Second }))
	l.start(0)
	if got := seqsOf(l.deliver(t0, 1, 2, 3)); !slices.Equal(got, []uint64{1, 2}) {
		t.Fatalf("accepted %v, want 1 2", got)
	}
	if got := l.deliver(t0, 3); len(got) != 0 {
		t.Fatalf("accepted %v while full", got)
	}
	// Redeliveries are of pending messages: they need no room.
	if got := seqsOf(l.deliver(t0+sec, 1)); !slices.Equal(got, []uint64{1}) {
		t.Fatalf("redelivery refused while full: %v", got)
	}
	l.acks(t0+sec, 2)
	if got := seqsOf(l.deliver(t0+sec, 3, 4)); !slices.Equal(got, []uint64{3}) {
		t.Fatalf("after an ack: accepted %v, want 3", got)
	}
	if n := len(l.f.State().Pending); n != 2 {
		t.Fatalf("%d pending", n)
	}
}

func TestFSMDeliverOrder(t *testing.T) {
	cases := []struct {
		name     string
		initial  []uint64
		seqs     []uint64
		accepted []uint64
	}{
		{"ascending", nil, []uint64{3, 5, 9}, []uint64{3, 5, 9}},
		{"before delivered", nil, []uint64{5, 4, 5, 6}, []uint64{5, 6}},
		{"at the start position", nil, []uint64{2, 3}, []uint64{3}},
		{"initial in order", []uint64{1, 2}, []uint64{1, 2, 11}, []uint64{1, 2, 11}},
		{"initial out of order", []uint64{1, 2}, []uint64{2, 1, 2}, []uint64{1, 2}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := newFSMLog(t, finished())
			after := uint64(2)
			if tc.initial != nil {
				after = 10
			}
			l.start(after, tc.initial...)
			if got := seqsOf(l.deliver(t0, tc.seqs...)); !slices.Equal(got, tc.accepted) {
				t.Fatalf("accepted %v, want %v", got, tc.accepted)
			}
		})
	}
}

func TestFSMNotStarted(t *testing.T) {
	l := newFSMLog(t, finished())
	if got := l.deliver(t0, 1); len(got) != 0 {
		t.Fatalf("delivered before the start: %v", got)
	}
	l.skip(5)
	l.start(3)
	l.start(7) // a second start changes nothing
	if st := l.f.State(); !st.Started || st.Delivered.Stream != 3 || st.AckFloor.Stream != 3 {
		t.Fatalf("state %+v", st)
	}
}

func TestFSMAckUnknown(t *testing.T) {
	l := newFSMLog(t, finished())
	l.start(0)
	l.deliver(t0, 1, 2, 3)
	res := l.ack(t0, Ack{Seq: 9}, Ack{Seq: 3}, Ack{Seq: 3}, Ack{Seq: 2, Kind: AckNak})
	if !slices.Equal(res.applied, []bool{false, true, false, true}) {
		t.Fatalf("applied %v", res.applied)
	}
	st := l.f.State()
	if st.AcksIgnored != 2 || st.AckFloor.Stream != 0 || !slices.Equal(pendingSeqs(st), []uint64{1, 2}) {
		t.Fatalf("state %+v", st)
	}
	l.acks(t0, 1)
	if st := l.f.State(); st.AckFloor != (SeqPair{Consumer: 1, Stream: 1}) {
		t.Fatalf("floor %+v, want 1/1 (2 is unacked)", st.AckFloor)
	}
	l.acks(t0, 2)
	if st := l.f.State(); st.AckFloor != (SeqPair{Consumer: 3, Stream: 3}) {
		t.Fatalf("floor %+v, want delivered", st.AckFloor)
	}
}

func TestFSMSkip(t *testing.T) {
	cases := []struct {
		name      string
		through   uint64
		pending   []uint64
		delivered uint64
		floor     uint64
		initial   []uint64
	}{
		{"inside pending", 3, []uint64{4, 5}, 10, 3, []uint64{7, 9}},
		{"inside initial", 8, nil, 10, 8, []uint64{9}},
		{"past everything", 20, nil, 20, 20, nil},
		{"below the floor", 0, []uint64{1, 3, 4, 5}, 10, 0, []uint64{7, 9}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := newFSMLog(t, finished())
			l.start(10, 1, 3, 4, 5, 7, 9)
			l.deliver(t0, 1, 3, 4, 5)
			l.skip(tc.through)
			st := l.f.State()
			if got := pendingSeqs(st); !slices.Equal(got, tc.pending) {
				t.Fatalf("pending %v, want %v", got, tc.pending)
			}
			if st.Delivered.Stream != tc.delivered || st.AckFloor.Stream != tc.floor || !slices.Equal(st.Initial, tc.initial) {
				t.Fatalf("state %+v", st)
			}
		})
	}
}

func TestFSMDropRemoved(t *testing.T) {
	l := newFSMLog(t, finished())
	l.start(10, 2, 6)
	l.deliver(t0, 2)
	res := l.drop(dropRemoved, 2, 6, 8)
	st := l.f.State()
	if len(res.processed) != 0 || len(st.Pending) != 0 || len(st.Initial) != 0 || st.AckFloor.Stream != 10 || st.MaxDelivered != 0 {
		t.Fatalf("drop: %v, state %+v", res.processed, st)
	}
}

func TestFSMLastPerSubjectFloor(t *testing.T) {
	l := newFSMLog(t, finished(func(c *Config) { c.DeliverPolicy = DeliverLastPerSubject }))
	l.start(10, 4, 8)
	if st := l.f.State(); st.AckFloor.Stream != 3 || st.Delivered.Stream != 10 {
		t.Fatalf("start: %+v", st)
	}
	l.deliver(t0, 4, 8)
	l.acks(t0, 4)
	if st := l.f.State(); st.AckFloor.Stream != 7 {
		t.Fatalf("floor %+v, want 7", st.AckFloor)
	}
	l.acks(t0, 8)
	if st := l.f.State(); st.AckFloor != (SeqPair{Consumer: 2, Stream: 10}) {
		t.Fatalf("floor %+v, want delivered", st.AckFloor)
	}
}

func TestFSMConfigEntry(t *testing.T) {
	cases := []struct {
		name string
		edit func(*Config)
		ok   bool
	}{
		{"ack wait", func(c *Config) { c.AckWait = time.Minute }, true},
		{"max ack pending", func(c *Config) { c.MaxAckPending = 5 }, true},
		{"ack policy", func(c *Config) { c.AckPolicy = AckAll }, false},
		{"filters", func(c *Config) { c.FilterSubjects = []string{"ORDERS.x"} }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := newFSMLog(t, finished())
			next := finished(tc.edit)
			res := l.apply(mustConfig(t, next))
			err, _ := res.(error)
			if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrBadConfig)) {
				t.Fatalf("answered %v", res)
			}
			if got := l.f.Config(); got.Equal(next) != tc.ok {
				t.Fatalf("config after the entry %+v", got)
			}
		})
	}
}

func TestFSMBadEntries(t *testing.T) {
	cases := []struct {
		name string
		data []byte
	}{
		{"unknown op", []byte{99}},
		{"start without sequence", []byte{opStart}},
		{"deliver without time", []byte{opDeliver, 1, 2}},
		{"deliver count past the end", append(encodeDeliver(t0, nil)[:9], 200, 1)},
		{"deliver with trailing bytes", append(encodeDeliver(t0, []uint64{1}), 7)},
		{"ack truncated", encodeAck(t0, []Ack{{Seq: 1, Delay: time.Hour}})[:12]},
		{"skip truncated", []byte{opSkip, 0x80}},
		{"drop without reason", []byte{opDrop}},
		{"drop with unknown reason", encodeDrop(9, []uint64{1})},
		{"config not json", []byte{opConfig, '{'}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := newFSMLog(t, finished())
			l.start(0)
			before := l.f.State()
			res := l.apply(tc.data)
			if err, ok := res.(error); !ok || (!errors.Is(err, ErrBadEntry) && !errors.Is(err, ErrBadConfig)) {
				t.Fatalf("answered %#v, want a bad entry error", res)
			}
			if !reflect.DeepEqual(l.f.State(), before) {
				t.Fatalf("state changed: %+v", l.f.State())
			}
		})
	}
	// No prefix of a valid entry panics.
	valid := [][]byte{
		encodeStart(startEntry{startSeq: 300, initial: []uint64{1, 200}}), encodeDeliver(t0, []uint64{1, 2, 1 << 40}),
		encodeAck(t0, []Ack{{Seq: 1, Kind: AckNak, Delay: time.Hour}, {Seq: 2}}), encodeSkip(1 << 33),
		encodeDrop(dropRemoved, []uint64{5, 6}), mustConfig(t, finished()),
	}
	for _, e := range valid {
		for n := 1; n < len(e); n++ {
			l := newFSMLog(t, finished())
			l.start(0)
			l.apply(e[:n])
		}
	}
	// Entries that are not commands are not the FSM's.
	l := newFSMLog(t, finished())
	if res := l.f.Apply(&raft.Log{Index: 1, Type: raft.LogNoop}); res != nil {
		t.Fatalf("noop answered %v", res)
	}
}

func TestEntryCodec(t *testing.T) {
	start := startEntry{startSeq: 1 << 40, initial: []uint64{1, 300, 1 << 40}}
	if got, err := decodeStart(encodeStart(start)[1:]); err != nil || !reflect.DeepEqual(got, start) {
		t.Fatalf("start: %+v %v", got, err)
	}
	seqs := []uint64{1, 2, 1 << 50}
	if now, got, err := decodeDeliver(encodeDeliver(-5, seqs)[1:]); err != nil || now != -5 || !slices.Equal(got, seqs) {
		t.Fatalf("deliver: %d %v %v", now, got, err)
	}
	acks := []Ack{{Seq: 1}, {Seq: 2, Kind: AckNak, Delay: time.Hour}, {Seq: 3, Kind: AckProgress}, {Seq: 1 << 60, Kind: AckTerm}}
	if now, got, err := decodeAck(encodeAck(t0, acks)[1:]); err != nil || now != t0 || !slices.Equal(got, acks) {
		t.Fatalf("ack: %d %v %v", now, got, err)
	}
	if got, err := decodeSkip(encodeSkip(77)[1:]); err != nil || got != 77 {
		t.Fatalf("skip: %d %v", got, err)
	}
	if r, got, err := decodeDrop(encodeDrop(dropMaxDeliver, seqs)[1:]); err != nil || r != dropMaxDeliver || !slices.Equal(got, seqs) {
		t.Fatalf("drop: %d %v %v", r, got, err)
	}
	cfg := finished(func(c *Config) { c.Backoff = []time.Duration{time.Second}; c.FilterSubjects = []string{"ORDERS.x"} })
	if got, err := decodeConfig(mustConfig(t, cfg)[1:]); err != nil || !got.Equal(cfg) {
		t.Fatalf("config: %+v %v", got, err)
	}
}

func TestFSMSnapshotRestore(t *testing.T) {
	cfg := finished(func(c *Config) { c.AckWait = time.Second; c.MaxDeliver = 3; c.DeliverPolicy = DeliverLastPerSubject })
	src := newFSMLog(t, cfg)
	src.start(20, 3, 7, 9)
	src.deliver(t0, 3, 7, 21, 22, 23)
	src.acks(t0, 21, 99)
	src.deliver(t0+sec, 3)
	src.ack(t0+sec, Ack{Seq: 22, Kind: AckNak, Delay: time.Minute})
	snap := snapshotOf(t, src.f)

	dst := NewFSM(finished(), nil)
	if err := restoreFrom(dst, snap); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(dst.State(), src.f.State()) || !dst.Config().Equal(cfg) {
		t.Fatalf("restored %+v %+v, source %+v", dst.Config(), dst.State(), src.f.State())
	}
	// The same entries after the snapshot answer the same on both.
	dl := &fsmLog{t: t, f: dst}
	for _, l := range []*fsmLog{src, dl} {
		l.deliver(t0+2*sec, 3, 7, 9, 24)
		l.acks(t0+2*sec, 9, 7)
		l.skip(4)
	}
	if !reflect.DeepEqual(dst.State(), src.f.State()) {
		t.Fatalf("after the same entries: %+v, source %+v", dst.State(), src.f.State())
	}
	// A restore replaces the state whole: an empty snapshot empties it.
	if err := restoreFrom(dst, snapshotOf(t, NewFSM(cfg, nil))); err != nil {
		t.Fatal(err)
	}
	if st := dst.State(); st.Started || len(st.Pending) != 0 || st.Pending == nil {
		t.Fatalf("after restoring an empty snapshot: %+v", st)
	}
	if err := restoreFrom(dst, []byte("not json")); err == nil {
		t.Fatal("a bad snapshot restored")
	}
}

func TestFSMChanged(t *testing.T) {
	l := newFSMLog(t, finished())
	ch := l.f.Changed()
	select {
	case <-ch:
		t.Fatal("closed before an entry")
	default:
	}
	l.start(0)
	select {
	case <-ch:
	default:
		t.Fatal("not closed after an entry")
	}
	if next := l.f.Changed(); next == ch {
		t.Fatal("the same channel after a change")
	}
}

func TestFSMStateIsACopy(t *testing.T) {
	l := newFSMLog(t, finished())
	l.start(10, 1, 2)
	l.deliver(t0, 1)
	st := l.f.State()
	st.Pending[1] = Pending{Count: 99}
	st.Initial[0] = 99
	if got := l.f.State(); got.Pending[1].Count != 1 || got.Initial[0] != 2 {
		t.Fatalf("State shares memory with the FSM: %+v", got)
	}
}
