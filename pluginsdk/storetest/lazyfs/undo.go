package lazyfs

import (
	"errors"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
)

// undo is what it takes to bring one file back to its content at its last
// fsync: its size then, and the bytes each later write overwrote, in the
// order of the writes. Undoing them last to first, then truncating to the
// synced size, gives back exactly the synced content.
type undo struct {
	fd      int   // a duplicate, valid after the program closed the file
	size    int64 // the size at the last fsync
	saved   []span
	written int64 // bytes written since the last fsync, per write call
}

type span struct {
	off int64
	old []byte
}

// save keeps the bytes that [off, off+n) holds now, as far as they lie
// within the synced size: bytes past it are cut off on revert anyway.
func (u *undo) save(off, n int64) syscall.Errno {
	end := min(off+n, u.size)
	if off >= end {
		return 0
	}
	old := make([]byte, end-off)
	if _, err := syscall.Pread(u.fd, old, off); err != nil {
		return fs.ToErrno(err)
	}
	u.saved = append(u.saved, span{off: off, old: old})
	return 0
}

// revert puts the synced content back and releases the record.
func (u *undo) revert() error {
	var err error
	for i := len(u.saved) - 1; i >= 0; i-- {
		s := u.saved[i]
		if _, werr := syscall.Pwrite(u.fd, s.old, s.off); werr != nil {
			err = errors.Join(err, werr)
		}
	}
	err = errors.Join(err, syscall.Ftruncate(u.fd, u.size))
	u.forget()
	return err
}

// forget releases the record without touching the file.
func (u *undo) forget() {
	_ = syscall.Close(u.fd)
	u.saved = nil
}
