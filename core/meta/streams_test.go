package meta

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"

	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/core/stream"
)

func testStream(name, group string, subjects ...string) Stream {
	c := stream.Config{Name: name, Subjects: subjects, Tags: []string{"t"}}
	c.Finish()
	return Stream{Config: c, Peers: []string{"n1", "n2", "n3"}, Group: group, Bootstrap: []string{"n1", "n2", "n3"}, Created: 42}
}

// applyStream applies a stream command and returns its error.
func applyStream(t *testing.T, f *FSM, index uint64, data []byte, err error) error {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	res := apply(t, f, index, data)
	if res == nil {
		return nil
	}
	e, ok := res.(error)
	if !ok {
		t.Fatalf("apply answered %#v", res)
	}
	return e
}

func createStream(t *testing.T, f *FSM, index uint64, s Stream) error {
	t.Helper()
	data, err := CreateStream(s)
	return applyStream(t, f, index, data, err)
}

func updateStream(t *testing.T, f *FSM, index uint64, s Stream) error {
	t.Helper()
	data, err := UpdateStream(s)
	return applyStream(t, f, index, data, err)
}

func deleteStream(t *testing.T, f *FSM, index uint64, name string) error {
	t.Helper()
	data, err := DeleteStream(name)
	return applyStream(t, f, index, data, err)
}

func TestStreamCommands(t *testing.T) {
	f := NewFSM()
	orders := testStream("ORDERS", "ORDERS-1", "orders.*", "orders.eu.>")
	if err := createStream(t, f, 1, orders); err != nil {
		t.Fatal(err)
	}
	if err := createStream(t, f, 2, testStream("SHIP", "SHIP-2", "ship.>")); err != nil {
		t.Fatal(err)
	}
	got, ok := f.Stream("ORDERS")
	if !ok || !reflect.DeepEqual(got, orders) {
		t.Fatalf("Stream(ORDERS) = %+v, %v; want %+v", got, ok, orders)
	}
	if all := f.Streams(); len(all) != 2 || all[0].Config.Name != "ORDERS" || all[1].Config.Name != "SHIP" {
		t.Fatalf("Streams() = %+v", all)
	}
	// What the FSM hands out is a copy.
	got.Peers[0], got.Config.Subjects[0], got.Config.Tags[0], got.Bootstrap[0] = "x", "x", "x", "x"
	all := f.Streams()
	all[0].Peers[1] = "y"
	if again, _ := f.Stream("ORDERS"); !reflect.DeepEqual(again, orders) {
		t.Fatalf("callers changed the recorded stream: %+v", again)
	}

	// Update: new limits, peers and its own subjects (even overlapping
	// the ones it had).
	next := testStream("ORDERS", "ORDERS-1", "orders.>")
	next.Config.MaxMsgs = 10
	next.Peers = []string{"n1", "n4", "n3"}
	if err := updateStream(t, f, 3, next); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.Stream("ORDERS"); !reflect.DeepEqual(got, next) {
		t.Fatalf("after update %+v, want %+v", got, next)
	}

	// Delete; the name can then be taken again, by a new group.
	if err := deleteStream(t, f, 4, "ORDERS"); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.Stream("ORDERS"); ok {
		t.Fatal("deleted stream still recorded")
	}
	if err := createStream(t, f, 5, testStream("ORDERS", "ORDERS-5", "orders.>")); err != nil {
		t.Fatal(err)
	}
	if len(f.Streams()) != 2 {
		t.Fatalf("streams %+v", f.Streams())
	}
}

