package storetest

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// defaultLargeSize is the size of the snapshot TestSnapshotStore streams
// through LargeSnapshot; shortLargeSize is used under go test -short.
const (
	defaultLargeSize = 64 << 20
	shortLargeSize   = 8 << 20
)

// TestSnapshotStore runs the raft.SnapshotStore cases as subtests.
func TestSnapshotStore(t *testing.T, open Opener) {
	cases := []struct {
		name string
		fn   func(*testing.T, Opener)
	}{
		{"ListEmpty", testSnapListEmpty},
		{"CreateCloseOpen", testSnapCreateCloseOpen},
		{"SinkID", testSnapSinkID},
		{"Cancel", testSnapCancel},
		{"PartialNotListed", testSnapPartial},
		{"NewestFirst", testSnapNewestFirst},
		{"OpenUnknown", testSnapOpenUnknown},
		{"EmptySnapshot", testSnapEmpty},
		{"OddWrites", testSnapOddWrites},
		{"Reopen", testSnapReopen},
		{"Large", testSnapLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.fn(t, open) })
	}
}

// testSnapListEmpty: a new store lists no snapshots.
func testSnapListEmpty(t *testing.T, open Opener) {
	s := openSnapshots(t, open, newGroup("snap-empty"))
	if got := list(t, s); len(got) != 0 {
		t.Fatalf("List on a new store = %d snapshots (first %q), want none", len(got), got[0].ID)
	}
}

// testSnapCreateCloseOpen: a closed snapshot is listed with the metadata it
// was created with and its size, and opens to the exact bytes written.
// Raft sends Version to followers (who read the configuration only when it
// is > 0) and checks Size against the bytes it reads on restore.
func testSnapCreateCloseOpen(t *testing.T, open Opener) {
	s := openSnapshots(t, open, newGroup("snap-basic"))
	data := patternBytes(100<<10+17, 3)
	want := snapMeta(42, 3, 40, int64(len(data)))
	want.ID = writeSnapshot(t, s, want, data)

	metas := list(t, s)
	if len(metas) != 1 {
		t.Fatalf("List = %d snapshots, want 1", len(metas))
	}
	checkMeta(t, "List", metas[0], want)
	checkSnapshot(t, s, want, data)
}

// testSnapSinkID: the sink's ID is the ID List returns and Open takes.
func testSnapSinkID(t *testing.T, open Opener) {
	s := openSnapshots(t, open, newGroup("snap-id"))
	sink := create(t, s, snapMeta(7, 2, 7, 0))
	id := sink.ID()
	if id == "" {
		t.Fatal("sink.ID() is empty")
	}
	write(t, sink, []byte("state"))
	if err := sink.Close(); err != nil {
		t.Fatalf("sink.Close: %v", err)
	}
	if id2 := sink.ID(); id2 != id {
		t.Errorf("sink.ID() changed on Close: %q, then %q", id, id2)
	}
	metas := list(t, s)
	if len(metas) != 1 || metas[0].ID != id {
		t.Fatalf("List IDs = %v, want [%q]", ids(metas), id)
	}
	meta, rc, err := s.Open(id)
	if err != nil {
		t.Fatalf("Open(%q): %v", id, err)
	}
	defer func() { _ = rc.Close() }()
	if meta.ID != id {
		t.Errorf("Open(%q) meta.ID = %q", id, meta.ID)
	}
}

// testSnapCancel: a cancelled snapshot is neither listed nor opened, and
// the store takes the next one.
func testSnapCancel(t *testing.T, open Opener) {
	s := openSnapshots(t, open, newGroup("snap-cancel"))
	sink := create(t, s, snapMeta(10, 2, 9, 0))
	write(t, sink, patternBytes(64<<10, 4))
	if err := sink.Cancel(); err != nil {
		t.Fatalf("sink.Cancel: %v", err)
	}
	if got := list(t, s); len(got) != 0 {
		t.Fatalf("List after Cancel = %v, want none", ids(got))
	}
	if _, rc, err := s.Open(sink.ID()); err == nil {
		_ = rc.Close()
		t.Errorf("Open(%q) of a cancelled snapshot succeeded, want an error", sink.ID())
	}

	data := []byte("after-cancel")
	want := snapMeta(11, 2, 9, int64(len(data)))
	want.ID = writeSnapshot(t, s, want, data)
	metas := list(t, s)
	if len(metas) != 1 {
		t.Fatalf("List = %v, want only %q", ids(metas), want.ID)
	}
	checkMeta(t, "List", metas[0], want)
}

