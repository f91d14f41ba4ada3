package pluginsdk

import (
	"context"
	"errors"
	"io"

	"github.com/hashicorp/raft"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	storagepb "github.com/stratadb/strata/pluginsdk/proto"
)

// ChunkSize is the size of the data chunks snapshots move in, well under
// gRPC's default 4 MiB message limit.
const ChunkSize = 1 << 20

// CreateSnapshot serves raft.SnapshotStore.Create and the sink's Write,
// Close and Cancel over one stream.
func (s *Server) CreateSnapshot(stream storagepb.Storage_CreateSnapshotServer) error {
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	create := first.GetCreate()
	if create == nil {
		return status.Error(codes.InvalidArgument, "snapshot stream must start with create")
	}
	sink, err := s.createSink(create)
	if err != nil {
		return err
	}
	if err := stream.Send(&storagepb.SnapshotWriteResult{Id: sink.ID()}); err != nil {
		_ = sink.Cancel()
		return err
	}
	if err := receiveSnapshot(stream, sink); err != nil {
		_ = sink.Cancel()
		return err
	}
	return stream.Send(&storagepb.SnapshotWriteResult{Done: true})
}

func (s *Server) createSink(create *storagepb.SnapshotCreate) (raft.SnapshotSink, error) {
	store, err := s.snapshotStore(create.GetGroup())
	if err != nil {
		return nil, err
	}
	m, err := metaFromProto(create.GetMeta())
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	sink, err := store.Create(m.Version, m.Index, m.Term, m.Configuration, m.ConfigurationIndex, peerEncoder{})
	if err != nil {
		return nil, storeError("create snapshot", err)
	}
	return sink, nil
}

// receiveSnapshot writes data chunks into sink until finish. It returns an
// error, and the caller cancels the sink, if the stream ends before finish.
func receiveSnapshot(stream storagepb.Storage_CreateSnapshotServer, sink raft.SnapshotSink) error {
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return status.Error(codes.Aborted, "snapshot stream ended before finish")
		}
		if err != nil {
			return err
		}
		switch k := msg.GetKind().(type) {
		case *storagepb.SnapshotWrite_Data:
			if _, err := sink.Write(k.Data); err != nil {
				return storeError("write snapshot", err)
			}
		case *storagepb.SnapshotWrite_Finish:
			return finishSink(sink, k.Finish.GetCancel())
		default:
			return status.Error(codes.InvalidArgument, "unexpected message in snapshot stream")
		}
	}
}

func finishSink(sink raft.SnapshotSink, cancel bool) error {
	if cancel {
		if err := sink.Cancel(); err != nil {
			return storeError("cancel snapshot", err)
		}
		return nil
	}
	if err := sink.Close(); err != nil {
		return storeError("close snapshot", err)
	}
	return nil
}

// ListSnapshots serves raft.SnapshotStore.List, newest first.
func (s *Server) ListSnapshots(_ context.Context, req *storagepb.GroupRequest) (*storagepb.ListSnapshotsResponse, error) {
	store, err := s.snapshotStore(req.GetGroup())
	if err != nil {
		return nil, err
	}
	metas, err := store.List()
	if err != nil {
		return nil, storeError("list snapshots", err)
	}
	resp := &storagepb.ListSnapshotsResponse{}
	for _, m := range metas {
		resp.Snapshots = append(resp.Snapshots, metaToProto(m))
	}
	return resp, nil
}

// OpenSnapshot serves raft.SnapshotStore.Open: the meta, then the data in
// chunks.
func (s *Server) OpenSnapshot(req *storagepb.OpenSnapshotRequest, stream storagepb.Storage_OpenSnapshotServer) error {
	store, err := s.snapshotStore(req.GetGroup())
	if err != nil {
		return err
	}
	meta, rc, err := store.Open(req.GetId())
	if err != nil {
		return status.Errorf(codes.NotFound, "open snapshot %q: %v", req.GetId(), err)
	}
	defer rc.Close()
	if err := stream.Send(&storagepb.SnapshotChunk{Meta: metaToProto(meta)}); err != nil {
		return err
	}
	return sendChunks(rc, func(b []byte) error {
		return stream.Send(&storagepb.SnapshotChunk{Data: b})
	})
}

// sendChunks reads r to its end and sends it in chunks of ChunkSize.
func sendChunks(r io.Reader, send func([]byte) error) error {
	buf := make([]byte, ChunkSize)
	for {
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			if serr := send(buf[:n]); serr != nil {
				return serr
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil
		}
		if err != nil {
			return storeError("read snapshot", err)
		}
	}
}

// peerEncoder stands in for the node's transport, which does not cross
// the wire. Snapshot stores use it only to encode the deprecated Peers
// field (raft.FileSnapshotStore calls EncodePeer for each voter), which
// raft's NetworkTransport encodes as the address.
type peerEncoder struct{ raft.Transport }

func (peerEncoder) EncodePeer(_ raft.ServerID, addr raft.ServerAddress) []byte {
	return []byte(addr)
}