func TestStreamRefusals(t *testing.T) {
	f := NewFSM()
	orders := testStream("ORDERS", "ORDERS-1", "orders.*")
	if err := createStream(t, f, 1, orders); err != nil {
		t.Fatal(err)
	}
	if err := createStream(t, f, 2, testStream("SHIP", "SHIP-2", "ship.>")); err != nil {
		t.Fatal(err)
	}
	before := f.Streams()

	check := func(name string, err, want error) {
		t.Helper()
		if !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", name, err, want)
		}
	}
	check("create existing", createStream(t, f, 3, testStream("ORDERS", "ORDERS-3", "other")), ErrStreamExists)
	check("create overlapping", createStream(t, f, 4, testStream("X", "X-4", "orders.eu")), ErrSubjectsOverlap)
	check("create overlapping >", createStream(t, f, 5, testStream("X", "X-5", ">")), ErrSubjectsOverlap)
	check("create overlapping *", createStream(t, f, 6, testStream("X", "X-6", "*.new")), ErrSubjectsOverlap)
	check("update into another's subjects", updateStream(t, f, 7, testStream("ORDERS", "ORDERS-1", "orders.*", "ship.a")), ErrSubjectsOverlap)
	check("update unknown", updateStream(t, f, 8, testStream("NOPE", "NOPE-8", "nope")), ErrStreamNotFound)
	check("update other group", updateStream(t, f, 9, testStream("ORDERS", "ORDERS-9", "orders.*")), ErrBadCommand)
	check("delete unknown", deleteStream(t, f, 10, "NOPE"), ErrStreamNotFound)
	noPeers := testStream("Y", "Y-11", "y")
	noPeers.Peers = nil
	check("create without peers", createStream(t, f, 11, noPeers), ErrBadCommand)
	check("create without group", createStream(t, f, 12, testStream("Y", "", "y")), ErrBadCommand)
	check("create without name", createStream(t, f, 13, testStream("", "Y-13", "y")), ErrBadCommand)
	check("create without stream", applyStream(t, f, 14, []byte(`{"op":"create_stream"}`), nil), ErrBadCommand)
	check("update without stream", applyStream(t, f, 15, []byte(`{"op":"update_stream"}`), nil), ErrBadCommand)

	if after := f.Streams(); !reflect.DeepEqual(after, before) {
		t.Fatalf("refused commands changed the streams: %+v", after)
	}

	// The leader's checks agree with Apply.
	check("CheckCreate existing", f.CheckCreate(testStream("ORDERS", "ORDERS-3", "other")), ErrStreamExists)
	check("CheckCreate overlapping", f.CheckCreate(testStream("X", "X-4", "orders.eu")), ErrSubjectsOverlap)
	check("CheckUpdate unknown", f.CheckUpdate(testStream("NOPE", "NOPE-8", "nope")), ErrStreamNotFound)
	check("CheckUpdate other group", f.CheckUpdate(testStream("ORDERS", "ORDERS-9", "orders.*")), ErrBadCommand)
	if err := f.CheckCreate(testStream("X", "X-4", "orders")); err != nil { // "orders" does not match "orders.*"
		t.Fatalf("CheckCreate disjoint: %v", err)
	}
	if err := f.CheckUpdate(testStream("ORDERS", "ORDERS-1", "orders.>")); err != nil {
		t.Fatalf("CheckUpdate own subjects: %v", err)
	}
}

func TestStreamFor(t *testing.T) {
	f := NewFSM()
	for i, s := range []Stream{
		testStream("ORDERS", "ORDERS-1", "orders.*", "eu.orders.>"),
		testStream("SHIP", "SHIP-2", "ship"),
		testStream("ALL", "ALL-3", "all.>"),
	} {
		if err := createStream(t, f, uint64(i+1), s); err != nil {
			t.Fatal(err)
		}
	}
	for subj, want := range map[string]string{
		"orders.new":     "ORDERS",
		"eu.orders.a":    "ORDERS",
		"eu.orders.a.b":  "ORDERS",
		"ship":           "SHIP",
		"all.x.y.z":      "ALL",
		"orders":         "",
		"orders.new.x":   "",
		"eu.orders":      "",
		"ship.x":         "",
		"all":            "",
		"other.subjects": "",
	} {
		s, ok := f.StreamFor("", subj)
		if ok != (want != "") || s.Config.Name != want {
			t.Errorf("StreamFor(%q) = %q, %v; want %q", subj, s.Config.Name, ok, want)
		}
	}
}

