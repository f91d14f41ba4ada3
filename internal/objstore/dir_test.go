package objstore

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDirPartialFile checks that a write goes to a partial file beside the
// target, which List never shows, and that leftovers of a crash are
// ignored.
func TestDirPartialFile(t *testing.T) {
	root := t.TempDir()
	d, err := NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	// A crash leftover.
	if err := os.MkdirAll(filepath.Join(root, "g"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "g", "old.123"+PartialSuffix), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}

	w, err := d.Create(ctxT(t), "g/snap")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(randBytes(dirBufferSize+10, 8)); err != nil {
		t.Fatal(err)
	}
	partials, _ := filepath.Glob(filepath.Join(root, "g", "snap.*"+PartialSuffix))
	if len(partials) != 1 {
		t.Fatalf("partial files while writing: %v", partials)
	}
	if ks := keys(t, d, ""); len(ks) != 0 {
		t.Fatalf("List while writing = %v", ks)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if ks := keys(t, d, ""); !equal(ks, []string{"g/snap"}) {
		t.Fatalf("List = %v", ks)
	}
	if _, err := os.Stat(partials[0]); !os.IsNotExist(err) {
		t.Fatalf("partial file still there after Close: %v", err)
	}
	if got := len(get(t, d, "g/snap")); got != dirBufferSize+10 {
		t.Fatalf("read %d bytes", got)
	}
}

func TestDirString(t *testing.T) {
	root := t.TempDir()
	d, err := NewDir(root + "/x/")
	if err != nil {
		t.Fatal(err)
	}
	if d.String() != filepath.Join(root, "x") {
		t.Fatalf("String() = %q", d.String())
	}
	if _, err := NewDir(""); err == nil {
		t.Fatal("NewDir(\"\") succeeded")
	}
	// A directory store cannot be made where a file is.
	f := filepath.Join(root, "file")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := NewDir(f); err == nil || !strings.Contains(err.Error(), "file") {
		t.Fatalf("NewDir on a file: %v", err)
	}
}
