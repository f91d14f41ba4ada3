// Package damage damages files on disk for the tests of how Strata finds
// corruption: it flips a bit where known data is stored.
package damage

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// FlipBitOf flips one bit inside the one occurrence of data among the
// files under dir, and returns the file's path. It fails tb if data is
// in no file or in more than one.
func FlipBitOf(tb testing.TB, dir string, data []byte) string {
	tb.Helper()
	var found []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		i := bytes.Index(b, data)
		if i < 0 {
			return nil
		}
		found = append(found, path)
		b[i+len(data)/2] ^= 0x04
		return os.WriteFile(path, b, 0o600)
	})
	if err != nil {
		tb.Fatal(err)
	}
	if len(found) != 1 {
		tb.Fatalf("data found in %d files under %s: %v", len(found), dir, found)
	}
	return found[0]
}
