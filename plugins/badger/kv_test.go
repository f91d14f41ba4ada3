package badger

import (
	"errors"
	"fmt"
	"testing"

	bdb "github.com/dgraph-io/badger/v4"
)

// TestCommitGroup packs queued writes into transactions: whole writes
// only, in order, and refuses a write that cannot fit alone.
func TestCommitGroup(t *testing.T) {
	p := openPlugin(t, t.TempDir(), `{"memtable_size_mb": 1}`)
	k := p.kv
	limit := int(k.db.MaxBatchCount())

	mk := func(name string, n int) *write {
		w := &write{done: make(chan error, 1)}
		for i := range n {
			w.ops = append(w.ops, op{key: fmt.Appendf(nil, "%s/%06d", name, i), val: []byte(name)})
		}
		return w
	}
	// a and b fit together, c does not fit with them, d cannot fit at all,
	// e follows it.
	a, b, c := mk("a", limit/4), mk("b", limit/4), mk("c", limit*3/4)
	d, e := mk("d", limit+1), mk("e", 1)
	k.commitGroup([]*write{a, b, c, d, e})

	for name, w := range map[string]*write{"a": a, "b": b, "c": c, "e": e} {
		if err := <-w.done; err != nil {
			t.Errorf("write %s: %v", name, err)
		}
	}
	if err := <-d.done; !errors.Is(err, bdb.ErrTxnTooBig) {
		t.Errorf("oversized write: %v, want ErrTxnTooBig", err)
	}
	for _, w := range []*write{a, b, c, e} {
		for _, o := range []op{w.ops[0], w.ops[len(w.ops)-1]} {
			err := k.view(func(txn *bdb.Txn) error {
				_, err := txn.Get(o.key)
				return err
			})
			if err != nil {
				t.Errorf("Get(%s): %v", o.key, err)
			}
		}
	}
	err := k.view(func(txn *bdb.Txn) error {
		_, err := txn.Get(d.ops[0].key)
		return err
	})
	if !errors.Is(err, bdb.ErrKeyNotFound) {
		t.Errorf("a key of the refused write: %v, want ErrKeyNotFound", err)
	}
}

// TestVersionsAfterReopen: commit versions continue above the ones on
// disk, so a write after a reopen wins over the one before.
func TestVersionsAfterReopen(t *testing.T) {
	dir := t.TempDir()
	p := openPlugin(t, dir, "")
	s := stableStore(t, p, "g")
	for i := range 50 {
		if err := s.SetUint64([]byte("k"), uint64(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	p = openPlugin(t, dir, "")
	s = stableStore(t, p, "g")
	if v, err := s.GetUint64([]byte("k")); err != nil || v != 49 {
		t.Fatalf("after reopen: %d, %v, want 49", v, err)
	}
	if err := s.SetUint64([]byte("k"), 7); err != nil {
		t.Fatal(err)
	}
	if v, err := s.GetUint64([]byte("k")); err != nil || v != 7 {
		t.Errorf("write after reopen: read %d, %v, want 7", v, err)
	}
}