// testSnapPartial: a snapshot being written is not listed until Close.
func testSnapPartial(t *testing.T, open Opener) {
	s := openSnapshots(t, open, newGroup("snap-partial"))
	sink := create(t, s, snapMeta(20, 4, 18, 0))
	data := patternBytes(256<<10, 5)
	write(t, sink, data[:128<<10])
	if got := list(t, s); len(got) != 0 {
		_ = sink.Cancel()
		t.Fatalf("List while a snapshot is being written = %v, want none", ids(got))
	}
	write(t, sink, data[128<<10:])
	if got := list(t, s); len(got) != 0 {
		_ = sink.Cancel()
		t.Fatalf("List while a snapshot is being written = %v, want none", ids(got))
	}
	if err := sink.Close(); err != nil {
		t.Fatalf("sink.Close: %v", err)
	}
	want := snapMeta(20, 4, 18, int64(len(data)))
	want.ID = sink.ID()
	metas := list(t, s)
	if len(metas) != 1 {
		t.Fatalf("List after Close = %v, want [%q]", ids(metas), want.ID)
	}
	checkMeta(t, "List", metas[0], want)
	checkSnapshot(t, s, want, data)
}

// testSnapNewestFirst: List returns the newest snapshot first. A store may
// retain only some snapshots, so only the order and the head are required.
func testSnapNewestFirst(t *testing.T, open Opener) {
	s := openSnapshots(t, open, newGroup("snap-order"))
	older := snapMeta(10, 2, 9, 5)
	older.ID = writeSnapshot(t, s, older, []byte("older"))
	newer := snapMeta(20, 3, 19, 5)
	newer.ID = writeSnapshot(t, s, newer, []byte("newer"))

	metas := list(t, s)
	if len(metas) == 0 {
		t.Fatal("List after two snapshots is empty")
	}
	checkMeta(t, "List[0]", metas[0], newer)
	if len(metas) > 2 {
		t.Errorf("List = %v, want at most the 2 snapshots created", ids(metas))
	}
	if len(metas) == 2 {
		checkMeta(t, "List[1]", metas[1], older)
	}
	checkSnapshot(t, s, newer, []byte("newer"))
}

// testSnapOpenUnknown: Open of an ID the store never gave out is an error.
func testSnapOpenUnknown(t *testing.T, open Opener) {
	s := openSnapshots(t, open, newGroup("snap-unknown"))
	for _, id := range []string{"no-such-snapshot", "1-2-3"} {
		if _, rc, err := s.Open(id); err == nil {
			_ = rc.Close()
			t.Errorf("Open(%q) on an empty store succeeded, want an error", id)
		}
	}
	writeSnapshot(t, s, snapMeta(5, 1, 5, 1), []byte("x"))
	if _, rc, err := s.Open("no-such-snapshot"); err == nil {
		_ = rc.Close()
		t.Error(`Open("no-such-snapshot") succeeded, want an error`)
	}
}

// testSnapEmpty: a snapshot with no bytes is valid (an empty FSM).
func testSnapEmpty(t *testing.T, open Opener) {
	s := openSnapshots(t, open, newGroup("snap-zero"))
	want := snapMeta(3, 1, 1, 0)
	want.ID = writeSnapshot(t, s, want, nil)
	metas := list(t, s)
	if len(metas) != 1 {
		t.Fatalf("List = %v, want [%q]", ids(metas), want.ID)
	}
	checkMeta(t, "List", metas[0], want)
	checkSnapshot(t, s, want, nil)
}

