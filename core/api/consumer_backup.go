package api

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/stratadb/strata/client/pb"
	"github.com/stratadb/strata/core/consumer"
)

// ConsumerExport returns, from the consumer's leader, its config and its
// replicated state once every committed entry is applied (backups).
func (s *Server) ConsumerExport(ctx context.Context, req *pb.ConsumerRequest) (*pb.ConsumerExportResponse, error) {
	local, c, fctx, err := s.consumerRoute(ctx, req.GetStream(), req.GetName())
	if err != nil {
		return nil, err
	}
	if local == nil {
		return c.ConsumerExport(fctx, req)
	}
	cfg, st, err := consumer.Export(local.Group().Raft(), local.FSM(), s.cfg.LeaderWait)
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("export consumer %s: %w", req.GetName(), err)
	}
	return &pb.ConsumerExportResponse{Config: consumerConfigToPB(cfg), StateJson: data}, nil
}

// restoreStateOf returns the restore state of a consumer create, nil
// without one, checked against the stream's state on its leader: a state
// that does not decode or is ahead of the stream is invalid.
func (s *Server) restoreStateOf(ctx context.Context, req *pb.ConsumerCreateRequest) (*consumer.State, error) {
	if len(req.GetRestoreState()) == 0 {
		return nil, nil
	}
	var st consumer.State
	if err := json.Unmarshal(req.GetRestoreState(), &st); err != nil {
		return nil, fmt.Errorf("%w: consumer %s: restore state: %w", errInvalid, req.GetConfig().GetName(), err)
	}
	info, err := s.StreamInfo(ownCall(ctx), &pb.StreamRequest{Name: req.GetStream()})
	if err != nil {
		return nil, err
	}
	if err := st.CheckRestore(info.GetState().GetLastSeq()); err != nil {
		return nil, fmt.Errorf("%w: consumer %s on stream %s: %w", errInvalid, req.GetConfig().GetName(), req.GetStream(), err)
	}
	return &st, nil
}

// restored reports whether a consumer's info shows its restore state
// applied (or it has none): deliveries only count up from it.
func restored(st *consumer.State, info *pb.Consumer) bool {
	return st == nil || info.GetState().GetDelivered().GetConsumerSeq() >= st.Delivered.Consumer
}
