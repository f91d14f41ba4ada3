// Package objstore keeps backups and snapshots as objects: in a local
// directory or in an S3 bucket under a prefix, behind one small interface.
// Writers stream (S3 by multipart upload with bounded memory, nothing staged
// on disk) and an object becomes visible only when its writer's Close
// succeeds, so a reader never sees a partial object.
package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"
)

// Errors returned by stores; match them with errors.Is.
var (
	// ErrNotFound: no object under the key.
	ErrNotFound = errors.New("objstore: object not found")
	// ErrInvalidKey: the key is empty, absolute, has empty, "." or ".."
	// segments, or ends in PartialSuffix.
	ErrInvalidKey = errors.New("objstore: invalid key")
	// ErrInvalidURL: Open cannot tell which store the URL names.
	ErrInvalidURL = errors.New("objstore: invalid store URL")
	// ErrAborted: the writer was aborted; the object was not written.
	ErrAborted = errors.New("objstore: write aborted")
	// ErrClosed: the writer was already closed or aborted.
	ErrClosed = errors.New("objstore: writer closed")
	// ErrInvalidOption: an Option's value is out of range.
	ErrInvalidOption = errors.New("objstore: invalid option")
)

// PartialSuffix ends the names of a directory store's in-progress files;
// keys may not end with it and List never returns them.
const PartialSuffix = ".partial"

// Store keeps objects under keys ("a/b/c"), relative to its root.
type Store interface {
	// Create starts a new object; nothing is visible under key until the
	// writer's Close returns nil (an existing object stays as it was until
	// then, and is replaced when it does). Abort discards it (and aborts an
	// S3 multipart upload). The caller must call Close or Abort; ctx
	// governs the whole write.
	Create(ctx context.Context, key string) (Writer, error)
	// Open reads an object; ErrNotFound when missing. ctx governs the
	// whole read.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// List returns every object whose key starts with prefix (a string
	// prefix, recursive), sorted by key.
	List(ctx context.Context, prefix string) ([]Object, error)
	// Delete removes an object; a missing one is not an error.
	Delete(ctx context.Context, key string) error
	// String names the store: "s3://bucket/prefix" or the directory.
	String() string
}

// Writer writes one object. Close makes it visible; Abort discards it and
// is a no-op after Close or Abort (so `defer w.Abort()` is safe).
type Writer interface {
	io.Writer
	Close() error
	Abort() error
}

// Object describes a stored object.
type Object struct {
	Key      string
	Size     int64
	Modified time.Time
}

// UploadCleaner is implemented by stores whose interrupted writes can leave
// server-side state behind (S3 multipart uploads after a kill -9).
type UploadCleaner interface {
	// AbortStaleUploads aborts the unfinished uploads under prefix that
	// were started before before, and returns how many it aborted.
	AbortStaleUploads(ctx context.Context, prefix string, before time.Time) (int, error)
}

// Checker is implemented by stores that can tell whether they are
// reachable and usable (the bucket exists and the credentials work), for
// refusing a bad configuration at start.
type Checker interface {
	Check(ctx context.Context) error
}

// Open opens the store a URL names: "s3://bucket/prefix" for S3 (see
// NewS3), "file:///path" or a plain path for a local directory (created if
// missing).
func Open(ctx context.Context, url string, opts ...Option) (Store, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	scheme, rest, ok := strings.Cut(url, "://")
	switch {
	case url == "":
		return nil, fmt.Errorf("%w: empty", ErrInvalidURL)
	case !ok:
		return NewDir(url)
	case scheme == "file":
		return NewDir(rest)
	case scheme == "s3":
		bucket, prefix, _ := strings.Cut(rest, "/")
		if bucket == "" {
			return nil, fmt.Errorf("%w: %q has no bucket", ErrInvalidURL, url)
		}
		return newS3(ctx, bucket, prefix, o)
	default:
		return nil, fmt.Errorf("%w: %q: scheme %q is not s3 or file", ErrInvalidURL, url, scheme)
	}
}

// Join joins key segments with "/", like path.Join.
func Join(elem ...string) string { return path.Join(elem...) }

// checkKey reports whether key names an object.
func checkKey(key string) error {
	if key == "" || strings.HasSuffix(key, PartialSuffix) || strings.ContainsAny(key, "\\\x00") {
		return fmt.Errorf("%w: %q", ErrInvalidKey, key)
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("%w: %q", ErrInvalidKey, key)
		}
	}
	return nil
}

// checkPrefix reports whether prefix can start keys: "" or a key, possibly
// ending in "/".
func checkPrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	if err := checkKey(strings.TrimSuffix(prefix, "/")); err != nil {
		return fmt.Errorf("%w: prefix %q", ErrInvalidKey, prefix)
	}
	return nil
}