func TestStreamsSnapshotRestore(t *testing.T) {
	f := NewFSM()
	putServer(t, f, 1, Server{Name: "n1", Cluster: "127.0.0.1:6222"})
	if err := createStream(t, f, 2, testStream("ORDERS", "ORDERS-2", "orders.>")); err != nil {
		t.Fatal(err)
	}
	s := testStream("SHIP", "SHIP-3", "ship.*")
	s.Config.MaxAge, s.Config.MaxBytes, s.Config.Storage = 3600e9, 1<<20, stream.MemoryStorage
	if err := createStream(t, f, 3, s); err != nil {
		t.Fatal(err)
	}
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var sink memSink
	if err := snap.Persist(&sink); err != nil {
		t.Fatal(err)
	}
	if err := deleteStream(t, f, 4, "ORDERS"); err != nil { // after the snapshot
		t.Fatal(err)
	}

	restored := NewFSM()
	if err := createStream(t, restored, 1, testStream("STALE", "STALE-1", "stale")); err != nil {
		t.Fatal(err)
	}
	drain(restored)
	if err := restored.Restore(io.NopCloser(bytes.NewReader(sink.Bytes()))); err != nil {
		t.Fatal(err)
	}
	select {
	case <-restored.Changes():
	default:
		t.Fatal("Restore did not signal a change")
	}
	got := restored.Streams()
	if len(got) != 2 || got[0].Config.Name != "ORDERS" || !reflect.DeepEqual(got[1], s) {
		t.Fatalf("restored streams %+v", got)
	}
	if _, ok := restored.StreamFor("", "ship.x"); !ok {
		t.Fatal("restored StreamFor misses ship.x")
	}
	if len(restored.Servers()) != 1 {
		t.Fatalf("restored servers %+v", restored.Servers())
	}
	// The restored state is the log's from then on.
	if err := createStream(t, restored, 4, testStream("X", "X-4", "orders.a")); !errors.Is(err, ErrSubjectsOverlap) {
		t.Fatalf("create after restore: %v", err)
	}

	// A snapshot from before streams existed restores with none.
	old := NewFSM()
	if err := old.Restore(io.NopCloser(bytes.NewReader([]byte(`{"servers":{}}`)))); err != nil {
		t.Fatal(err)
	}
	if err := createStream(t, old, 1, testStream("A", "A-1", "a")); err != nil {
		t.Fatalf("create after restoring a stream-less snapshot: %v", err)
	}
}

func drain(f *FSM) {
	for {
		select {
		case <-f.Changes():
		default:
			return
		}
	}
}

func TestChanges(t *testing.T) {
	f := NewFSM()
	select {
	case <-f.Changes():
		t.Fatal("change signalled before any apply")
	default:
	}
	// Several applies, one pending signal: Apply never blocks on it.
	for i := range 3 {
		if err := createStream(t, f, uint64(i+1), testStream(string(rune('A'+i)), "G", string(rune('a'+i)))); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-f.Changes():
	default:
		t.Fatal("no change signalled after apply")
	}
	select {
	case <-f.Changes():
		t.Fatal("a second signal for changes already seen")
	default:
	}
	if err := deleteStream(t, f, 4, "A"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-f.Changes():
	default:
		t.Fatal("no change signalled after delete")
	}
}

// memSink is a raft.SnapshotSink into memory.
type memSink struct{ bytes.Buffer }

func (*memSink) ID() string    { return "test" }
func (*memSink) Close() error  { return nil }
func (*memSink) Cancel() error { return nil }

var _ raft.SnapshotSink = (*memSink)(nil)

// accountStream is a stream of account, as its user's create records it.
func accountStream(account, name, group string, subjects ...string) Stream {
	s := testStream(stream.Qualify(account, name), group, subjects...)
	s.Account = account
	return s
}

func TestStreamForAccounts(t *testing.T) {
	f := NewFSM()
	for i, s := range []Stream{
		accountStream("APP", "ORDERS", "G1", "orders.>"),
		accountStream("OTHER", "ORDERS", "G2", "orders.>"),
		testStream("SHARED", "G3", "shared.>"),
	} {
		if err := createStream(t, f, uint64(i+1), s); err != nil {
			t.Fatalf("create %s: %v", s.Config.Name, err)
		}
	}
	for _, c := range []struct{ account, subj, want string }{
		{"APP", "orders.new", "APP.ORDERS"},
		{"OTHER", "orders.new", "OTHER.ORDERS"},
		{"APP", "shared.x", "SHARED"},
		{"OTHER", "shared.x", "SHARED"},
		{"", "shared.x", "SHARED"},
		{"", "orders.new", ""},
		{"THIRD", "orders.new", ""},
	} {
		s, ok := f.StreamFor(c.account, c.subj)
		if ok != (c.want != "") || s.Config.Name != c.want {
			t.Errorf("StreamFor(%q, %q) = %q, %v; want %q", c.account, c.subj, s.Config.Name, ok, c.want)
		}
		name, ok := f.StreamNameFor(c.account, c.subj)
		if ok != (c.want != "") || name != c.want {
			t.Errorf("StreamNameFor(%q, %q) = %q, %v; want %q", c.account, c.subj, name, ok, c.want)
		}
	}
	for _, s := range []Stream{
		accountStream("APP", "MORE", "G4", "orders.x"),   // within the account
		accountStream("APP", "SHARES", "G5", "shared.a"), // against a shared stream
		testStream("ALL", "G6", "orders.*"),              // a shared stream against an account's
	} {
		if err := createStream(t, f, 9, s); !errors.Is(err, ErrSubjectsOverlap) {
			t.Errorf("create %s: %v; want ErrSubjectsOverlap", s.Config.Name, err)
		}
	}
}
