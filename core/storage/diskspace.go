package storage

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/dustin/go-humanize"
)

// ErrDiskFull is wrapped by the error of a Raft log write refused
// because the data directory's file system has less free space than
// Config.MinFreeBytes. Nothing was written; the write may be tried again
// once space is freed.
var ErrDiskFull = errors.New("storage: disk almost full")

// freeBytes returns the space available to an unprivileged writer on the
// file system holding dir.
func freeBytes(dir string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return st.Bavail * uint64(st.Bsize), nil
}

// DiskFull returns an ErrDiskFull error while the data directory's file
// system has less free space than the reserve, or nil.
func (h *Host) DiskFull() error {
	if h.cfg.MinFreeBytes == 0 {
		return nil
	}
	free, err := freeBytes(h.cfg.DataDir)
	if err != nil {
		return fmt.Errorf("storage: free space of %s: %w", h.cfg.DataDir, err)
	}
	if free < h.cfg.MinFreeBytes {
		return fmt.Errorf("%w: %s free on %s, below storage.min_free %s: Raft log writes are refused until space is freed",
			ErrDiskFull, humanize.IBytes(free), h.cfg.DataDir, humanize.IBytes(h.cfg.MinFreeBytes))
	}
	return nil
}
