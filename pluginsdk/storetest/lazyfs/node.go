package lazyfs

import (
	"context"
	"path/filepath"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// node is a loopback node whose opened files record their writes, and
// whose truncations (by path, or by O_TRUNC) are recorded too.
type node struct {
	fs.LoopbackNode
	fsys *FS
}

var (
	_ fs.NodeOpener    = (*node)(nil)
	_ fs.NodeCreater   = (*node)(nil)
	_ fs.NodeSetattrer = (*node)(nil)
)

func (f *FS) newNode(root *fs.LoopbackRoot, _ *fs.Inode, _ string, _ *syscall.Stat_t) fs.InodeEmbedder {
	return &node{LoopbackNode: fs.LoopbackNode{RootData: root}, fsys: f}
}

// underPath is the node's path in the directory underneath.
func (n *node) underPath() string {
	return filepath.Join(n.RootData.Path, n.Path(n.Root()))
}

func (n *node) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if flags&syscall.O_TRUNC != 0 {
		if errno := n.recordTruncate(n.underPath(), 0); errno != 0 {
			return nil, 0, errno
		}
	}
	fh, fuseFlags, errno := n.LoopbackNode.Open(ctx, flags)
	return n.wrap(fh), fuseFlags, errno
}

func (n *node) Create(ctx context.Context, name string, flags, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	if errno := n.fsys.failed(); errno != 0 {
		return nil, nil, 0, errno
	}
	if flags&syscall.O_TRUNC != 0 {
		if errno := n.recordTruncate(filepath.Join(n.underPath(), name), 0); errno != 0 && errno != syscall.ENOENT {
			return nil, nil, 0, errno
		}
	}
	ch, fh, fuseFlags, errno := n.LoopbackNode.Create(ctx, name, flags, mode, out)
	return ch, n.wrap(fh), fuseFlags, errno
}

func (n *node) Setattr(ctx context.Context, fh fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if sz, ok := in.GetSize(); ok {
		if f, isFile := fh.(*file); isFile {
			if errno := f.recordTruncate(int64(sz)); errno != 0 {
				return errno
			}
		} else if errno := n.recordTruncate(n.underPath(), int64(sz)); errno != 0 {
			return errno
		}
	}
	if f, isFile := fh.(*file); isFile {
		fh = f.lf // the loopback handle does the setattr itself
	}
	return n.LoopbackNode.Setattr(ctx, fh, in, out)
}

// recordTruncate records a truncation of the file at path to size.
func (n *node) recordTruncate(path string, size int64) syscall.Errno {
	fd, err := syscall.Open(path, syscall.O_RDWR, 0)
	if err != nil {
		return fs.ToErrno(err)
	}
	defer syscall.Close(fd)
	return recordTruncate(n.fsys, fd, size)
}

func recordTruncate(f *FS, fd int, size int64) syscall.Errno {
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return fs.ToErrno(err)
	}
	if size >= st.Size {
		return f.record(fd, st.Size, 0) // growing: only the size changes
	}
	return f.record(fd, size, st.Size-size)
}

func (n *node) wrap(fh fs.FileHandle) fs.FileHandle {
	lf, ok := fh.(*fs.LoopbackFile)
	if !ok {
		return fh
	}
	return &file{lf: lf, fsys: n.fsys}
}

// file is an open file: writes are recorded before they are done, fsync
// makes them durable. It forwards what it does not change to the
// loopback handle, and deliberately has no PassthroughFd, so the kernel
// never bypasses it.
type file struct {
	lf   *fs.LoopbackFile
	fsys *FS
}

var (
	_ fs.FileReader    = (*file)(nil)
	_ fs.FileWriter    = (*file)(nil)
	_ fs.FileFsyncer   = (*file)(nil)
	_ fs.FileAllocater = (*file)(nil)
	_ fs.FileGetattrer = (*file)(nil)
	_ fs.FileReleaser  = (*file)(nil)
	_ fs.FileFlusher   = (*file)(nil)
	_ fs.FileLseeker   = (*file)(nil)
	_ fs.FileGetlker   = (*file)(nil)
	_ fs.FileSetlker   = (*file)(nil)
	_ fs.FileSetlkwer  = (*file)(nil)
)

func (f *file) fd() (int, syscall.Errno) {
	fd, ok := f.lf.PassthroughFd()
	if !ok {
		return 0, syscall.EBADF
	}
	return fd, 0
}

func (f *file) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	fd, errno := f.fd()
	if errno != 0 {
		return 0, errno
	}
	var n uint32
	errno = f.fsys.change(fd, off, int64(len(data)), int64(len(data)), func() (errno syscall.Errno) {
		n, errno = f.lf.Write(ctx, data, off)
		return errno
	})
	return n, errno
}

// Fsync makes the file's writes durable. The directory underneath is not
// synced: this file system simulates the disk, it does not protect one.
func (f *file) Fsync(ctx context.Context, flags uint32) syscall.Errno {
	fd, errno := f.fd()
	if errno != 0 {
		return errno
	}
	return f.fsys.synced(fd)
}

func (f *file) Allocate(ctx context.Context, off, size uint64, mode uint32) syscall.Errno {
	fd, errno := f.fd()
	if errno != 0 {
		return errno
	}
	return f.fsys.change(fd, int64(off), int64(size), 0, func() syscall.Errno {
		return f.lf.Allocate(ctx, off, size, mode)
	})
}

func (f *file) recordTruncate(size int64) syscall.Errno {
	fd, errno := f.fd()
	if errno != 0 {
		return errno
	}
	return recordTruncate(f.fsys, fd, size)
}

func (f *file) Read(ctx context.Context, buf []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	return f.lf.Read(ctx, buf, off)
}

func (f *file) Getattr(ctx context.Context, out *fuse.AttrOut) syscall.Errno {
	return f.lf.Getattr(ctx, out)
}

func (f *file) Release(ctx context.Context) syscall.Errno { return f.lf.Release(ctx) }

func (f *file) Flush(ctx context.Context) syscall.Errno { return f.lf.Flush(ctx) }

func (f *file) Lseek(ctx context.Context, off uint64, whence uint32) (uint64, syscall.Errno) {
	return f.lf.Lseek(ctx, off, whence)
}

func (f *file) Getlk(ctx context.Context, owner uint64, lk *fuse.FileLock, flags uint32, out *fuse.FileLock) syscall.Errno {
	return f.lf.Getlk(ctx, owner, lk, flags, out)
}

func (f *file) Setlk(ctx context.Context, owner uint64, lk *fuse.FileLock, flags uint32) syscall.Errno {
	return f.lf.Setlk(ctx, owner, lk, flags)
}

func (f *file) Setlkw(ctx context.Context, owner uint64, lk *fuse.FileLock, flags uint32) syscall.Errno {
	return f.lf.Setlkw(ctx, owner, lk, flags)
}
