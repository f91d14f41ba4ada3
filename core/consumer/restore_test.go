package consumer

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/core/raftgroup"
)

// backedUp is a consumer's state as a backup holds it: 60 delivered
// (some twice), 30 and 10 more acked, 20 pending from an old clock.
func backedUp() State {
	st := State{
		Started: true, Delivered: SeqPair{Consumer: 65, Stream: 60}, AckFloor: SeqPair{Consumer: 30, Stream: 30},
		Pending: map[uint64]Pending{}, Redelivered: 5, AcksIgnored: 2,
	}
	for seq := uint64(31); seq <= 60; seq++ {
		if seq%3 != 0 { // 31, 32, 34, 35, ... pending; 33, 36, ... acked
			st.Pending[seq] = Pending{Consumer: seq, Time: 5, Deadline: 6, Count: 1 + seq%2}
		}
	}
	return st
}

func mustRestore(t *testing.T, now int64, st State) []byte {
	t.Helper()
	data, err := encodeRestore(now, st)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestFSMRestoreEntry: an opRestore replaces a consumer's state that is
// not started, with every pending message due an ack wait after the
// entry's time, counts kept; a started consumer ignores it.
func TestFSMRestoreEntry(t *testing.T) {
	cfg := finished(func(c *Config) { c.AckWait = 10 * time.Second })
	l := newFSMLog(t, cfg)
	in := backedUp()
	l.noError(l.apply(mustRestore(t, t0, in)))
	st := l.f.State()
	if !st.Started || st.Delivered != in.Delivered || st.AckFloor != in.AckFloor || st.Redelivered != 5 || len(st.Pending) != 20 {
		t.Fatalf("restored state %+v", st)
	}
	for seq, p := range st.Pending {
		if want := in.Pending[seq]; p.Count != want.Count || p.Consumer != want.Consumer || p.Time != t0 || p.Deadline != t0+10*sec {
			t.Fatalf("pending %d: %+v, backed up %+v", seq, p, want)
		}
	}
	// Pending messages wait for their ack wait; new ones go at once.
	if got := seqsOf(l.deliver(t0+sec, 31, 61)); !slices.Equal(got, []uint64{61}) {
		t.Fatalf("deliveries before the ack wait %v", got)
	}
	if got := l.deliver(t0+10*sec, 31, 33); len(got) != 1 || got[0].Seq != 31 || got[0].Count != 3 {
		t.Fatalf("deliveries after the ack wait %+v", got)
	}
	// Started: another restore, or a start, changes nothing.
	before := l.f.State()
	l.noError(l.apply(mustRestore(t, t0, State{Started: true, Pending: map[uint64]Pending{}})))
	l.start(0)
	if !reflect.DeepEqual(l.f.State(), before) {
		t.Fatalf("a started consumer took a restore: %+v", l.f.State())
	}
	// Bad restore entries are refused.
	for name, data := range map[string][]byte{
		"truncated time": {opRestore, 1, 2},
		"not json":       append(mustRestore(t, t0, in)[:9], '{'),
	} {
		f := newFSMLog(t, cfg)
		if err, ok := f.apply(data).(error); !ok || !errors.Is(err, ErrBadEntry) || f.f.State().Started {
			t.Fatalf("%s: answered %v, state %+v", name, err, f.f.State())
		}
	}
}

func TestStateClampAndCheck(t *testing.T) {
	in := backedUp()
	in.Initial = []uint64{20, 50}
	in.AckFloor = SeqPair{Consumer: 19, Stream: 19}
	got := in.Clamp(45)
	if got.Delivered != (SeqPair{Consumer: 65, Stream: 45}) || got.AckFloor.Stream != 19 || !slices.Equal(got.Initial, []uint64{20}) {
		t.Fatalf("clamped %+v", got)
	}
	for seq := range got.Pending {
		if seq > 45 {
			t.Fatalf("clamped state keeps pending %d", seq)
		}
	}
	if len(in.Pending) != 20 || len(in.Initial) != 2 {
		t.Fatalf("Clamp changed its receiver: %+v", in)
	}
	if err := got.CheckRestore(45); err != nil {
		t.Fatalf("clamped state refused: %v", err)
	}
	if got := backedUp().Clamp(10); got.Delivered.Stream != 10 || got.AckFloor.Stream != 10 || len(got.Pending) != 0 {
		t.Fatalf("clamped below the ack floor %+v", got)
	}
	bad := map[string]func(*State){
		"not started":       func(s *State) { s.Started = false },
		"ahead":             func(s *State) { s.Delivered.Stream = 101 },
		"floor ahead":       func(s *State) { s.AckFloor.Stream = 61 },
		"pending ahead":     func(s *State) { s.Pending[70] = Pending{Consumer: 1, Count: 1} },
		"pending zero":      func(s *State) { s.Pending[0] = Pending{Consumer: 1, Count: 1} },
		"never delivered":   func(s *State) { s.Pending[31] = Pending{Consumer: 31} },
		"initial unordered": func(s *State) { s.Initial = []uint64{5, 5} },
	}
	for name, edit := range bad {
		st := backedUp()
		edit(&st)
		if err := st.CheckRestore(100); !errors.Is(err, ErrBadState) {
			t.Fatalf("%s: CheckRestore = %v", name, err)
		}
	}
}

// newRestoredGroup is a one-node group whose Leader restores st.
func newRestoredGroup(t *testing.T, cfg Config, st State) *testGroup {
	t.Helper()
	g := &testGroup{t: t, src: newTestSource()}
	g.c = raftgroup.NewCluster(t, raftgroup.ClusterConfig{
		Nodes: 1, Groups: []string{group}, LogLevel: hclog.Warn,
		NewFSM: func() raft.FSM { return NewFSM(cfg, nil) },
	})
	g.leaders = []*Leader{NewLeader(LeaderConfig{Raft: g.c.Group(0, group).Raft(), FSM: g.fsm(0), Source: g.src, Restore: &st})}
	t.Cleanup(g.leaders[0].Close)
	return g
}

// TestLeaderRestore: a restored consumer waits for its stream replica to
// hold what it delivered, then goes on after it: acked messages never
// come again, pending ones after their ack wait, new ones at once.
func TestLeaderRestore(t *testing.T) {
	g := newRestoredGroup(t, finished(func(c *Config) { c.AckWait = 50 * time.Millisecond }), backedUp())
	_, l := g.leader()
	g.src.publishN(t, "ORDERS.new", 50) // behind the state's 60
	if ds := mustFetch(t, l, FetchRequest{Batch: 10, NoWait: true}); len(ds) != 0 || g.fsm(0).State().Started {
		t.Fatalf("delivered %v before the stream caught up", streamSeqs(ds))
	}
	g.src.publishN(t, "ORDERS.new", 50)
	waitFor(t, "the restored start", func() bool { return g.fsm(0).State().Started })
	if got := streamSeqs(mustFetch(t, l, FetchRequest{Batch: 100, NoWait: true})); !slices.Equal(got, seqRange(61, 100)) {
		t.Fatalf("first fetch after the restore %v", got)
	}
	mustAck(t, l, acksOf(seqRange(61, 100)...)...)
	var pending []uint64
	for seq := range backedUp().Pending {
		pending = append(pending, seq)
	}
	slices.Sort(pending)
	var got []uint64
	for len(got) < len(pending) {
		for _, d := range mustFetch(t, l, FetchRequest{Batch: len(pending) - len(got), Expires: time.Minute}) {
			if want := backedUp().Pending[d.Msg.Seq].Count + 1; d.Count != want {
				t.Fatalf("redelivery of %d is delivery %d, want %d", d.Msg.Seq, d.Count, want)
			}
			got = append(got, d.Msg.Seq)
			mustAck(t, l, Ack{Seq: d.Msg.Seq})
		}
	}
	if slices.Sort(got); !slices.Equal(got, pending) {
		t.Fatalf("redelivered %v, want the pending %v", got, pending)
	}
	if info := g.fsm(0).Info(g.src); info.AckPending != 0 || info.Unprocessed != 0 || info.AckFloor.Stream != 100 {
		t.Fatalf("info after draining %+v", info)
	}
}
