package damage

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestFlipBitOf(t *testing.T) {
	dir := t.TempDir()
	orig := []byte("head-the data-tail")
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sub", "f"), orig, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "other"), []byte("nothing here"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := FlipBitOf(t, dir, []byte("the data")); got != filepath.Join(dir, "sub", "f") {
		t.Fatalf("flipped in %s", got)
	}
	b, err := os.ReadFile(filepath.Join(dir, "sub", "f"))
	if err != nil {
		t.Fatal(err)
	}
	diff := 0
	for i := range b {
		if b[i] != orig[i] {
			diff++
		}
	}
	if len(b) != len(orig) || diff != 1 || bytes.Contains(b, []byte("the data")) {
		t.Fatalf("after the flip: %q", b)
	}
}
