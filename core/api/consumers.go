package api

import (
	"context"
	"fmt"

	"github.com/stratadb/strata/client/pb"
	"github.com/stratadb/strata/core/consumer"
	"github.com/stratadb/strata/core/meta"
)

// ConsumerCreate creates a consumer on the meta leader and returns its
// info once the consumer's group has a leader.
func (s *Server) ConsumerCreate(ctx context.Context, req *pb.ConsumerCreateRequest) (*pb.Consumer, error) {
	return s.putConsumer(ctx, req, false)
}

// ConsumerUpdate changes a consumer's mutable fields on the meta leader.
func (s *Server) ConsumerUpdate(ctx context.Context, req *pb.ConsumerCreateRequest) (*pb.Consumer, error) {
	return s.putConsumer(ctx, req, true)
}

func (s *Server) putConsumer(ctx context.Context, req *pb.ConsumerCreateRequest, update bool) (*pb.Consumer, error) {
	c, fctx, err := s.metaRoute(ctx)
	if err != nil {
		return nil, err
	}
	if c != nil {
		call := c.ConsumerCreate
		if update {
			call = c.ConsumerUpdate
		}
		info, err := call(fctx, req)
		if err != nil {
			return nil, err
		}
		return info, s.awaitConsumerMeta(ctx, req.GetStream(), info.GetConfig().GetName(), true)
	}
	cfg := consumerConfigFromPB(req.GetConfig())
	var m meta.Consumer
	if update {
		if len(req.GetRestoreState()) > 0 {
			return nil, fmt.Errorf("%w: a restore state goes with a create only", errInvalid)
		}
		m, err = s.updateConsumer(req.GetStream(), cfg)
	} else {
		m, err = s.createRestored(ctx, req, cfg)
	}
	if err != nil {
		return nil, err
	}
	return s.awaitConsumerInfo(ctx, m)
}

// createRestored creates a consumer, starting from the request's restore
// state if it has one.
func (s *Server) createRestored(ctx context.Context, req *pb.ConsumerCreateRequest, cfg consumer.Config) (meta.Consumer, error) {
	restore, err := s.restoreStateOf(ctx, req)
	if err != nil {
		return meta.Consumer{}, err
	}
	return s.createConsumer(req.GetStream(), cfg, restore)
}

// awaitConsumerInfo returns the consumer's info once its leader runs the
// recorded config (and started from its restore state), or what the meta state says when that takes longer
// than LeaderWait.
func (s *Server) awaitConsumerInfo(ctx context.Context, m meta.Consumer) (*pb.Consumer, error) {
	info := consumerMetaToPB(m, s.cfg.Cluster)
	_ = s.waitFor(ctx, "consumer "+m.Config.Name, func() (bool, error) {
		got, err := s.ConsumerInfo(ownCall(ctx), &pb.ConsumerRequest{Stream: m.Stream, Name: m.Config.Name})
		if err == nil && consumerConfigFromPB(got.GetConfig()).Equal(m.Config) && restored(m.Restore, got) {
			info = got
			return true, nil
		}
		return false, nil
	})
	return info, nil
}

// awaitConsumerMeta waits until this node's meta state has (or, with
// present false, lacks) the consumer, so the client's next call here sees it.
func (s *Server) awaitConsumerMeta(ctx context.Context, stream, name string, present bool) error {
	return s.waitFor(ctx, "the meta state of consumer "+name, func() (bool, error) {
		_, ok := s.cfg.MetaFSM.Consumer(stream, name)
		return ok == present, nil
	})
}

// ConsumerDelete removes a consumer on the meta leader; its replicas stop
// and drop their Raft data.
func (s *Server) ConsumerDelete(ctx context.Context, req *pb.ConsumerRequest) (*pb.Empty, error) {
	c, fctx, err := s.metaRoute(ctx)
	if err != nil {
		return nil, err
	}
	if c != nil {
		if _, err := c.ConsumerDelete(fctx, req); err != nil {
			return nil, err
		}
		return &pb.Empty{}, s.awaitConsumerMeta(ctx, req.GetStream(), req.GetName(), false)
	}
	return &pb.Empty{}, s.deleteConsumer(req.GetStream(), req.GetName())
}

