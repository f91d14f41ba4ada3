// Package lazyfs is a file system for power-loss tests, after LazyFS
// (the one Jepsen uses): a FUSE loopback mount over a directory whose
// writes reach the directory at once, so every reader sees them, but are
// remembered until the file is fsynced. Crash throws away every write not
// fsynced yet, the way a power failure throws away the page cache.
//
// It decorates any program, a storage plugin or a whole node, without
// that program knowing: the program's data dir is the mount point.
//
//	fsys, err := lazyfs.Mount(under, mnt)
//	... run the program on mnt, kill -9 it ...
//	lost, err := fsys.Crash()   // unsynced writes undone, then unmounted
//	fsys, err = lazyfs.Mount(under, mnt) // the "rebooted" disk
//
// What it models: file data (write, truncate, fallocate, and writes through
// a shared mmap, which reach it when the kernel writes the pages back) is
// durable only once fsync or fdatasync returned for the file. What it does
// not: metadata. Creating, renaming and removing files are durable at once,
// so a file created and never synced survives a crash, empty.
//
// Mounting needs FUSE: /dev/fuse and root (no fusermount is used).
// Available says whether this machine has both.
package lazyfs

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// ErrUnavailable is returned by Available when FUSE cannot be mounted here.
var ErrUnavailable = errors.New("lazyfs: FUSE is not available")

// Available reports nil when this process can mount a lazyfs, else an
// error wrapping ErrUnavailable that says why.
func Available() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("%w: mounting without fusermount needs root", ErrUnavailable)
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return nil
}

// FS is one mounted lazyfs.
type FS struct {
	under, mnt string
	server     *fuse.Server

	mu      sync.Mutex
	crashed bool
	pending map[uint64]*undo // by the underlying file's inode number
}

// Mount serves the directory under at the directory mnt (both must exist)
// until Crash or Unmount.
func Mount(under, mnt string) (*FS, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	f := &FS{under: under, mnt: mnt, pending: map[uint64]*undo{}}
	var st syscall.Stat_t
	if err := syscall.Stat(under, &st); err != nil {
		return nil, fmt.Errorf("lazyfs: %w", err)
	}
	root := &fs.LoopbackRoot{Path: under, Dev: uint64(st.Dev), NewNode: f.newNode}
	root.RootNode = f.newNode(root, nil, "", &st)
	opts := &fs.Options{MountOptions: fuse.MountOptions{
		DirectMount: true, DirectMountStrict: true, FsName: "lazyfs", Name: "lazyfs",
	}}
	server, err := fs.Mount(mnt, root.RootNode, opts)
	if err != nil {
		return nil, fmt.Errorf("lazyfs: mount %s: %w", mnt, err)
	}
	f.server = server
	return f, nil
}

// Unsynced is how many files have writes that a crash would undo.
func (f *FS) Unsynced() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.pending)
}

// Crash is the power failure: from now on every write fails, each write
// not fsynced is undone in the directory underneath, and the mount goes.
// It reports how many bytes were written and not synced (counted per
// write call: truncations and allocations do not count). Call it once the
// programs using the mount are dead (kill -9), so that none holds a file
// open when it unmounts.
func (f *FS) Crash() (lost int64, err error) {
	f.mu.Lock()
	f.crashed = true
	for ino, u := range f.pending {
		lost += u.written
		err = errors.Join(err, u.revert())
		delete(f.pending, ino)
	}
	f.mu.Unlock()
	return lost, errors.Join(err, f.unmount())
}

// Unmount removes the mount and keeps every write, synced or not, as a
// clean shutdown of the machine would.
func (f *FS) Unmount() error {
	f.mu.Lock()
	for ino, u := range f.pending {
		u.forget()
		delete(f.pending, ino)
	}
	f.mu.Unlock()
	return f.unmount()
}

// unmount retries while the kernel still holds the mount busy (a process
// that was just killed may not have closed its files yet), then detaches
// it lazily.
func (f *FS) unmount() error {
	var err error
	for range 50 {
		if err = f.server.Unmount(); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	if derr := syscall.Unmount(f.mnt, syscall.MNT_DETACH); derr != nil {
		return fmt.Errorf("lazyfs: unmount %s: %w (detach: %v)", f.mnt, err, derr)
	}
	return nil
}

// record remembers what a write of n bytes at off on the file behind fd
// overwrites, before it is done. It fails with EIO after a crash.
func (f *FS) record(fd int, off, n int64) syscall.Errno {
	return f.change(fd, off, n, 0, func() syscall.Errno { return 0 })
}

// change records a change of n bytes at off (wrote of them new data,
// the rest a truncation or an allocation) and does it (do) under the
// lock, so that an fsync racing with it either sees it done or keeps its
// record: no write escapes a crash by landing just after an fsync.
func (f *FS) change(fd int, off, n, wrote int64, do func() syscall.Errno) syscall.Errno {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.crashed {
		return syscall.EIO
	}
	u, errno := f.undoFor(fd)
	if errno != 0 {
		return errno
	}
	if errno := u.save(off, n); errno != 0 {
		return errno
	}
	u.written += wrote
	return do()
}

// undoFor returns the file's undo record, starting one (holding a
// duplicate of fd, and the file's size now, its synced size) on the first
// write since its last fsync.
func (f *FS) undoFor(fd int) (*undo, syscall.Errno) {
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return nil, fs.ToErrno(err)
	}
	if u, ok := f.pending[st.Ino]; ok {
		return u, 0
	}
	dup, err := syscall.Dup(fd)
	if err != nil {
		return nil, fs.ToErrno(err)
	}
	u := &undo{fd: dup, size: st.Size}
	f.pending[st.Ino] = u
	return u, 0
}

// synced forgets the undo record of the file behind fd: its data is
// durable now.
func (f *FS) synced(fd int) syscall.Errno {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.crashed {
		return syscall.EIO
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return fs.ToErrno(err)
	}
	if u, ok := f.pending[st.Ino]; ok {
		u.forget()
		delete(f.pending, st.Ino)
	}
	return 0
}

// failed reports EIO once the file system has crashed.
func (f *FS) failed() syscall.Errno {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.crashed {
		return syscall.EIO
	}
	return 0
}