// testSnapOddWrites: writes of uneven sizes, across any chunking a
// transport does, read back exactly, also through tiny reads.
func testSnapOddWrites(t *testing.T, open Opener) {
	s := openSnapshots(t, open, newGroup("snap-odd"))
	sizes := []int{1, 7, 4096, 1<<20 + 3, 0, 65536, 13, 2<<20 + 1, 1}
	total := 0
	for _, n := range sizes {
		total += n
	}
	data := patternBytes(total, 6)
	want := snapMeta(30, 5, 30, int64(total))
	sink := create(t, s, want)
	off := 0
	for _, n := range sizes {
		write(t, sink, data[off:off+n])
		off += n
	}
	if err := sink.Close(); err != nil {
		t.Fatalf("sink.Close: %v", err)
	}
	want.ID = sink.ID()

	meta, rc, err := s.Open(want.ID)
	if err != nil {
		t.Fatalf("Open(%q): %v", want.ID, err)
	}
	defer func() { _ = rc.Close() }()
	checkMeta(t, "Open", meta, want)
	var got []byte
	one := make([]byte, 1)
	for len(got) < 100 {
		n, err := rc.Read(one)
		got = append(got, one[:n]...)
		if err != nil {
			t.Fatalf("Read after %d bytes: %v", len(got), err)
		}
	}
	odd := make([]byte, 4097)
	for len(got) < 1<<20 {
		n, err := rc.Read(odd)
		got = append(got, odd[:n]...)
		if err != nil {
			t.Fatalf("Read after %d bytes: %v", len(got), err)
		}
	}
	rest, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("ReadAll after %d bytes: %v", len(got), err)
	}
	got = append(got, rest...)
	checkBytes(t, got, data)
}

// testSnapReopen: a snapshot is still listed and readable when the group is
// opened again.
func testSnapReopen(t *testing.T, open Opener) {
	group := newGroup("snap-reopen")
	s := openSnapshots(t, open, group)
	data := patternBytes(300<<10, 7)
	want := snapMeta(77, 6, 70, int64(len(data)))
	want.ID = writeSnapshot(t, s, want, data)

	s = openSnapshots(t, open, group)
	metas := list(t, s)
	if len(metas) != 1 {
		t.Fatalf("List after reopen = %v, want [%q]", ids(metas), want.ID)
	}
	checkMeta(t, "List", metas[0], want)
	checkSnapshot(t, s, want, data)
}

// testSnapLarge streams a snapshot too big to hold through the store.
func testSnapLarge(t *testing.T, open Opener) {
	s := openSnapshots(t, open, newGroup("snap-large"))
	size := int64(defaultLargeSize)
	if testing.Short() {
		size = shortLargeSize
	}
	LargeSnapshot(t, s, size)
}

// LargeSnapshot writes a snapshot of size bytes generated on the fly from a
// deterministic PRNG in 1 MiB chunks, reopens it and compares it by
// streaming SHA-256, never holding it in memory. The snapshot is made newer
// than any the store already lists, so a store that retains only the newest
// N keeps it. It is left in the store.
func LargeSnapshot(t *testing.T, store raft.SnapshotStore, size int64) {
	t.Helper()
	if size < 0 {
		t.Fatalf("LargeSnapshot: negative size %d", size)
	}
	want := nextSnapMeta(t, store, size)
	sink := create(t, store, want)
	want.ID = sink.ID()

	start := time.Now()
	sum, err := writeGenerated(sink, size)
	if err != nil {
		_ = sink.Cancel()
		t.Fatalf("writing %d bytes: %v", size, err)
	}
	if err := sink.Close(); err != nil {
		t.Fatalf("sink.Close after %d bytes: %v", size, err)
	}
	wrote := time.Since(start)

	found := false
	for _, m := range list(t, store) {
		if m.ID == want.ID {
			checkMeta(t, "List", m, want)
			found = true
		}
	}
	if !found {
		t.Fatalf("snapshot %q of %d bytes is not listed after Close", want.ID, size)
	}

	start = time.Now()
	meta, rc, err := store.Open(want.ID)
	if err != nil {
		t.Fatalf("Open(%q): %v", want.ID, err)
	}
	checkMeta(t, "Open", meta, want)
	h := sha256.New()
	n, err := io.CopyBuffer(h, rc, make([]byte, 1<<20))
	if err != nil {
		_ = rc.Close()
		t.Fatalf("reading snapshot %q after %d bytes: %v", want.ID, n, err)
	}
	if err := rc.Close(); err != nil {
		t.Errorf("closing snapshot reader: %v", err)
	}
	if n != size {
		t.Fatalf("read %d bytes, want %d", n, size)
	}
	if got := h.Sum(nil); !bytes.Equal(got, sum) {
		t.Fatalf("snapshot SHA-256 %x, want %x", got, sum)
	}
	t.Logf("snapshot of %d MiB: written in %v, read back in %v", size>>20, wrote, time.Since(start))
}

