package file

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

func newTestSnapshotStore(t *testing.T, dir string, retain int) *SnapshotStore {
	t.Helper()
	s, err := NewSnapshotStore(dir, retain, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var testConfiguration = raft.Configuration{Servers: []raft.Server{
	{Suffrage: raft.Voter, ID: "n1", Address: "127.0.0.1:7001"},
	{Suffrage: raft.Nonvoter, ID: "n2", Address: "127.0.0.1:7002"},
}}

// writeSnapshot creates and closes a snapshot holding data.
func writeSnapshot(t *testing.T, s *SnapshotStore, term, index uint64, data []byte) string {
	t.Helper()
	sink, err := s.Create(1, index, term, testConfiguration, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sink.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	return sink.ID()
}

func listIDs(t *testing.T, s *SnapshotStore) []string {
	t.Helper()
	metas, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(metas))
	for i, m := range metas {
		ids[i] = m.ID
	}
	return ids
}

func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func readSnapshot(t *testing.T, s *SnapshotStore, id string) (*raft.SnapshotMeta, []byte, error) {
	t.Helper()
	meta, rc, err := s.Open(id)
	if err != nil {
		return nil, nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	return meta, data, err
}

func TestSnapshotRoundTrip(t *testing.T) {
	s := newTestSnapshotStore(t, t.TempDir(), 2)
	data := bytes.Repeat([]byte("0123456789abcdef"), 100_000) // 1.6 MB: several buffer fills
	id := writeSnapshot(t, s, 3, 42, data)
	if !strings.HasPrefix(id, "3-42-") {
		t.Fatalf("id %q, want term-index-msec", id)
	}

	metas, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(metas) != 1 || metas[0].ID != id {
		t.Fatalf("List = %v, want [%s]", metas, id)
	}
	meta, got, err := readSnapshot(t, s, id)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("read %d bytes, differing from the %d written", len(got), len(data))
	}
	if meta.Size != int64(len(data)) || meta.Term != 3 || meta.Index != 42 ||
		meta.ConfigurationIndex != 3 || meta.Version != 1 {
		t.Fatalf("meta = %+v", meta)
	}
	if len(meta.Configuration.Servers) != 2 || meta.Configuration.Servers[1] != testConfiguration.Servers[1] {
		t.Fatalf("configuration = %+v", meta.Configuration)
	}
}

func TestSnapshotEmpty(t *testing.T) {
	s := newTestSnapshotStore(t, t.TempDir(), 2)
	id := writeSnapshot(t, s, 1, 1, nil)
	meta, got, err := readSnapshot(t, s, id)
	if err != nil || len(got) != 0 || meta.Size != 0 {
		t.Fatalf("got %d bytes, size %v, err %v", len(got), meta, err)
	}
}

func TestSnapshotFlippedByteDetected(t *testing.T) {
	dir := t.TempDir()
	s := newTestSnapshotStore(t, dir, 2)
	data := bytes.Repeat([]byte("strata"), 50_000)
	id := writeSnapshot(t, s, 1, 10, data)

	state := filepath.Join(dir, id, stateFile)
	raw, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)/2] ^= 0x01
	if err := os.WriteFile(state, raw, 0o644); err != nil {
		t.Fatal(err)
	}

	_, got, err := readSnapshot(t, s, id)
	if !errors.Is(err, ErrSnapshotCorrupt) {
		t.Fatalf("read of corrupt snapshot: err = %v (read %d bytes), want ErrSnapshotCorrupt", err, len(got))
	}
	if !strings.Contains(err.Error(), id) {
		t.Fatalf("error %q does not name snapshot %s", err, id)
	}

	// The error sticks: a reader that retries does not get io.EOF.
	_, rc, err := s.Open(id)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := io.Copy(io.Discard, rc); !errors.Is(err, ErrSnapshotCorrupt) {
		t.Fatalf("first copy: %v", err)
	}
	if _, err := rc.Read(make([]byte, 10)); !errors.Is(err, ErrSnapshotCorrupt) {
		t.Fatalf("read after error: %v", err)
	}
}

func TestSnapshotWrongSizeDetected(t *testing.T) {
	for name, change := range map[string]func([]byte) []byte{
		"truncated": func(b []byte) []byte { return b[:len(b)-1] },
		"extended":  func(b []byte) []byte { return append(b, 'x') },
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			s := newTestSnapshotStore(t, dir, 2)
			good := writeSnapshot(t, s, 1, 1, []byte("older, intact"))
			bad := writeSnapshot(t, s, 1, 2, []byte("newer, damaged"))
			state := filepath.Join(dir, bad, stateFile)
			raw, _ := os.ReadFile(state)
			if err := os.WriteFile(state, change(raw), 0o644); err != nil {
				t.Fatal(err)
			}
			if ids := listIDs(t, s); len(ids) != 1 || ids[0] != good {
				t.Fatalf("List = %v, want only %s", ids, good)
			}
			if _, _, err := s.Open(bad); !errors.Is(err, ErrSnapshotCorrupt) || !strings.Contains(err.Error(), bad) {
				t.Fatalf("Open(%s) = %v, want ErrSnapshotCorrupt naming it", bad, err)
			}
		})
	}
}

