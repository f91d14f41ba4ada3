package pluginsdk_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/pluginsdk"
)

// closeRecorder is a ReadCloser that records Close.
type closeRecorder struct {
	io.Reader
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

func checked(data []byte, size int64, sum []byte) (*pluginsdk.CheckedReader, *closeRecorder) {
	src := &closeRecorder{Reader: iotest.HalfReader(bytes.NewReader(data))}
	meta := &raft.SnapshotMeta{ID: "2-10-1234", Size: size}
	return pluginsdk.NewCheckedReader(src, meta, sum, nil), src
}

func TestCheckedReaderIntact(t *testing.T) {
	data := bytes.Repeat([]byte("state "), 1000)
	sum := sha256.Sum256(data)
	r, src := checked(data, int64(len(data)), sum[:])
	if err := iotest.TestReader(r, data); err != nil {
		t.Fatal(err)
	}
	if n, err := r.Read(make([]byte, 8)); n != 0 || err != io.EOF {
		t.Fatalf("Read after EOF = %d, %v; want 0, io.EOF", n, err)
	}
	if err := r.Close(); err != nil || !src.closed {
		t.Fatalf("Close = %v, underlying closed %v", err, src.closed)
	}
}

func TestCheckedReaderEmpty(t *testing.T) {
	sum := sha256.Sum256(nil)
	r, _ := checked(nil, 0, sum[:])
	got, err := io.ReadAll(r)
	if err != nil || len(got) != 0 {
		t.Fatalf("ReadAll = %q, %v; want nothing", got, err)
	}
}

// TestCheckedReaderCorrupt: each way a state can differ from its record
// ends the read with ErrSnapshotCorrupt naming the snapshot, again on
// every later Read.
func TestCheckedReaderCorrupt(t *testing.T) {
	data := []byte("the snapshot's state, as written")
	sum := sha256.Sum256(data)
	flipped := bytes.Clone(data)
	flipped[5] ^= 1
	cases := []struct {
		name string
		data []byte
		size int64
		want string
	}{
		{"bit flipped", flipped, int64(len(data)), "SHA-256 is"},
		{"short", data[:len(data)-3], int64(len(data)), fmt.Sprintf("read %d bytes, meta says %d", len(data)-3, len(data))},
		{"long", append(bytes.Clone(data), "more"...), int64(len(data)), fmt.Sprintf("more than the %d bytes", len(data))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := checked(tc.data, tc.size, sum[:])
			_, err := io.ReadAll(r)
			if !errors.Is(err, pluginsdk.ErrSnapshotCorrupt) || !strings.Contains(err.Error(), "snapshot 2-10-1234: ") ||
				!strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ReadAll: %v; want ErrSnapshotCorrupt naming the snapshot and %q", err, tc.want)
			}
			if _, again := r.Read(make([]byte, 8)); again != err {
				t.Fatalf("Read after the error = %v, want %v again", again, err)
			}
		})
	}
}

func TestCheckedReaderUnderlyingErrors(t *testing.T) {
	data := []byte("state")
	sum := sha256.Sum256(data)
	meta := &raft.SnapshotMeta{ID: "1-2-3", Size: int64(len(data))}

	ioErr := errors.New("connection reset")
	src := &closeRecorder{Reader: io.MultiReader(bytes.NewReader(data[:2]), iotest.ErrReader(ioErr))}
	_, err := io.ReadAll(pluginsdk.NewCheckedReader(src, meta, sum[:], nil))
	if err != ioErr {
		t.Fatalf("I/O error: got %v, want it as it is", err)
	}

	decodeErr := fmt.Errorf("%w: bad frame", pluginsdk.ErrSnapshotCorrupt)
	src = &closeRecorder{Reader: iotest.ErrReader(decodeErr)}
	_, err = io.ReadAll(pluginsdk.NewCheckedReader(src, meta, sum[:], nil))
	if !errors.Is(err, decodeErr) || err.Error() != "snapshot 1-2-3: snapshot corrupt: bad frame" {
		t.Fatalf("corrupt data error: got %v, want it naming the snapshot", err)
	}
}
