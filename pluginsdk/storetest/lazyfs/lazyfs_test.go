package lazyfs_test

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"unsafe"

	"github.com/stratadb/strata/pluginsdk/storetest/lazyfs"
)

// mount mounts a lazyfs for the test, skipping where FUSE is not
// available, and returns it with its mount point and the directory
// underneath.
func mount(t *testing.T) (*lazyfs.FS, string, string) {
	t.Helper()
	if err := lazyfs.Available(); err != nil {
		t.Skip(err)
	}
	under, mnt := t.TempDir(), t.TempDir()
	f, err := lazyfs.Mount(under, mnt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Unmount() })
	return f, mnt, under
}

func write(t *testing.T, f *os.File, data string, off int64) {
	t.Helper()
	if _, err := f.WriteAt([]byte(data), off); err != nil {
		t.Fatal(err)
	}
}

func crash(t *testing.T, f *lazyfs.FS) int64 {
	t.Helper()
	lost, err := f.Crash()
	if err != nil {
		t.Fatal(err)
	}
	return lost
}

func content(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCrashUndoesUnsyncedWrites(t *testing.T) {
	fsys, mnt, under := mount(t)
	f, err := os.Create(filepath.Join(mnt, "log"))
	if err != nil {
		t.Fatal(err)
	}
	write(t, f, "synced-", 0)
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	write(t, f, "S", 0)        // overwrites synced data
	write(t, f, "unsynced", 7) // appends
	if got := content(t, filepath.Join(mnt, "log")); got != "Synced-unsynced" {
		t.Fatalf("before the crash, readers see %q; want every write", got)
	}
	f.Close()
	if lost := crash(t, fsys); lost != 9 {
		t.Fatalf("crash lost %d bytes; want 9", lost)
	}
	if got := content(t, filepath.Join(under, "log")); got != "synced-" {
		t.Fatalf("after the crash the file holds %q; want the synced %q", got, "synced-")
	}
}

func TestCrashKeepsRenamedSyncedFile(t *testing.T) {
	fsys, mnt, under := mount(t)
	tmp := filepath.Join(mnt, "meta.tmp")
	if err := os.WriteFile(tmp, []byte("v1"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, _ := os.OpenFile(tmp, os.O_RDWR, 0)
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.Rename(tmp, filepath.Join(mnt, "meta")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mnt, "never-synced"), []byte("gone"), 0o644); err != nil {
		t.Fatal(err)
	}
	crash(t, fsys)
	if got := content(t, filepath.Join(under, "meta")); got != "v1" {
		t.Fatalf("renamed synced file = %q; want v1", got)
	}
	if got := content(t, filepath.Join(under, "never-synced")); got != "" {
		t.Fatalf("a file never synced holds %q after the crash; want it empty", got)
	}
}

func TestCrashUndoesTruncate(t *testing.T) {
	fsys, mnt, under := mount(t)
	path := filepath.Join(mnt, "seg")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	write(t, f, "0123456789", 0)
	_ = f.Sync()
	if err := f.Truncate(4); err != nil {
		t.Fatal(err)
	}
	write(t, f, "xy", 6) // regrows over a hole
	if err := os.Truncate(path, 2); err != nil {
		t.Fatal(err)
	}
	f.Close()
	crash(t, fsys)
	if got := content(t, filepath.Join(under, "seg")); got != "0123456789" {
		t.Fatalf("after the crash = %q; want the synced 0123456789", got)
	}
}

func TestCrashUndoesUnsyncedMmapWrites(t *testing.T) {
	fsys, mnt, under := mount(t)
	mapped := func(name string) []byte {
		f, err := os.Create(filepath.Join(mnt, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := f.Truncate(4096); err != nil {
			t.Fatal(err)
		}
		_ = f.Sync()
		m, err := syscall.Mmap(int(f.Fd()), 0, 4096, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
		if err != nil {
			t.Fatal(err)
		}
		copy(m, "mapped")
		return m
	}
	synced, unsynced := mapped("synced"), mapped("unsynced")
	if _, _, e := syscall.Syscall(syscall.SYS_MSYNC, uintptr(unsafe.Pointer(&synced[0])), 4096, syscall.MS_SYNC); e != 0 {
		t.Fatal(e)
	}
	// Unmapped first, or the mount stays busy; the kernel may write the
	// unsynced page back before the crash, but not fsync it.
	_ = syscall.Munmap(synced)
	_ = syscall.Munmap(unsynced)
	crash(t, fsys)
	if got := content(t, filepath.Join(under, "synced")); got[:6] != "mapped" {
		t.Fatalf("msynced mapping holds %q after the crash; want it kept", got[:6])
	}
	if got := content(t, filepath.Join(under, "unsynced")); !bytes.Equal([]byte(got), make([]byte, 4096)) {
		t.Fatalf("unsynced mapping holds %q after the crash; want zeros", got[:6])
	}
}

func TestWritesFailAfterCrash(t *testing.T) {
	fsys, mnt, _ := mount(t)
	f, err := os.Create(filepath.Join(mnt, "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	done := make(chan error, 1)
	go func() { _, err := fsys.Crash(); done <- err }()
	// The mount stays busy while f is open, so the crash is under way
	// (writes refused) until f is closed.
	for fsys.Unsynced() >= 0 {
		if _, err := f.WriteAt([]byte("x"), 0); err != nil {
			break
		}
	}
	f.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestUnmountKeepsEverything(t *testing.T) {
	fsys, mnt, under := mount(t)
	if err := os.WriteFile(filepath.Join(mnt, "f"), []byte("kept"), 0o644); err != nil {
		t.Fatal(err)
	}
	if fsys.Unsynced() != 1 {
		t.Fatalf("unsynced files = %d; want 1", fsys.Unsynced())
	}
	if err := fsys.Unmount(); err != nil {
		t.Fatal(err)
	}
	if got := content(t, filepath.Join(under, "f")); got != "kept" {
		t.Fatalf("after unmount = %q; want kept", got)
	}
}
