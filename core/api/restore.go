package api

import (
	"context"
	"fmt"

	"github.com/stratadb/strata/client/pb"
	"github.com/stratadb/strata/core/meta"
	"github.com/stratadb/strata/core/stream"
)

// StreamRestoreBegin creates a stream, on the meta leader, that takes
// restored messages only until StreamRestoreEnd.
func (s *Server) StreamRestoreBegin(ctx context.Context, req *pb.StreamConfig) (*pb.Stream, error) {
	c, fctx, err := s.metaRoute(ctx)
	if err != nil {
		return nil, err
	}
	if c != nil {
		info, err := c.StreamRestoreBegin(fctx, req)
		if err != nil {
			return nil, err
		}
		return info, s.awaitMeta(ctx, req.GetName(), info.GetPeers())
	}
	if err := s.createStream(configFromPB(req), true, accountOf(ctx)); err != nil {
		return nil, err
	}
	return s.StreamInfo(ownCall(ctx), &pb.StreamRequest{Name: req.GetName()})
}

// StreamRestoreMsgs stores restored messages through the stream's leader.
func (s *Server) StreamRestoreMsgs(ctx context.Context, req *pb.RestoreMsgs) (*pb.RestoreAck, error) {
	local, c, fctx, err := s.streamRoute(ctx, req.GetStream())
	if err != nil {
		return nil, err
	}
	if local == nil {
		return c.StreamRestoreMsgs(fctx, req)
	}
	if !s.cfg.MetaFSM.Restoring(req.GetStream()) {
		return nil, fmt.Errorf("%w: %s", ErrNotRestoring, req.GetStream())
	}
	msgs := make([]stream.Message, len(req.GetMsgs()))
	for i, m := range req.GetMsgs() {
		msgs[i] = fromMsg(m)
	}
	last, err := local.Restore(ctx, req.GetStart(), req.GetAfter(), req.GetHolesThrough(), msgs)
	if err != nil {
		return nil, err
	}
	return &pb.RestoreAck{LastSeq: last}, nil
}

// StreamRestoreEnd opens a restored stream to publishes, on the meta
// leader; a stream not being restored is left as it is.
func (s *Server) StreamRestoreEnd(ctx context.Context, req *pb.StreamRequest) (*pb.Stream, error) {
	c, fctx, err := s.metaRoute(ctx)
	if err != nil {
		return nil, err
	}
	if c != nil {
		info, err := c.StreamRestoreEnd(fctx, req)
		if err != nil {
			return nil, err
		}
		return info, s.awaitRestored(ctx, req.GetName())
	}
	cur, ok := s.cfg.MetaFSM.Stream(req.GetName())
	if !ok {
		return nil, fmt.Errorf("%w: %s", meta.ErrStreamNotFound, req.GetName())
	}
	if cur.Restoring {
		cur.Restoring = false
		data, err := meta.UpdateStream(cur)
		if err != nil {
			return nil, err
		}
		if err := s.applyMeta(data); err != nil {
			return nil, err
		}
	}
	return s.awaitLeaderRestored(ctx, req)
}

// awaitLeaderRestored returns the stream's info once its leader's meta
// state has the restore ended: until then that leader, whose meta state
// may lag the meta leader's, would still take restored batches and
// refuse publishes.
func (s *Server) awaitLeaderRestored(ctx context.Context, req *pb.StreamRequest) (*pb.Stream, error) {
	var info *pb.Stream
	err := s.waitFor(ctx, "stream "+req.GetName()+"'s leader to see the restore end", func() (bool, error) {
		var err error
		info, err = s.StreamInfo(ownCall(ctx), req)
		return err == nil && !info.GetRestoring(), nil
	})
	if err != nil {
		return nil, err
	}
	return info, nil
}

// awaitRestored waits until this node's meta state has the stream open
// to publishes, so that a publish sent here next is taken.
func (s *Server) awaitRestored(ctx context.Context, name string) error {
	return s.waitFor(ctx, "the meta state", func() (bool, error) {
		return !s.cfg.MetaFSM.Restoring(name), nil
	})
}