// writeGenerated writes size PRNG bytes to w in 1 MiB chunks and returns
// their SHA-256.
func writeGenerated(w io.Writer, size int64) ([]byte, error) {
	var seed [32]byte
	copy(seed[:], "strata storetest large snapshot")
	rng := rand.NewChaCha8(seed)
	h := sha256.New()
	buf := make([]byte, 1<<20)
	for left := size; left > 0; {
		chunk := buf[:min(int64(len(buf)), left)]
		_, _ = rng.Read(chunk)
		h.Write(chunk)
		n, err := w.Write(chunk)
		if err != nil {
			return nil, err
		}
		if n != len(chunk) {
			return nil, fmt.Errorf("short write: %d of %d bytes", n, len(chunk))
		}
		left -= int64(n)
	}
	return h.Sum(nil), nil
}

// nextSnapMeta returns metadata for a snapshot newer than any store lists.
func nextSnapMeta(t testing.TB, store raft.SnapshotStore, size int64) *raft.SnapshotMeta {
	t.Helper()
	index, term := uint64(1000), uint64(10)
	for _, m := range list(t, store) {
		index = max(index, m.Index+1)
		term = max(term, m.Term+1)
	}
	return snapMeta(index, term, index-1, size)
}

// testConfig is the configuration stored with every snapshot of the kit:
// two voters and a non-voter.
func testConfig() raft.Configuration {
	return raft.Configuration{Servers: []raft.Server{
		{Suffrage: raft.Voter, ID: "node-1", Address: "127.0.0.1:7001"},
		{Suffrage: raft.Voter, ID: "node-2", Address: "127.0.0.1:7002"},
		{Suffrage: raft.Nonvoter, ID: "node-3", Address: "127.0.0.1:7003"},
	}}
}

// snapMeta is the metadata the kit expects back for a snapshot it creates.
func snapMeta(index, term, configIndex uint64, size int64) *raft.SnapshotMeta {
	return &raft.SnapshotMeta{
		Version:            raft.SnapshotVersionMax,
		Index:              index,
		Term:               term,
		Configuration:      testConfig(),
		ConfigurationIndex: configIndex,
		Size:               size,
	}
}

// peerTransport is the transport the kit hands to Create. Stores use it
// only to encode the deprecated Peers field (raft.FileSnapshotStore calls
// EncodePeer for each voter); any other method would panic.
type peerTransport struct{ raft.Transport }

func (peerTransport) EncodePeer(_ raft.ServerID, addr raft.ServerAddress) []byte {
	return []byte(addr)
}

func create(t testing.TB, s raft.SnapshotStore, m *raft.SnapshotMeta) raft.SnapshotSink {
	t.Helper()
	sink, err := s.Create(m.Version, m.Index, m.Term, m.Configuration, m.ConfigurationIndex, peerTransport{})
	if err != nil {
		t.Fatalf("Create(index %d, term %d): %v", m.Index, m.Term, err)
	}
	return sink
}

func write(t testing.TB, sink raft.SnapshotSink, p []byte) {
	t.Helper()
	n, err := sink.Write(p)
	if err != nil {
		_ = sink.Cancel()
		t.Fatalf("sink.Write(%d bytes): %v", len(p), err)
	}
	if n != len(p) {
		_ = sink.Cancel()
		t.Fatalf("sink.Write(%d bytes) = %d", len(p), n)
	}
}

