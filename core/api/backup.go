package api

import (
	"context"
	"errors"
	"io"

	"github.com/stratadb/strata/client/pb"
	"github.com/stratadb/strata/core/backup/record"
	"github.com/stratadb/strata/core/stream"
)

// backupChunkBytes bounds the messages in one BackupChunk.
const backupChunkBytes = 1 << 20

// StreamBackup streams a point-in-time view of a stream read on its
// leader: first the stream's info as of the view, then its messages.
func (s *Server) StreamBackup(req *pb.BackupRequest, ss pb.Strata_StreamBackupServer) error {
	ctx := ss.Context()
	local, c, fctx, err := s.streamRoute(ctx, req.GetStream())
	if err != nil {
		return err
	}
	if local == nil {
		return forwardBackup(c, fctx, req, ss)
	}
	if err := local.ReadBarrier(ctx); err != nil {
		return err
	}
	view, cfg, err := local.FSM().View()
	if err != nil {
		return err
	}
	defer view.Close()
	st := local.Stream()
	info := &pb.Stream{Config: configToPB(cfg), State: stateToPB(view.State()),
		Cluster: s.clusterInfo(local.Group()), Created: st.Created, Peers: st.Peers}
	if err := ss.Send(&pb.BackupChunk{Info: info}); err != nil {
		return err
	}
	if req.GetRecords() {
		return sendRecords(view, ss)
	}
	return sendView(view, ss)
}

// sendRecords sends the view's messages as backup records, in chunks of
// about backupChunkBytes.
func sendRecords(view stream.View, ss pb.Strata_StreamBackupServer) error {
	buf := make([]byte, 0, backupChunkBytes+backupChunkBytes/4)
	var headers [][2]string
	err := view.Scan(0, func(m stream.Message) error {
		headers = headers[:0]
		for _, h := range m.Header {
			headers = append(headers, [2]string{h.Key, h.Value})
		}
		buf = record.AppendMessage(buf, m.Seq, m.Time, m.Subject, m.MsgID, headers, m.Data)
		if len(buf) < backupChunkBytes {
			return nil
		}
		err := ss.Send(&pb.BackupChunk{Records: buf})
		buf = make([]byte, 0, cap(buf)) // gRPC may still hold the sent one
		return err
	})
	if err == nil && len(buf) > 0 {
		err = ss.Send(&pb.BackupChunk{Records: buf})
	}
	return err
}

// sendView sends the view's messages in chunks of backupChunkBytes.
func sendView(view stream.View, ss pb.Strata_StreamBackupServer) error {
	chunk := &pb.BackupChunk{}
	size := 0
	err := view.Scan(0, func(m stream.Message) error {
		chunk.Msgs = append(chunk.Msgs, toMsg(m))
		if size += int(m.Size()); size < backupChunkBytes {
			return nil
		}
		err := ss.Send(chunk)
		chunk, size = &pb.BackupChunk{}, 0
		return err
	})
	if err == nil && len(chunk.Msgs) > 0 {
		err = ss.Send(chunk)
	}
	return err
}

// forwardBackup relays a backup read on another node.
func forwardBackup(c pb.StrataClient, ctx context.Context, req *pb.BackupRequest, ss pb.Strata_StreamBackupServer) error {
	cs, err := c.StreamBackup(ctx, req)
	if err != nil {
		return err
	}
	for {
		chunk, err := cs.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := ss.Send(chunk); err != nil {
			return err
		}
	}
}
