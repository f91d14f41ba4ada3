package pluginsdk

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

var _ io.ReadCloser = (*CheckedReader)(nil)

// CheckedReader is a reader that checks a snapshot's size and SHA-256 as
// raft reads it back. A SnapshotStore's Open can return one over the
// snapshot's state: raft then restores only data that is what was
// written, because a corrupt snapshot ends in an error, not io.EOF.
//
// Read returns the data as it comes, so the checks complete at the end:
//
//   - reading more than the recorded size is an error at once;
//   - at EOF, a short read or a SHA-256 other than the recorded one is
//     an error instead of io.EOF;
//   - an error of the underlying reader is returned as it is, unless it
//     wraps ErrSnapshotCorrupt (a decoder refusing the data, say): then,
//     like the checks' errors, it is prefixed with "snapshot <id>: ".
//
// Every corrupt-snapshot error wraps ErrSnapshotCorrupt, names the
// snapshot, and is logged. The first error, io.EOF included, is returned
// again by every later Read.
type CheckedReader struct {
	r      io.ReadCloser
	id     string
	size   int64
	want   []byte
	logger hclog.Logger
	hash   hash.Hash
	read   int64
	err    error
}

// NewCheckedReader returns a reader of r, the state of the snapshot meta
// describes, that checks it is meta.Size bytes whose SHA-256 is sum. Close
// closes r. A nil logger logs nothing.
func NewCheckedReader(r io.ReadCloser, meta *raft.SnapshotMeta, sum []byte, logger hclog.Logger) *CheckedReader {
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	return &CheckedReader{
		r:      r,
		id:     meta.ID,
		size:   meta.Size,
		want:   bytes.Clone(sum),
		logger: logger,
		hash:   sha256.New(),
	}
}

// Read implements io.Reader.
func (c *CheckedReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.r.Read(p)
	c.hash.Write(p[:n])
	c.read += int64(n)
	switch {
	case c.read > c.size:
		err = c.corrupt(fmt.Errorf("%w: more than the %d bytes recorded", ErrSnapshotCorrupt, c.size))
	case err == io.EOF:
		err = c.verify()
	case errors.Is(err, ErrSnapshotCorrupt):
		err = c.corrupt(err)
	}
	c.err = err
	return n, err
}

// verify runs at EOF: it returns io.EOF if the data is intact.
func (c *CheckedReader) verify() error {
	if c.read != c.size {
		return c.corrupt(fmt.Errorf("%w: read %d bytes, meta says %d", ErrSnapshotCorrupt, c.read, c.size))
	}
	if got := c.hash.Sum(nil); !bytes.Equal(got, c.want) {
		return c.corrupt(fmt.Errorf("%w: SHA-256 is %x, meta says %x", ErrSnapshotCorrupt, got, c.want))
	}
	return io.EOF
}

// corrupt names the snapshot in err, which wraps ErrSnapshotCorrupt, and
// logs it.
func (c *CheckedReader) corrupt(err error) error {
	err = fmt.Errorf("snapshot %s: %w", c.id, err)
	c.logger.Error("corrupt snapshot", "id", c.id, "error", err)
	return err
}

// Close closes the underlying reader.
func (c *CheckedReader) Close() error { return c.r.Close() }
