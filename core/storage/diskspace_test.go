package storage

import (
	"errors"
	"strings"
	"testing"
)

// TestDiskFullRefusesLogWrites: below the free space reserve, a Raft log
// write fails with ErrDiskFull and stores nothing, and DiskFull says why;
// with room again, writes go on.
func TestDiskFullRefusesLogWrites(t *testing.T) {
	cfg := testConfig(t, "file", "file")
	cfg.MinFreeBytes = 1 << 62 // more than any disk here has free
	h := openHost(t, cfg)
	st := h.Stores("g1")
	err := st.Log.StoreLogs(batch(1, 10))
	if !errors.Is(err, ErrDiskFull) || !strings.Contains(err.Error(), "below storage.min_free") {
		t.Fatalf("StoreLogs below the reserve = %v; want ErrDiskFull", err)
	}
	if last, err := st.Log.LastIndex(); err != nil || last != 0 {
		t.Fatalf("LastIndex after a refused write = %d, %v; want 0", last, err)
	}
	if err := h.DiskFull(); !errors.Is(err, ErrDiskFull) {
		t.Fatalf("DiskFull() = %v", err)
	}

	h.cfg.MinFreeBytes = 1 << 20
	if err := h.DiskFull(); err != nil {
		t.Fatalf("DiskFull() with room = %v", err)
	}
	if err := st.Log.StoreLogs(batch(1, 10)); err != nil {
		t.Fatal(err)
	}
}
