package badger

import (
	"errors"
	"sync"
	"testing"

	"github.com/hashicorp/raft"
)

func TestBatchCorrupt(t *testing.T) {
	logs := entries("g", 1, 3, 1)
	good := appendBatch(nil, len(logs), func(dst []byte, i int) []byte { return appendLog(dst, logs[i]) })
	if b, err := parseBatch(good); err != nil || b.count != 3 {
		t.Fatalf("parseBatch(good) = %d entries, %v", b.count, err)
	}
	cases := map[string][]byte{
		"empty":         nil,
		"version":       append([]byte{1}, good[1:]...),
		"zero count":    {batchVersion, 0},
		"huge count":    {batchVersion, 0xff, 0xff, 0x03},
		"cut":           good[:len(good)-1],
		"trailing byte": append(good[:len(good):len(good)], 0),
	}
	for name, v := range cases {
		if _, err := parseBatch(v); !errors.Is(err, errCorrupt) {
			t.Errorf("%s: err = %v, want errCorrupt", name, err)
		}
	}
	b, _ := parseBatch(good)
	if _, err := b.entry(3); !errors.Is(err, errCorrupt) {
		t.Errorf("entry(3) of 3: err = %v, want errCorrupt", err)
	}
}

// TestStoreLogsReplaces: entries stored again at indexes already held
// replace them and only them, within one batch and across the ends of
// batches; of an index given twice in one call the last one counts.
func TestStoreLogsReplaces(t *testing.T) {
	p := openPlugin(t, t.TempDir(), "")
	s := logStore(t, p, "g")
	mustStore(t, s, entries("g", 1, 100, 1))
	mustStore(t, s, entries("g", 50, 60, 2))  // inside one batch
	mustStore(t, s, entries("g", 95, 110, 3)) // across the last one's end
	unordered := append(entries("g", 3, 3, 4), entries("g", 1, 2, 4)...)
	unordered = append(unordered, &raft.Log{Index: 2, Term: 9, Data: entryData("g", 2, 9)})
	mustStore(t, s, unordered)

	check := func(t *testing.T, s *LogStore) {
		wantBounds(t, s, 1, 110)
		for i, term := range map[uint64]uint64{1: 4, 2: 9, 3: 4, 4: 1, 49: 1, 50: 2, 60: 2, 61: 1, 94: 1, 95: 3, 110: 3} {
			wantEntry(t, s, "g", i, term)
		}
	}
	check(t, s)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	check(t, logStore(t, openPlugin(t, p.kv.db.Opts().Dir, ""), "g"))
}

// TestMigrateEntryKeys: a log written one key per entry, as this plugin
// did before batches, is moved into batches when its group is opened, in
// several transactions, and reads back whole.
func TestMigrateEntryKeys(t *testing.T) {
	dir := t.TempDir()
	p := openPlugin(t, dir, "")
	old := groupPrefix(kindLog, "g", indexLen)
	logs := entries("g", 5, 2500, 1)
	var ops []op
	for _, l := range logs {
		ops = append(ops, op{key: logKey(old, l.Index), val: appendLog(nil, l)})
	}
	if err := p.kv.apply(ops); err != nil {
		t.Fatal(err)
	}
	s := logStore(t, p, "g")
	wantBounds(t, s, 5, 2500)
	for _, i := range []uint64{5, 1028, 1029, 2500} {
		wantEntry(t, s, "g", i, 1)
	}
	wantMissing(t, s, 4, 2501)
	if keys, err := p.keysUnder(old, 1); err != nil || len(keys) != 0 {
		t.Fatalf("entry keys left after the move: %d, %v", len(keys), err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	s = logStore(t, openPlugin(t, dir, ""), "g")
	wantBounds(t, s, 5, 2500)
	wantEntry(t, s, "g", 1800, 1)
}

// TestReadsDuringCompaction: while the head of one batch is trimmed again
// and again (each time the rest of it moves to a new key), reads of the
// entries that stay always find them.
func TestReadsDuringCompaction(t *testing.T) {
	p := openPlugin(t, t.TempDir(), "")
	s := logStore(t, p, "g")
	mustStore(t, s, entries("g", 1, 1000, 1)) // one batch
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for r := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := uint64(r); ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				i := 901 + n%100 // never trimmed
				var l raft.Log
				if err := s.GetLog(i, &l); err != nil {
					t.Errorf("GetLog(%d): %v", i, err)
					return
				}
			}
		}()
	}
	for to := uint64(1); to <= 900; to += 3 {
		mustDelete(t, s, 1, to)
	}
	close(stop)
	wg.Wait()
	wantBounds(t, s, 899, 1000) // the last trim was to 898
	wantEntry(t, s, "g", 899, 1)
}
