package pluginsdk

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/hashicorp/raft"

	storagepb "github.com/stratadb/strata/pluginsdk/proto"
)

// SnapshotStore is a group's raft.SnapshotStore served by a plugin.
// Snapshot data moves in chunks on a stream both ways and is never held
// whole in memory.
type SnapshotStore struct {
	c     *Client
	group string
}

var _ raft.SnapshotStore = (*SnapshotStore)(nil)

// Create implements raft.SnapshotStore. The transport is not sent.
func (s *SnapshotStore) Create(version raft.SnapshotVersion, index, term uint64,
	configuration raft.Configuration, configurationIndex uint64, _ raft.Transport) (raft.SnapshotSink, error) {
	ctx, cancel := context.WithCancel(context.Background())
	watch := newStreamWatch(s.c.callTimeout, cancel)
	var stream storagepb.Storage_CreateSnapshotClient
	err := watch.step("create snapshot", func() (err error) {
		stream, err = s.c.rpc.CreateSnapshot(ctx)
		return err
	})
	if err != nil {
		watch.stop()
		return nil, remoteError("create snapshot", err)
	}
	meta := &raft.SnapshotMeta{Version: version, Index: index, Term: term,
		Configuration: configuration, ConfigurationIndex: configurationIndex}
	create := &storagepb.SnapshotWrite{Kind: &storagepb.SnapshotWrite_Create{
		Create: &storagepb.SnapshotCreate{Group: s.group, Meta: metaToProto(meta)}}}
	sink := &snapshotSink{stream: stream, watch: watch, buf: make([]byte, 0, ChunkSize)}
	if err := watch.step("create snapshot", func() error { return stream.Send(create) }); err != nil {
		return nil, sink.abort("create snapshot", err)
	}
	resp, err := sink.recv("create snapshot")
	if err != nil {
		return nil, sink.abort("create snapshot", err)
	}
	sink.id = resp.GetId()
	return sink, nil
}

// List implements raft.SnapshotStore, newest first.
func (s *SnapshotStore) List() ([]*raft.SnapshotMeta, error) {
	ctx, cancel := s.c.callContext()
	defer cancel()
	resp, err := s.c.rpc.ListSnapshots(ctx, &storagepb.GroupRequest{Group: s.group})
	if err != nil {
		return nil, remoteError("list snapshots", err)
	}
	metas := make([]*raft.SnapshotMeta, 0, len(resp.GetSnapshots()))
	for _, pm := range resp.GetSnapshots() {
		m, err := metaFromProto(pm)
		if err != nil {
			return nil, remoteError("list snapshots", err)
		}
		metas = append(metas, m)
	}
	return metas, nil
}

// Open implements raft.SnapshotStore. The reader streams the data.
func (s *SnapshotStore) Open(id string) (*raft.SnapshotMeta, io.ReadCloser, error) {
	ctx, cancel := context.WithCancel(context.Background())
	watch := newStreamWatch(s.c.callTimeout, cancel)
	var stream storagepb.Storage_OpenSnapshotClient
	var first *storagepb.SnapshotChunk
	err := watch.step("open snapshot", func() (err error) {
		if stream, err = s.c.rpc.OpenSnapshot(ctx, &storagepb.OpenSnapshotRequest{Group: s.group, Id: id}); err != nil {
			return err
		}
		first, err = stream.Recv()
		return err
	})
	if err != nil {
		watch.stop()
		return nil, nil, remoteError("open snapshot", err)
	}
	meta, err := metaFromProto(first.GetMeta())
	if err != nil {
		watch.stop()
		return nil, nil, remoteError("open snapshot", err)
	}
	return meta, &snapshotReader{stream: stream, watch: watch, chunk: first.GetData()}, nil
}

// snapshotSink sends what raft writes in chunks of ChunkSize.
type snapshotSink struct {
	stream storagepb.Storage_CreateSnapshotClient
	watch  *streamWatch
	id     string
	buf    []byte
	err    error
	closed bool
}