func TestSnapshotBadMetaSkipped(t *testing.T) {
	dir := t.TempDir()
	s := newTestSnapshotStore(t, dir, 3)
	good := writeSnapshot(t, s, 1, 1, []byte("good"))
	for id, meta := range map[string]string{
		"2-2-1": "{not json",
		"2-3-1": `{"ID":"someone-else","Version":1}`,
		"2-4-1": `{"ID":"2-4-1","Version":1,"Size":1}`, // no SHA256
	} {
		if err := os.MkdirAll(filepath.Join(dir, id), 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, id, stateFile), []byte("x"), 0o644)
		os.WriteFile(filepath.Join(dir, id, metaFile), []byte(meta), 0o644)
		if _, _, err := s.Open(id); err == nil {
			t.Fatalf("Open(%s) with meta %s succeeded", id, meta)
		}
	}
	if ids := listIDs(t, s); len(ids) != 1 || ids[0] != good {
		t.Fatalf("List = %v, want only %s", ids, good)
	}
}

func TestSnapshotTempNeverListedAndCleanedAtOpen(t *testing.T) {
	dir := t.TempDir()
	s := newTestSnapshotStore(t, dir, 2)
	done := writeSnapshot(t, s, 1, 1, []byte("done"))

	sink, err := s.Create(1, 2, 1, testConfiguration, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sink.Write([]byte("half a snapsh")); err != nil {
		t.Fatal(err)
	}
	if ids := listIDs(t, s); len(ids) != 1 || ids[0] != done {
		t.Fatalf("List during write = %v, want only %s", ids, done)
	}
	if _, _, err := s.Open(sink.ID()); err == nil {
		t.Fatal("Open of an unfinished snapshot succeeded")
	}
	if _, _, err := s.Open(sink.ID() + tmpSuffix); !errors.Is(err, ErrBadSnapshotID) {
		t.Fatalf("Open of the tmp dir: %v, want ErrBadSnapshotID", err)
	}

	// A crash here leaves the tmp dir; the next open removes it.
	newTestSnapshotStore(t, dir, 2)
	if names := dirEntries(t, dir); len(names) != 1 || names[0] != done {
		t.Fatalf("dir after reopen = %v, want only %s", names, done)
	}
}

func TestSnapshotCancelRemovesTemp(t *testing.T) {
	dir := t.TempDir()
	s := newTestSnapshotStore(t, dir, 2)
	sink, err := s.Create(1, 5, 2, testConfiguration, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	sink.Write([]byte("abandoned"))
	if err := sink.Cancel(); err != nil {
		t.Fatal(err)
	}
	if names := dirEntries(t, dir); len(names) != 0 {
		t.Fatalf("dir after Cancel = %v, want empty", names)
	}
	if ids := listIDs(t, s); len(ids) != 0 {
		t.Fatalf("List after Cancel = %v", ids)
	}
	if _, err := sink.Write([]byte("more")); !errors.Is(err, ErrSinkClosed) {
		t.Fatalf("Write after Cancel: %v, want ErrSinkClosed", err)
	}
}

func TestSnapshotRetain(t *testing.T) {
	dir := t.TempDir()
	s := newTestSnapshotStore(t, dir, 2)
	var ids []string
	for i := uint64(1); i <= 4; i++ {
		ids = append(ids, writeSnapshot(t, s, 1, i*10, []byte{byte(i)}))
	}
	want := []string{ids[3], ids[2]}
	if got := listIDs(t, s); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("List = %v, want %v", got, want)
	}
	if names := dirEntries(t, dir); len(names) != 2 {
		t.Fatalf("dir = %v, want the 2 retained", names)
	}
}

func TestSnapshotListNewestFirst(t *testing.T) {
	s := newTestSnapshotStore(t, t.TempDir(), 10)
	a := writeSnapshot(t, s, 2, 5, nil)
	b := writeSnapshot(t, s, 1, 10, nil)
	c := writeSnapshot(t, s, 2, 7, nil)
	d := writeSnapshot(t, s, 2, 7, nil) // same term and index: later ID wins
	want := []string{d, c, a, b}
	got := listIDs(t, s)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("List = %v, want %v", got, want)
	}
	if c == d {
		t.Fatalf("two snapshots got the same id %s", c)
	}
}

func TestSnapshotOpenRefusesBadIDs(t *testing.T) {
	s := newTestSnapshotStore(t, t.TempDir(), 2)
	for _, id := range []string{"", ".", "..", "../x", "a/b", `a\b`, "1-1-1.tmp"} {
		if _, _, err := s.Open(id); !errors.Is(err, ErrBadSnapshotID) {
			t.Fatalf("Open(%q) = %v, want ErrBadSnapshotID", id, err)
		}
	}
	if _, _, err := s.Open("1-1-1"); err == nil || errors.Is(err, ErrBadSnapshotID) {
		t.Fatalf("Open of a missing snapshot: %v", err)
	}
}

func TestSnapshotStoreRefusesZeroRetain(t *testing.T) {
	if _, err := NewSnapshotStore(t.TempDir(), 0, nil); err == nil {
		t.Fatal("retain 0 accepted")
	}
}