// writeSnapshot creates, writes and closes a snapshot and returns its ID.
func writeSnapshot(t testing.TB, s raft.SnapshotStore, m *raft.SnapshotMeta, data []byte) string {
	t.Helper()
	sink := create(t, s, m)
	write(t, sink, data)
	if err := sink.Close(); err != nil {
		t.Fatalf("sink.Close: %v", err)
	}
	return sink.ID()
}

func list(t testing.TB, s raft.SnapshotStore) []*raft.SnapshotMeta {
	t.Helper()
	metas, err := s.List()
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	for i, m := range metas {
		if m == nil {
			t.Fatalf("List()[%d] is nil", i)
		}
		if i > 0 && newer(m, metas[i-1]) {
			t.Errorf("List is not newest first: %q (term %d, index %d) after %q (term %d, index %d)",
				m.ID, m.Term, m.Index, metas[i-1].ID, metas[i-1].Term, metas[i-1].Index)
		}
	}
	return metas
}

// newer reports whether a is a newer snapshot than b, as raft's
// FileSnapshotStore orders them: by term, then index.
func newer(a, b *raft.SnapshotMeta) bool {
	if a.Term != b.Term {
		return a.Term > b.Term
	}
	return a.Index > b.Index
}

func ids(metas []*raft.SnapshotMeta) []string {
	out := make([]string, len(metas))
	for i, m := range metas {
		out[i] = m.ID
	}
	return out
}

// checkMeta compares the snapshot metadata raft uses.
func checkMeta(t testing.TB, what string, got, want *raft.SnapshotMeta) {
	t.Helper()
	if want.ID != "" && got.ID != want.ID {
		t.Errorf("%s: ID %q, want %q", what, got.ID, want.ID)
	}
	if got.Version != want.Version {
		t.Errorf("%s %q: Version %d, want %d", what, got.ID, got.Version, want.Version)
	}
	if got.Index != want.Index || got.Term != want.Term {
		t.Errorf("%s %q: index %d term %d, want index %d term %d", what, got.ID, got.Index, got.Term, want.Index, want.Term)
	}
	if !equalConfig(got.Configuration, want.Configuration) {
		t.Errorf("%s %q: Configuration %+v, want %+v", what, got.ID, got.Configuration, want.Configuration)
	}
	if got.ConfigurationIndex != want.ConfigurationIndex {
		t.Errorf("%s %q: ConfigurationIndex %d, want %d", what, got.ID, got.ConfigurationIndex, want.ConfigurationIndex)
	}
	if got.Size != want.Size {
		t.Errorf("%s %q: Size %d, want %d", what, got.ID, got.Size, want.Size)
	}
}

func equalConfig(a, b raft.Configuration) bool {
	if len(a.Servers) != len(b.Servers) {
		return false
	}
	for i := range a.Servers {
		if a.Servers[i] != b.Servers[i] {
			return false
		}
	}
	return true
}

// checkSnapshot opens want.ID and compares its metadata and bytes.
func checkSnapshot(t testing.TB, s raft.SnapshotStore, want *raft.SnapshotMeta, data []byte) {
	t.Helper()
	meta, rc, err := s.Open(want.ID)
	if err != nil {
		t.Fatalf("Open(%q): %v", want.ID, err)
	}
	got, err := io.ReadAll(rc)
	if cerr := rc.Close(); cerr != nil {
		t.Errorf("closing snapshot %q: %v", want.ID, cerr)
	}
	if err != nil {
		t.Fatalf("reading snapshot %q: %v", want.ID, err)
	}
	checkMeta(t, "Open", meta, want)
	checkBytes(t, got, data)
}

func checkBytes(t testing.TB, got, want []byte) {
	t.Helper()
	if bytes.Equal(got, want) {
		return
	}
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	t.Errorf("snapshot bytes differ: got %d bytes, want %d; first difference at offset %d", len(got), len(want), i)
}
