package badger

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stratadb/strata/internal/testlog"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/pluginsdk"
)

// openPlugin configures a Plugin on dir with the given JSON config and
// closes it at the end of the test (Close is idempotent).
func openPlugin(t testing.TB, dir, config string) *Plugin {
	t.Helper()
	p := New()
	err := p.Configure(pluginsdk.ConfigureRequest{
		DataDir: dir,
		Config:  json.RawMessage(config),
		Logger:  testlog.Logger(t, "test", hclog.Warn),
	})
	if err != nil {
		t.Fatalf("Configure(%s): %v", config, err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return p
}

func logStore(t testing.TB, p *Plugin, group string) *LogStore {
	t.Helper()
	s, err := p.LogStore(group)
	if err != nil {
		t.Fatalf("LogStore(%q): %v", group, err)
	}
	return s.(*LogStore)
}

func stableStore(t testing.TB, p *Plugin, group string) raft.StableStore {
	t.Helper()
	s, err := p.StableStore(group)
	if err != nil {
		t.Fatalf("StableStore(%q): %v", group, err)
	}
	return s
}

// entries returns logs [first, last] of term, with data naming group and
// index.
func entries(group string, first, last, term uint64) []*raft.Log {
	var logs []*raft.Log
	for i := first; i <= last; i++ {
		logs = append(logs, &raft.Log{Index: i, Term: term, Type: raft.LogCommand, Data: entryData(group, i, term)})
	}
	return logs
}

func entryData(group string, index, term uint64) []byte {
	return fmt.Appendf(nil, "%s/%d/%d", group, index, term)
}

func mustStore(t testing.TB, s raft.LogStore, logs []*raft.Log) {
	t.Helper()
	if err := s.StoreLogs(logs); err != nil {
		t.Fatalf("StoreLogs: %v", err)
	}
}

func mustDelete(t testing.TB, s raft.LogStore, lo, hi uint64) {
	t.Helper()
	if err := s.DeleteRange(lo, hi); err != nil {
		t.Fatalf("DeleteRange(%d, %d): %v", lo, hi, err)
	}
}

func wantBounds(t testing.TB, s raft.LogStore, first, last uint64) {
	t.Helper()
	f, err1 := s.FirstIndex()
	l, err2 := s.LastIndex()
	if err := errors.Join(err1, err2); err != nil {
		t.Fatalf("bounds: %v", err)
	}
	if f != first || l != last {
		t.Errorf("FirstIndex, LastIndex = %d, %d, want %d, %d", f, l, first, last)
	}
}

// wantEntry checks the entry at index holds what entries(group, ...) wrote.
func wantEntry(t testing.TB, s raft.LogStore, group string, index, term uint64) {
	t.Helper()
	var l raft.Log
	if err := s.GetLog(index, &l); err != nil {
		t.Fatalf("GetLog(%d): %v", index, err)
	}
	if l.Index != index || l.Term != term || !bytes.Equal(l.Data, entryData(group, index, term)) {
		t.Errorf("GetLog(%d) = index %d term %d data %q, want group %s term %d", index, l.Index, l.Term, l.Data, group, term)
	}
}

func wantMissing(t testing.TB, s raft.LogStore, indexes ...uint64) {
	t.Helper()
	for _, i := range indexes {
		var l raft.Log
		if err := s.GetLog(i, &l); err != raft.ErrLogNotFound {
			t.Errorf("GetLog(%d) = %v, want raft.ErrLogNotFound", i, err)
		}
	}
}

func TestGroupIsolation(t *testing.T) {
	p := openPlugin(t, t.TempDir(), "")
	// "a" is a prefix of "ab": the length prefix keeps them apart.
	a, ab := logStore(t, p, "a"), logStore(t, p, "ab")
	mustStore(t, a, entries("a", 1, 5, 1))
	mustStore(t, ab, entries("ab", 3, 10, 2))

	wantBounds(t, a, 1, 5)
	wantBounds(t, ab, 3, 10)
	wantEntry(t, a, "a", 4, 1)
	wantEntry(t, ab, "ab", 4, 2)
	wantMissing(t, a, 6, 10)
	wantMissing(t, ab, 1, 2)

	mustDelete(t, a, 1, 10)
	wantBounds(t, a, 0, 0)
	wantBounds(t, ab, 3, 10)
	wantEntry(t, ab, "ab", 3, 2)

	sa, sab := stableStore(t, p, "a"), stableStore(t, p, "ab")
	if err := sa.Set([]byte("bk"), []byte("from a")); err != nil {
		t.Fatal(err)
	}
	// group "a" + key "bk" and group "ab" + key "k" concatenate alike.
	if _, err := sab.Get([]byte("k")); err != pluginsdk.ErrKeyNotFound {
		t.Errorf("Get in other group = %v, want ErrKeyNotFound", err)
	}
	if err := sab.SetUint64([]byte("bk"), 7); err != nil {
		t.Fatal(err)
	}
	if v, err := sa.Get([]byte("bk")); err != nil || string(v) != "from a" {
		t.Errorf("Get = %q, %v, want %q", v, err, "from a")
	}
	// Log and stable keys of one group do not meet either.
	wantMissing(t, logStore(t, p, "bk"), 0)
}

func TestStableMissing(t *testing.T) {
	p := openPlugin(t, t.TempDir(), "")
	s := stableStore(t, p, "g")
	if v, err := s.Get([]byte("nope")); err != pluginsdk.ErrKeyNotFound || v != nil {
		t.Errorf("Get = %q, %v, want nil, ErrKeyNotFound", v, err)
	}
	v, err := s.GetUint64([]byte("CurrentTerm"))
	if v != 0 || err == nil || err.Error() != "not found" {
		// hashicorp/raft (api.go, raft.go) accepts exactly this text.
		t.Errorf("GetUint64 = %d, %v, want 0, \"not found\"", v, err)
	}
	if err := s.Set([]byte("empty"), nil); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Get([]byte("empty")); err != nil || v == nil || len(v) != 0 {
		t.Errorf("Get of an empty value = %#v, %v, want empty and no error", v, err)
	}
	if _, err := s.GetUint64([]byte("empty")); !errors.Is(err, errCorrupt) {
		t.Errorf("GetUint64 of a 0-byte value = %v, want errCorrupt", err)
	}
}

func TestPersistence(t *testing.T) {
	dir := t.TempDir()
	p := openPlugin(t, dir, `{"sync_writes": true}`)
	for _, g := range []string{"g1", "g2"} {
		mustStore(t, logStore(t, p, g), entries(g, 1, 50, 3))
		s := stableStore(t, p, g)
		if err := s.SetUint64([]byte("CurrentTerm"), 3); err != nil {
			t.Fatal(err)
		}
		if err := s.Set([]byte("LastVoteCand"), []byte(g)); err != nil {
			t.Fatal(err)
		}
	}
	mustDelete(t, logStore(t, p, "g1"), 1, 20)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}

	p = openPlugin(t, dir, "")
	g1, g2 := logStore(t, p, "g1"), logStore(t, p, "g2")
	wantBounds(t, g1, 21, 50)
	wantBounds(t, g2, 1, 50)
	wantMissing(t, g1, 20)
	for i := uint64(21); i <= 50; i++ {
		wantEntry(t, g1, "g1", i, 3)
	}
	wantEntry(t, g2, "g2", 1, 3)
	for _, g := range []string{"g1", "g2"} {
		s := stableStore(t, p, g)
		if v, err := s.GetUint64([]byte("CurrentTerm")); err != nil || v != 3 {
			t.Errorf("%s: GetUint64 = %d, %v, want 3", g, v, err)
		}
		if v, err := s.Get([]byte("LastVoteCand")); err != nil || string(v) != g {
			t.Errorf("%s: Get = %q, %v, want %q", g, v, err, g)
		}
	}
}

func TestBoundsCache(t *testing.T) {
	dir := t.TempDir()
	p := openPlugin(t, dir, "")
	s := logStore(t, p, "g")
	wantBounds(t, s, 0, 0)

	mustStore(t, s, entries("g", 1, 100, 1))
	wantBounds(t, s, 1, 100)
	mustDelete(t, s, 1, 10) // head, as compaction does
	wantBounds(t, s, 11, 100)
	mustDelete(t, s, 90, 200) // tail, as a conflict truncation does
	wantBounds(t, s, 11, 89)
	mustDelete(t, s, 40, 60) // middle: a hole, bounds stay
	wantBounds(t, s, 11, 89)
	mustDelete(t, s, 0, 5) // outside
	mustDelete(t, s, 95, 99)
	mustDelete(t, s, 30, 20) // empty range
	wantBounds(t, s, 11, 89)

	// Head deletes reaching into the hole find the first entry past it.
	mustDelete(t, s, 11, 45)
	wantBounds(t, s, 61, 89)
	// Tail deletes reaching below a hole find the last entry before it.
	mustStore(t, s, entries("g", 30, 35, 2))
	mustDelete(t, s, 40, 89)
	wantBounds(t, s, 30, 35)
	mustStore(t, s, entries("g", 36, 40, 2))
	wantBounds(t, s, 30, 40)

	check := func(t *testing.T, s *LogStore) {
		wantBounds(t, s, 30, 40)
		for i := uint64(30); i <= 40; i++ {
			wantEntry(t, s, "g", i, 2)
		}
		wantMissing(t, s, 29, 41, 61, 89)
	}
	check(t, s)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	p = openPlugin(t, dir, "")
	s = logStore(t, p, "g")
	check(t, s)

	mustDelete(t, s, 0, 1<<64-1)
	wantBounds(t, s, 0, 0)
	mustStore(t, s, entries("g", 500, 501, 3)) // restore after a snapshot
	wantBounds(t, s, 500, 501)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	p = openPlugin(t, dir, "")
	wantBounds(t, logStore(t, p, "g"), 500, 501)
}

// TestBigBatches drives both fallbacks: a StoreLogs too big for one
// transaction (WriteBatch) and a DeleteRange of more batches than one
// transaction may delete.
func TestBigBatches(t *testing.T) {
	dir := t.TempDir()
	// A 1 MiB memtable caps a transaction at about 157 KB and ~1600 keys;
	// batches are cut at half of the value threshold (78 KB), so they stay
	// in the LSM tree and count in full.
	const config = `{"memtable_size_mb": 1, "sync_writes": false}`
	p := openPlugin(t, dir, config)
	s := logStore(t, p, "g")

	big := make([]*raft.Log, 64)
	for i := range big {
		data := bytes.Repeat([]byte{byte(i)}, 8<<10)
		big[i] = &raft.Log{Index: uint64(i + 1), Term: 1, Data: data}
	}
	mustStore(t, s, big) // 512 KB: a WriteBatch
	wantBounds(t, s, 1, 64)

	// One batch per call: 2000 keys.
	for i := uint64(65); i <= 2064; i++ {
		mustStore(t, s, []*raft.Log{{Index: i, Term: 2, Data: []byte("x")}})
	}
	if max := s.kv.maxDeletes(len(s.prefix) + indexLen); max >= 1500 {
		t.Fatalf("a transaction deletes %d keys; the test needs fewer", max)
	}
	wantBounds(t, s, 1, 2064)
	checkSmall := func(i uint64) {
		var l raft.Log
		if err := s.GetLog(i, &l); err != nil || l.Term != 2 || string(l.Data) != "x" {
			t.Errorf("GetLog(%d) = %+v, %v", i, l, err)
		}
	}
	checkSmall(65)
	checkSmall(2064)

	mustDelete(t, s, 1, 1500) // ~1500 batches: several transactions
	wantBounds(t, s, 1501, 2064)
	mustDelete(t, s, 1800, 2064)
	wantBounds(t, s, 1501, 1799)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}

	p = openPlugin(t, dir, config)
	s = logStore(t, p, "g")
	wantBounds(t, s, 1501, 1799)
	wantMissing(t, s, 64, 1500, 1800)
	checkSmall(1501)
	checkSmall(1799)

	// Again for the head: 64 big entries in one call, read back after a
	// reopen.
	for _, l := range big {
		l.Index += 10000
	}
	mustStore(t, s, big)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	p = openPlugin(t, dir, config)
	s = logStore(t, p, "g")
	wantBounds(t, s, 1501, 10064)
	for _, w := range big {
		var l raft.Log
		if err := s.GetLog(w.Index, &l); err != nil || !bytes.Equal(l.Data, w.Data) {
			t.Fatalf("GetLog(%d) = %d bytes, %v; want %d bytes", w.Index, len(l.Data), err, len(w.Data))
		}
	}
}