// ConsumerInfo answers from the consumer's leader: config, state and how
// each replica is doing.
func (s *Server) ConsumerInfo(ctx context.Context, req *pb.ConsumerRequest) (*pb.Consumer, error) {
	local, c, fctx, err := s.consumerRoute(ctx, req.GetStream(), req.GetName())
	if err != nil {
		return nil, err
	}
	if local == nil {
		return c.ConsumerInfo(fctx, req)
	}
	m := local.Meta()
	if cur, ok := s.cfg.MetaFSM.Consumer(m.Stream, m.Config.Name); ok && cur.Group == m.Group {
		m = cur
	}
	info := consumerMetaToPB(m, s.cfg.Cluster)
	info.Config = consumerConfigToPB(local.FSM().Config())
	info.State = consumerStateToPB(local.Info())
	info.Cluster = s.clusterInfo(local.Group())
	return info, nil
}

// ConsumerList returns the info of every consumer of a stream; one whose
// leader cannot be reached is listed with its config and no state.
func (s *Server) ConsumerList(ctx context.Context, req *pb.StreamRequest) (*pb.ConsumerListResponse, error) {
	if _, err := s.lookupStream(ctx, req.GetName()); err != nil {
		return nil, err
	}
	out := &pb.ConsumerListResponse{}
	for _, m := range s.cfg.MetaFSM.Consumers(req.GetName()) {
		info, err := s.ConsumerInfo(ownCall(ctx), &pb.ConsumerRequest{Stream: m.Stream, Name: m.Config.Name})
		if err != nil {
			s.logger.Debug("consumer info for list failed", "stream", m.Stream, "consumer", m.Config.Name, "error", err)
			info = consumerMetaToPB(m, s.cfg.Cluster)
		}
		out.Consumers = append(out.Consumers, info)
	}
	return out, nil
}

// ConsumerStepDown hands a consumer's leadership to another replica and
// waits for the new leader.
func (s *Server) ConsumerStepDown(ctx context.Context, req *pb.ConsumerRequest) (*pb.StepDownResponse, error) {
	local, c, fctx, err := s.consumerRoute(ctx, req.GetStream(), req.GetName())
	if err != nil {
		return nil, err
	}
	if local == nil {
		return c.ConsumerStepDown(fctx, req)
	}
	if len(local.Meta().Peers) < 2 {
		return nil, fmt.Errorf("%w: consumer %s has one replica: no other can lead", errInvalid, req.GetName())
	}
	old := local.Leader()
	if err := local.StepDown(); err != nil {
		return nil, err
	}
	next, err := s.awaitLeader(ctx, "consumer "+req.GetName(), old, local.Leader)
	return &pb.StepDownResponse{OldLeader: old, NewLeader: next}, err
}

// ConsumerAck takes a batch of acks on the consumer's leader.
func (s *Server) ConsumerAck(ctx context.Context, req *pb.AckRequest) (*pb.AckResponse, error) {
	acks, err := acksFromPB(req.GetAcks())
	if err != nil {
		return nil, err
	}
	local, c, fctx, err := s.consumerRoute(ctx, req.GetStream(), req.GetConsumer())
	if err != nil {
		return nil, err
	}
	if local == nil {
		return c.ConsumerAck(fctx, req)
	}
	res, err := local.Ack(ctx, acks)
	if err != nil {
		return nil, err
	}
	return &pb.AckResponse{Applied: uint64(res.Applied), Ignored: uint64(res.Ignored)}, nil
}

// consumerCounts returns how many consumers each stream has.
func (s *Server) consumerCounts() map[string]int {
	out := map[string]int{}
	for _, c := range s.cfg.MetaFSM.AllConsumers() {
		out[c.Stream]++
	}
	return out
}
