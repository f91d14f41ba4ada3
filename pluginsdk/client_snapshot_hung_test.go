package pluginsdk_test

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/stratadb/strata/pluginsdk"
	"github.com/stratadb/strata/pluginsdk/storetest"
)

// hungSnapshots is a snapshot plugin that stops answering in the middle
// of a snapshot stream: its sinks block on the first Write, its readers
// on the first Read, until the test ends.
type hungSnapshots struct{ release chan struct{} }

func (p *hungSnapshots) Configure(pluginsdk.ConfigureRequest) error { return nil }
func (p *hungSnapshots) Close() error                               { return nil }

func (p *hungSnapshots) SnapshotStore(string) (raft.SnapshotStore, error) {
	return hungStore{release: p.release}, nil
}

type hungStore struct{ release chan struct{} }

func (s hungStore) Create(raft.SnapshotVersion, uint64, uint64, raft.Configuration, uint64, raft.Transport) (raft.SnapshotSink, error) {
	return &hungSink{release: s.release}, nil
}

func (s hungStore) List() ([]*raft.SnapshotMeta, error) { return nil, nil }

func (s hungStore) Open(id string) (*raft.SnapshotMeta, io.ReadCloser, error) {
	return &raft.SnapshotMeta{ID: id, Version: raft.SnapshotVersionMax, Index: 7, Term: 1}, io.NopCloser(hungReader(s)), nil
}

type hungSink struct{ release chan struct{} }

func (s *hungSink) ID() string                  { return "hung" }
func (s *hungSink) Write(p []byte) (int, error) { <-s.release; return len(p), nil }
func (s *hungSink) Close() error                { return nil }
func (s *hungSink) Cancel() error               { return nil }

type hungReader hungStore

func (r hungReader) Read([]byte) (int, error) { <-r.release; return 0, io.EOF }

// TestSnapshotStreamsHaveADeadline: a plugin that stops answering in the
// middle of a snapshot stream fails the write or the read with
// DeadlineExceeded within the call timeout, instead of blocking raft.
func TestSnapshotStreamsHaveADeadline(t *testing.T) {
	p := &hungSnapshots{release: make(chan struct{})}
	cc := storetest.ServeGRPC(t, p)
	t.Cleanup(func() { close(p.release) }) // before the server stops
	c := pluginsdk.NewClient(cc)
	if _, err := c.Configure(t.TempDir(), nil); err != nil {
		t.Fatal(err)
	}
	c.SetCallTimeout(200 * time.Millisecond)
	store := c.SnapshotStore("g")

	sink, err := store.Create(raft.SnapshotVersionMax, 7, 1, raft.Configuration{}, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte{1}, 64<<20) // past any flow-control window
	_, err = sink.Write(data)
	if err == nil {
		err = sink.Close()
	}
	if status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("writing to a hung plugin: %v, want DeadlineExceeded", err)
	}
	t.Log(err)

	_, rc, err := store.Open("s1")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	_, err = io.ReadAll(rc)
	if status.Code(err) != codes.DeadlineExceeded || errors.Is(err, io.EOF) {
		t.Fatalf("reading from a hung plugin: %v, want DeadlineExceeded", err)
	}
	t.Log(err)
}