func TestConcurrentGroups(t *testing.T) {
	p := openPlugin(t, t.TempDir(), "")
	const groups, batches, batch = 6, 20, 10
	var wg sync.WaitGroup
	errs := make(chan error, groups)
	for g := range groups {
		name := fmt.Sprintf("group-%d", g)
		wg.Go(func() {
			if err := churn(p, name, batches, batch); err != nil {
				errs <- fmt.Errorf("%s: %w", name, err)
			}
		})
	}
	// A reader that keeps asking for the bounds of every group meanwhile.
	stop := make(chan struct{})
	var readers sync.WaitGroup
	readers.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			for g := range groups {
				s, _ := p.LogStore(fmt.Sprintf("group-%d", g))
				first, _ := s.FirstIndex()
				last, _ := s.LastIndex()
				if first > last {
					errs <- fmt.Errorf("group-%d: first %d > last %d", g, first, last)
					return
				}
			}
		}
	})
	wg.Wait()
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	// Each group kept its last two batches.
	last := uint64(batches * batch)
	for g := range groups {
		name := fmt.Sprintf("group-%d", g)
		s := logStore(t, p, name)
		wantBounds(t, s, last-2*batch+1, last)
		for i := last - 2*batch + 1; i <= last; i++ {
			wantEntry(t, s, name, i, 1)
		}
	}
}

