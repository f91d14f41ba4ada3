package objstore

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
)

var (
	_ Store   = (*Dir)(nil)
	_ Checker = (*Dir)(nil)
)

// dirBufferSize is the write buffer of a directory writer.
const dirBufferSize = 256 << 10

// Dir is a Store in a local directory: a key's object is the file at
// root/key. Create writes to a temporary file beside it (named with
// PartialSuffix), fsyncs it, renames it into place on Close and fsyncs the
// directory, so an object is whole or absent even after a crash.
type Dir struct {
	root string
}

// NewDir returns a store in dir, creating the directory if missing.
func NewDir(dir string) (*Dir, error) {
	if dir == "" {
		return nil, fmt.Errorf("%w: empty directory", ErrInvalidURL)
	}
	root := filepath.Clean(dir)
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("objstore: %w", err)
	}
	return &Dir{root: root}, nil
}

// String returns the directory.
func (d *Dir) String() string { return d.root }

func (d *Dir) path(key string) string { return filepath.Join(d.root, filepath.FromSlash(key)) }

// Check checks that the directory exists and is writable.
func (d *Dir) Check(context.Context) error {
	f, err := os.CreateTemp(d.root, ".check-*"+PartialSuffix)
	if err != nil {
		return fmt.Errorf("objstore: %w", err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// Create starts writing key's object to a temporary file beside it.
func (d *Dir) Create(ctx context.Context, key string) (Writer, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	dst := d.path(key)
	dir := filepath.Dir(dst)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("objstore: create %s: %w", key, err)
	}
	f, err := os.CreateTemp(dir, filepath.Base(dst)+".*"+PartialSuffix)
	if err != nil {
		return nil, fmt.Errorf("objstore: create %s: %w", key, err)
	}
	return &dirWriter{ctx: ctx, f: f, buf: bufio.NewWriterSize(f, dirBufferSize), dst: dst}, nil
}

// Open opens key's file.
func (d *Dir) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.Open(d.path(key))
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	if err != nil {
		return nil, fmt.Errorf("objstore: %w", err)
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("objstore: %w", err)
		}
		return nil, fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	return f, nil
}

// List walks the directory holding prefix's last segment and returns the
// files under prefix, sorted by key, without partial files.
func (d *Dir) List(ctx context.Context, prefix string) ([]Object, error) {
	if err := checkPrefix(prefix); err != nil {
		return nil, err
	}
	start := d.root
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		start = d.path(prefix[:i])
	}
	var objs []Object
	err := filepath.WalkDir(start, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if p == start && (errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)) {
				return fs.SkipAll
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !e.Type().IsRegular() || strings.HasSuffix(p, PartialSuffix) {
			return nil
		}
		rel, err := filepath.Rel(d.root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if !strings.HasPrefix(key, prefix) {
			return nil
		}
		fi, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) { // deleted while listing
			return nil
		}
		if err != nil {
			return err
		}
		objs = append(objs, Object{Key: key, Size: fi.Size(), Modified: fi.ModTime()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("objstore: list %s: %w", prefix, err)
	}
	sort.Slice(objs, func(i, j int) bool { return objs[i].Key < objs[j].Key })
	return objs, nil
}

// Delete removes key's file.
func (d *Dir) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	p := d.path(key)
	fi, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("objstore: delete %s: %w", key, err)
	}
	if fi.IsDir() {
		return nil // a directory of other keys, not an object
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("objstore: delete %s: %w", key, err)
	}
	return nil
}

// dirWriter writes a partial file and renames it into place on Close.
type dirWriter struct {
	ctx  context.Context
	mu   sync.Mutex
	f    *os.File
	buf  *bufio.Writer
	dst  string
	done bool
	err  error // first write error: Close fails with it
}

func (w *dirWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return 0, ErrClosed
	}
	if w.err != nil {
		return 0, w.err
	}
	if err := w.ctx.Err(); err != nil {
		w.err = err
		return 0, err
	}
	n, err := w.buf.Write(p)
	if err != nil {
		w.err = fmt.Errorf("objstore: write %s: %w", w.dst, err)
		return n, w.err
	}
	return n, nil
}

// Close flushes and fsyncs the partial file, renames it to the object's
// name and fsyncs the directory. On failure the partial file is removed.
func (w *dirWriter) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return ErrClosed
	}
	w.done = true
	err := w.commit()
	if err != nil {
		w.f.Close()
		os.Remove(w.f.Name())
	}
	return err
}

func (w *dirWriter) commit() error {
	if w.err != nil {
		return w.err
	}
	if err := w.ctx.Err(); err != nil {
		return err
	}
	if err := w.buf.Flush(); err != nil {
		return fmt.Errorf("objstore: write %s: %w", w.dst, err)
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("objstore: sync %s: %w", w.dst, err)
	}
	if err := w.f.Close(); err != nil {
		return fmt.Errorf("objstore: close %s: %w", w.dst, err)
	}
	if err := os.Rename(w.f.Name(), w.dst); err != nil {
		return fmt.Errorf("objstore: %w", err)
	}
	return syncDir(filepath.Dir(w.dst))
}

// Abort removes the partial file.
func (w *dirWriter) Abort() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return nil
	}
	w.done = true
	w.f.Close()
	if err := os.Remove(w.f.Name()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("objstore: abort %s: %w", w.dst, err)
	}
	return nil
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("objstore: sync %s: %w", dir, err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("objstore: sync %s: %w", dir, err)
	}
	return nil
}
