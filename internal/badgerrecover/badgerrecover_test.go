package badgerrecover

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/hashicorp/go-hclog"
)

// TestEmptyLogsOpen leaves the empty .mem and .vlog files a power loss can
// leave, and checks that Badger refuses them and opens, with its data,
// once RemoveEmptyLogs has run.
func TestEmptyLogsOpen(t *testing.T) {
	dir := t.TempDir()
	opts := badger.DefaultOptions(dir).WithLogger(nil).WithMemTableSize(1 << 20).WithValueThreshold(1 << 10).WithValueLogFileSize(1 << 20)
	db, err := badger.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(txn *badger.Txn) error { return txn.Set([]byte("k"), []byte("v")) }); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"00007.mem", "000009.vlog"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if db, err := badger.Open(opts); err == nil {
			_ = db.Close()
			t.Fatalf("badger opened with an empty %s: the workaround is no longer needed", name)
		}
		// The failed open sized the file; empty it again.
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		removed, err := RemoveEmptyLogs(dir, hclog.NewNullLogger())
		if err != nil || !slices.Equal(removed, []string{name}) {
			t.Fatalf("removed %v, %v; want [%s]", removed, err, name)
		}
		db, err := badger.Open(opts)
		if err != nil {
			t.Fatalf("open after removing %s: %v", name, err)
		}
		err = db.View(func(txn *badger.Txn) error {
			_, err := txn.Get([]byte("k"))
			return err
		})
		_ = db.Close()
		if err != nil {
			t.Fatalf("k after removing %s: %v", name, err)
		}
	}
}

// TestRemoveEmptyLogsKeepsData leaves files with content, other files and
// a missing dir alone.
func TestRemoveEmptyLogsKeepsData(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{"00001.mem": "x", "000002.vlog": "y", "MANIFEST": "", "000003.sst": ""} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if removed, err := RemoveEmptyLogs(dir, hclog.NewNullLogger()); err != nil || len(removed) != 0 {
		t.Fatalf("removed %v, %v", removed, err)
	}
	if removed, err := RemoveEmptyLogs(filepath.Join(dir, "none"), hclog.NewNullLogger()); err != nil || removed != nil {
		t.Fatalf("missing dir: %v, %v", removed, err)
	}
}