var _ raft.SnapshotSink = (*snapshotSink)(nil)

func (s *snapshotSink) ID() string { return s.id }

// Write implements io.Writer.
func (s *snapshotSink) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n := 0
	for len(p) > 0 {
		k := min(len(p), ChunkSize-len(s.buf))
		s.buf = append(s.buf, p[:k]...)
		p, n = p[k:], n+k
		if len(s.buf) == ChunkSize {
			if err := s.flush(); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// flush sends the buffered chunk. gRPC has serialized the message when
// Send returns, so the buffer is reused.
func (s *snapshotSink) flush() error {
	if len(s.buf) == 0 {
		return nil
	}
	err := s.watch.step("write snapshot", func() error {
		return s.stream.Send(&storagepb.SnapshotWrite{Kind: &storagepb.SnapshotWrite_Data{Data: s.buf}})
	})
	s.buf = s.buf[:0]
	if err != nil {
		s.err = s.abort("write snapshot", err)
	}
	return s.err
}

// Close completes the snapshot: it returns once the plugin has it durably.
func (s *snapshotSink) Close() error { return s.finish(false) }

// Cancel discards the snapshot.
func (s *snapshotSink) Cancel() error { return s.finish(true) }

func (s *snapshotSink) finish(cancel bool) error {
	if s.closed {
		return s.err
	}
	s.closed = true
	if s.err != nil {
		return s.err
	}
	if !cancel {
		if err := s.flush(); err != nil {
			return err
		}
	}
	op := map[bool]string{false: "close snapshot", true: "cancel snapshot"}[cancel]
	fin := &storagepb.SnapshotWrite{Kind: &storagepb.SnapshotWrite_Finish{Finish: &storagepb.SnapshotFinish{Cancel: cancel}}}
	if err := s.watch.step(op, func() error { return s.stream.Send(fin) }); err != nil {
		return s.abort(op, err)
	}
	resp, err := s.recv(op)
	if err != nil {
		return s.abort(op, err)
	}
	s.watch.stop()
	if !resp.GetDone() {
		return remoteError(op, errors.New("plugin did not confirm"))
	}
	return nil
}

func (s *snapshotSink) recv(op string) (resp *storagepb.SnapshotWriteResult, err error) {
	err = s.watch.step(op, func() (err error) {
		resp, err = s.stream.Recv()
		return err
	})
	return resp, err
}

// abort ends the stream and returns the plugin's own error: after a failed
// Send the reason is only known from Recv.
func (s *snapshotSink) abort(op string, err error) error {
	if errors.Is(err, io.EOF) {
		if _, rerr := s.recv(op); rerr != nil && !errors.Is(rerr, io.EOF) {
			err = rerr
		}
	}
	s.closed = true
	s.watch.stop()
	s.err = remoteError(op, err)
	return s.err
}

// snapshotReader reads a snapshot's chunks as they arrive.
type snapshotReader struct {
	stream storagepb.Storage_OpenSnapshotClient
	watch  *streamWatch
	chunk  []byte
	err    error
}

func (r *snapshotReader) Read(p []byte) (int, error) {
	for len(r.chunk) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		var msg *storagepb.SnapshotChunk
		err := r.watch.step("read snapshot", func() (err error) {
			msg, err = r.stream.Recv()
			return err
		})
		switch {
		case errors.Is(err, io.EOF):
			r.err = io.EOF
		case err != nil:
			r.err = remoteError("read snapshot", err)
		default:
			r.chunk = msg.GetData()
		}
	}
	n := copy(p, r.chunk)
	r.chunk = r.chunk[n:]
	return n, nil
}

// Close stops the stream.
func (r *snapshotReader) Close() error {
	r.watch.stop()
	if r.err == nil {
		r.err = fmt.Errorf("snapshot reader closed")
	}
	return nil
}