// churn appends batches to a group's log, trimming it to two batches as it
// goes and reading back what it wrote.
func churn(p *Plugin, group string, batches, batch int) error {
	ls, err := p.LogStore(group)
	if err != nil {
		return err
	}
	st, err := p.StableStore(group)
	if err != nil {
		return err
	}
	n := uint64(batch)
	for b := range uint64(batches) {
		if err := ls.StoreLogs(entries(group, b*n+1, (b+1)*n, 1)); err != nil {
			return err
		}
		if err := st.SetUint64([]byte("applied"), (b+1)*n); err != nil {
			return err
		}
		if b >= 2 {
			if err := ls.DeleteRange(0, (b-1)*n); err != nil {
				return err
			}
		}
		var l raft.Log
		if err := ls.GetLog((b+1)*n, &l); err != nil {
			return err
		}
		if !bytes.Equal(l.Data, entryData(group, (b+1)*n, 1)) {
			return fmt.Errorf("entry %d holds %q", (b+1)*n, l.Data)
		}
		if v, err := st.GetUint64([]byte("applied")); err != nil || v != (b+1)*n {
			return fmt.Errorf("applied = %d, %v", v, err)
		}
	}
	return nil
}

func TestLifecycle(t *testing.T) {
	p := New()
	if _, err := p.LogStore("g"); !errors.Is(err, ErrNotConfigured) {
		t.Errorf("LogStore before Configure = %v, want ErrNotConfigured", err)
	}
	if err := p.Configure(pluginsdk.ConfigureRequest{}); err == nil || !contains(err, `"dir"`) {
		t.Errorf("Configure with no dir = %v, want an error naming \"dir\"", err)
	}
	dir := t.TempDir()
	if err := p.Configure(pluginsdk.ConfigureRequest{DataDir: dir}); err != nil {
		t.Fatal(err)
	}
	if err := p.Configure(pluginsdk.ConfigureRequest{DataDir: dir}); err == nil {
		t.Error("second Configure succeeded")
	}
	// The DB directory is locked while open.
	other := New()
	if err := other.Configure(pluginsdk.ConfigureRequest{DataDir: dir}); err == nil {
		other.Close()
		t.Error("a second Plugin opened the same dir")
	}
	s1, _ := p.LogStore("g")
	s2, _ := p.LogStore("g")
	if s1 != s2 {
		t.Error("LogStore returned two stores for one group")
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if _, err := p.StableStore("g"); !errors.Is(err, ErrClosed) {
		t.Errorf("StableStore after Close = %v, want ErrClosed", err)
	}
	if err := s1.StoreLog(&raft.Log{Index: 1}); err == nil {
		t.Error("StoreLog after Close succeeded")
	}
}

func TestBadgerLogLevels(t *testing.T) {
	var buf bytes.Buffer
	l := badgerLogger{l: hclog.New(&hclog.LoggerOptions{Level: hclog.Debug, Output: &buf})}
	l.Infof("flushed table %d\n", 7)
	l.Debugf("per-write noise")
	l.Errorf("bad %s", "thing")
	out := buf.String()
	for _, want := range []string{"[DEBUG] flushed table 7", "[ERROR] bad thing"} {
		if !bytes.Contains(buf.Bytes(), []byte(want)) {
			t.Errorf("log output lacks %q:\n%s", want, out)
		}
	}
	if bytes.Contains(buf.Bytes(), []byte("noise")) {
		t.Errorf("Badger debug line logged at debug level:\n%s", out)
	}
}

func contains(err error, s string) bool {
	return err != nil && bytes.Contains([]byte(err.Error()), []byte(s))
}

// TestReopenAfterEmptyLogs opens a store in which a power loss left empty
// memtable and value log files (dgraph-io/badger#2207).
func TestReopenAfterEmptyLogs(t *testing.T) {
	dir := t.TempDir()
	p := openPlugin(t, dir, "")
	mustStore(t, logStore(t, p, "g"), entries("g", 1, 10, 2))
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"00099.mem", "000099.vlog"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p = openPlugin(t, dir, "")
	wantBounds(t, logStore(t, p, "g"), 1, 10)
	wantEntry(t, logStore(t, p, "g"), "g", 10, 2)
}
