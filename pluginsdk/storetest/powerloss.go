package storetest

import (
	"testing"

	"github.com/stratadb/strata/pluginsdk/storetest/lazyfs"
)

// powerLoss is killDurability with the plugin's data dir on a lazyfs
// mount: after the kill -9 every write the plugin did not fsync is thrown
// away, as a power failure throws away the page cache, and everything the
// calls acknowledged must still be there. It skips where FUSE cannot be
// mounted (lazyfs.Available).
func (s Suite) powerLoss(t *testing.T) {
	if err := lazyfs.Available(); err != nil {
		t.Skip(err)
	}
	under, mnt := t.TempDir(), t.TempDir()
	fsys := mountLazy(t, under, mnt)
	conn := Launch(t, s.Binary, mnt, s.Config)
	group := newGroup("powerloss")
	d := writeDurable(t, conn, group)
	killHard(t, conn)
	lost, err := fsys.Crash()
	failOn(t, "crash", err)
	t.Logf("power loss threw away %d bytes the plugin wrote and did not fsync", lost)
	mountLazy(t, under, mnt)
	d.check(t, Launch(t, s.Binary, mnt, s.Config), group)
}

// mountLazy mounts a lazyfs of under at mnt until the test ends.
func mountLazy(t *testing.T, under, mnt string) *lazyfs.FS {
	t.Helper()
	fsys, err := lazyfs.Mount(under, mnt)
	failOn(t, "mount lazyfs", err)
	t.Cleanup(func() { _ = fsys.Unmount() })
	return fsys
}
