package file

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	wal "github.com/hashicorp/raft-wal"

	"github.com/stratadb/strata/pluginsdk"
)

func configure(t *testing.T, dataDir, config string) *Plugin {
	t.Helper()
	p := New()
	err := p.Configure(pluginsdk.ConfigureRequest{
		DataDir: dataDir,
		Config:  json.RawMessage(config),
		Logger:  hclog.NewNullLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func openLogStore(t *testing.T, p *Plugin, group string) raft.LogStore {
	t.Helper()
	ls, err := p.LogStore(group)
	if err != nil {
		t.Fatal(err)
	}
	return ls
}

func testLogs(first, last uint64, size int) []*raft.Log {
	var logs []*raft.Log
	for i := first; i <= last; i++ {
		data := bytes.Repeat([]byte{byte(i)}, size)
		logs = append(logs, &raft.Log{Index: i, Term: 1 + i/50, Type: raft.LogCommand, Data: data})
	}
	return logs
}

func checkLogs(t *testing.T, ls raft.LogStore, want []*raft.Log) {
	t.Helper()
	first, _ := ls.FirstIndex()
	last, _ := ls.LastIndex()
	if first != want[0].Index || last != want[len(want)-1].Index {
		t.Fatalf("index range %d..%d, want %d..%d", first, last, want[0].Index, want[len(want)-1].Index)
	}
	for _, w := range want {
		var got raft.Log
		if err := ls.GetLog(w.Index, &got); err != nil {
			t.Fatalf("GetLog(%d): %v", w.Index, err)
		}
		if got.Term != w.Term || got.Type != w.Type || !bytes.Equal(got.Data, w.Data) {
			t.Fatalf("log %d = %+v, want %+v", w.Index, got, w)
		}
	}
}

func TestPluginReopenPersists(t *testing.T) {
	dir := t.TempDir()
	const group = "stream/ORDERS"
	logs := testLogs(1, 200, 100)

	p := configure(t, dir, `{"retain": 3}`) // fsync on: this is the real path
	if err := openLogStore(t, p, group).StoreLogs(logs); err != nil {
		t.Fatal(err)
	}
	st, err := p.StableStore(group)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetUint64([]byte("CurrentTerm"), 7); err != nil {
		t.Fatal(err)
	}
	if err := st.Set([]byte("LastVoteCand"), []byte("n2")); err != nil {
		t.Fatal(err)
	}
	if err := openLogStore(t, p, group).DeleteRange(1, 20); err != nil {
		t.Fatal(err)
	}
	ss, err := p.SnapshotStore(group)
	if err != nil {
		t.Fatal(err)
	}
	snapID := writeSnapshot(t, ss.(*SnapshotStore), 4, 20, []byte("fsm state"))
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}

	p = configure(t, dir, `{"retain": 3}`)
	ls := openLogStore(t, p, group)
	checkLogs(t, ls, logs[20:])
	for _, i := range []uint64{1, 20, 201} {
		if err := ls.GetLog(i, &raft.Log{}); err != raft.ErrLogNotFound {
			t.Fatalf("GetLog(%d) = %v, want raft.ErrLogNotFound", i, err)
		}
	}
	if m, ok := ls.(raft.MonotonicLogStore); !ok || !m.IsMonotonic() {
		t.Fatal("LogStore is not a monotonic store")
	}
	st, _ = p.StableStore(group)
	if v, err := st.GetUint64([]byte("CurrentTerm")); err != nil || v != 7 {
		t.Fatalf("CurrentTerm = %d, %v", v, err)
	}
	if v, err := st.Get([]byte("LastVoteCand")); err != nil || string(v) != "n2" {
		t.Fatalf("LastVoteCand = %q, %v", v, err)
	}
	ss, _ = p.SnapshotStore(group)
	_, data, err := readSnapshot(t, ss.(*SnapshotStore), snapID)
	if err != nil || string(data) != "fsm state" {
		t.Fatalf("snapshot after reopen: %q, %v", data, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "stream%2f%4f%52%44%45%52%53", "wal")); err != nil {
		t.Fatalf("group dir: %v", err)
	}
}

func TestPluginSegmentRotation(t *testing.T) {
	dir := t.TempDir()
	p := configure(t, dir, `{"segment_size_mb": 1, "no_sync": true}`)
	logs := testLogs(1, 300, 10_000) // ~3 MB over 1 MB segments
	for i := 0; i < len(logs); i += 25 {
		if err := openLogStore(t, p, "g").StoreLogs(logs[i : i+25]); err != nil {
			t.Fatal(err)
		}
	}
	p.Close()
	p = configure(t, dir, `{"segment_size_mb": 1, "no_sync": true}`)
	checkLogs(t, openLogStore(t, p, "g"), logs)
	segments, _ := filepath.Glob(filepath.Join(dir, "g", "wal", "*.wal"))
	if len(segments) < 3 {
		t.Fatalf("%d segment files, want several: %v", len(segments), segments)
	}
}

func TestPluginGroupsAreSeparate(t *testing.T) {
	p := configure(t, t.TempDir(), `{"no_sync": true}`)
	groups := []string{"meta", "Meta", "stream/a", "stream%2fa", ".."}
	for i, g := range groups {
		if err := openLogStore(t, p, g).StoreLogs(testLogs(1, uint64(i+1), 8)); err != nil {
			t.Fatalf("group %q: %v", g, err)
		}
	}
	for i, g := range groups {
		if last, _ := openLogStore(t, p, g).LastIndex(); last != uint64(i+1) {
			t.Fatalf("group %q: last index %d, want %d", g, last, i+1)
		}
	}
	// One WAL per group serves both store kinds.
	ls, _ := p.LogStore("meta")
	st, _ := p.StableStore("meta")
	if ls.(logStore).WAL != st.(*wal.WAL) {
		t.Fatal("LogStore and StableStore of a group are different WALs")
	}
}

func TestPluginMissingStableKey(t *testing.T) {
	p := configure(t, t.TempDir(), `{"no_sync": true}`)
	st, err := p.StableStore("g")
	if err != nil {
		t.Fatal(err)
	}
	// raft-wal follows raft's StableStore contract: empty and 0, no error.
	if v, err := st.Get([]byte("nope")); err != nil || len(v) != 0 {
		t.Fatalf("Get of a missing key = %q, %v", v, err)
	}
	if v, err := st.GetUint64([]byte("nope")); err != nil || v != 0 {
		t.Fatalf("GetUint64 of a missing key = %d, %v", v, err)
	}
}

func TestPluginRefuses(t *testing.T) {
	p := New()
	if _, err := p.LogStore("g"); !errors.Is(err, ErrNotConfigured) {
		t.Fatalf("before Configure: %v", err)
	}
	p = configure(t, t.TempDir(), "")
	if _, err := p.SnapshotStore(""); !errors.Is(err, ErrBadGroup) {
		t.Fatalf("empty group: %v", err)
	}
	p.Close()
	for name, open := range map[string]func(string) (any, error){
		"LogStore":      func(g string) (any, error) { return p.LogStore(g) },
		"StableStore":   func(g string) (any, error) { return p.StableStore(g) },
		"SnapshotStore": func(g string) (any, error) { return p.SnapshotStore(g) },
	} {
		if _, err := open("g"); !errors.Is(err, ErrClosed) {
			t.Fatalf("%s after Close: %v", name, err)
		}
	}
}

func TestConfigErrorsNameTheKey(t *testing.T) {
	dir := t.TempDir()
	notADir := filepath.Join(dir, "file")
	os.WriteFile(notADir, nil, 0o644)
	for _, tc := range []struct {
		dataDir, config, key string
	}{
		{dir, `{"retain": 0}`, "retain"},
		{dir, `{"retain": -1}`, "retain"},
		{dir, `{"retain": "two"}`, "retain"},
		{dir, `{"segment_size_mb": 0}`, "segment_size_mb"},
		{dir, `{"segment_size_mb": 4096}`, "segment_size_mb"},
		{dir, `{"no_sync": 1}`, "no_sync"},
		{dir, `{"retian": 2}`, "retian"},
		{"", `{}`, "dir"},
		{dir, fmt.Sprintf(`{"dir": %q}`, filepath.Join(notADir, "sub")), "dir"},
	} {
		err := New().Configure(pluginsdk.ConfigureRequest{DataDir: tc.dataDir, Config: json.RawMessage(tc.config)})
		if err == nil || !strings.Contains(err.Error(), tc.key) {
			t.Errorf("config %s: error %v, want one naming %q", tc.config, err, tc.key)
		}
	}
}

func TestConfigDefaultsAndDir(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	dataDir, own := t.TempDir(), filepath.Join(t.TempDir(), "own")
	p := configure(t, dataDir, fmt.Sprintf(`{"dir": %q, "no_sync": true}`, own))
	if p.cfg.Retain != 2 || p.cfg.SegmentSizeMB != 8 || !p.cfg.NoSync {
		t.Fatalf("config = %+v", p.cfg)
	}
	openLogStore(t, p, "meta")
	if _, err := os.Stat(filepath.Join(own, "meta", "wal")); err != nil {
		t.Fatalf("config dir not used: %v", err)
	}
	if names := dirEntries(t, dataDir); len(names) != 0 {
		t.Fatalf("data dir used despite config dir: %v", names)
	}
}
