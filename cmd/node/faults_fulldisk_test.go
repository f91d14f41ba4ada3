//go:build faults

package main

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestFullDisk puts n3's data dir on a 600 MiB tmpfs and fills it under
// an R3 stream to 100 MiB free, below the default storage.min_free
// (256 MiB): n3 refuses Raft log writes, publishes go on through the other
// two, n3's /healthz says why, nothing crashes the node, and once the
// space is freed n3 recovers on its own and holds the same history as the
// leader, with every acknowledged message there once.
func TestFullDisk(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	full := filepath.Join(dir, "n3")
	if err := os.Mkdir(full, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", full, "tmpfs", 0, "size=600m"); err != nil {
		t.Skipf("mount tmpfs: %v", err)
	}
	// Cleanups run last-in first-out: the servers go before the mount.
	t.Cleanup(func() { _ = syscall.Unmount(full, syscall.MNT_DETACH) })
	servers := newFlagClusterIn(t, dir, 3)
	c := ordersCluster(t, servers)
	a := &acked{ids: map[string]uint64{}}
	publishSyncIDs(t, c, a, 0, 300)

	filler := fillDisk(t, full, 100<<20)
	publishSyncIDs(t, c, a, 300, 600)
	n3 := servers[2]
	body := waitUnhealthy(t, n3, "disk almost full")
	t.Logf("n3 /healthz with its disk full: %s", body)
	if !n3.running() {
		t.Fatal("n3 exited with its disk full")
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	waitFormed(t, servers)
	publishSyncIDs(t, c, a, 600, 650)
	checkAll(t, c, a)
	if n := diverged(t, servers, "ORDERS"); n != 0 {
		t.Fatalf("%d replicas diverged from the leader after the disk was freed", n)
	}
}

// fillDisk writes a file under dir until its file system has leave
// bytes free, and returns its path.
func fillDisk(t *testing.T, dir string, leave uint64) string {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	free := st.Bavail * uint64(st.Bsize)
	if free <= leave {
		t.Fatalf("%s has %d bytes free, not more than %d", dir, free, leave)
	}
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	for left := free - leave; left > 0; {
		n := min(uint64(len(buf)), left)
		if _, err := f.Write(buf[:n]); err != nil {
			t.Fatal(err)
		}
		left -= n
	}
	return path
}
