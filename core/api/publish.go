package api

import (
	"context"
	"fmt"
	"time"

	"github.com/stratadb/strata/client/pb"
	"github.com/stratadb/strata/core/replica"
	"github.com/stratadb/strata/core/stream"
	"github.com/stratadb/strata/core/subject"
)

// Publish stores one message through its stream's leader.
func (s *Server) Publish(ctx context.Context, req *pb.PubRequest) (*pb.PubAck, error) {
	defer stream.ObserveStage(stream.StageTotal, time.Now())
	name, err := s.streamForPublish(ctx, req)
	if err != nil {
		return nil, err
	}
	local, c, fctx, err := s.streamRoute(ctx, name)
	if err != nil {
		return nil, err
	}
	if local == nil {
		defer stream.ObserveStage(stream.StageForward, time.Now())
		return c.Publish(fctx, req)
	}
	return resultAck(req.GetId(), name, local.Publish(ctx, toPublish(req)))
}

// streamForPublish checks req and returns the name of the stream that
// takes it.
func (s *Server) streamForPublish(ctx context.Context, req *pb.PubRequest) (string, error) {
	if err := s.cfg.Limits.check(req); err != nil {
		return "", err
	}
	if err := s.authorizePublish(ctx, req); err != nil {
		return "", err
	}
	if err := subject.ValidSubject(req.GetSubject()); err != nil {
		return "", err
	}
	account := accountOf(ctx)
	name, ok := s.cfg.MetaFSM.StreamNameFor(account, req.GetSubject())
	if !ok && !s.metaCurrent() {
		name, ok = s.awaitStreamFor(account, req.GetSubject())
	}
	if !ok {
		return "", fmt.Errorf("%w %q", ErrNoStreamForSubject, req.GetSubject())
	}
	if s.cfg.MetaFSM.Restoring(name) {
		return "", fmt.Errorf("%w: stream %s", ErrRestoring, stream.Unqualify(account, name))
	}
	if e := req.GetExpectedStream(); e != "" && e != name {
		return "", fmt.Errorf("%w: subject %q belongs to stream %s, not %s",
			errWrongStream, req.GetSubject(), stream.Unqualify(account, name), stream.Unqualify(account, e))
	}
	return name, nil
}

func toPublish(req *pb.PubRequest) stream.Publish {
	p := stream.Publish{Subject: req.GetSubject(), Data: req.GetData(), MsgID: req.GetMsgId()}
	if hs := req.GetHeaders(); len(hs) > 0 {
		p.Header = make([]stream.Header, len(hs))
		for i, h := range hs {
			p.Header[i] = stream.Header{Key: h.GetKey(), Value: h.GetValue()}
		}
	}
	return p
}

func resultAck(id uint64, name string, r stream.Result) (*pb.PubAck, error) {
	if r.Err != nil {
		return nil, r.Err
	}
	return &pb.PubAck{Id: id, Stream: name, Seq: r.Seq, Duplicate: r.Duplicate}, nil
}

// errorAck is the ack of a refused publish on PublishStream.
func errorAck(id uint64, err error) *pb.PubAck {
	st := toStatusValue(err)
	return &pb.PubAck{Id: id, ErrorCode: int32(st.Code()), Error: st.Message()}
}

// GetMsg returns a message read on the stream's leader.
func (s *Server) GetMsg(ctx context.Context, req *pb.GetMsgRequest) (*pb.Msg, error) {
	local, c, fctx, err := s.streamRoute(ctx, req.GetStream())
	if err != nil {
		return nil, err
	}
	if local == nil {
		return c.GetMsg(fctx, req)
	}
	if err := local.ReadBarrier(ctx); err != nil {
		return nil, err
	}
	m, err := local.FSM().Get(req.GetSeq())
	if err != nil {
		return nil, fmt.Errorf("%w: stream %s sequence %d", err, req.GetStream(), req.GetSeq())
	}
	return toMsg(m), nil
}

func toMsg(m stream.Message) *pb.Msg {
	out := &pb.Msg{Subject: m.Subject, Seq: m.Seq, Data: m.Data, Time: m.Time, MsgId: m.MsgID}
	for _, h := range m.Header {
		out.Headers = append(out.Headers, &pb.Header{Key: h.Key, Value: h.Value})
	}
	return out
}

// localLeader returns the local replica if it leads name's group.
func (s *Server) localLeader(name string) (*replica.Replica, bool) {
	r, ok := s.cfg.Replicas.Get(name)
	if !ok || !r.IsLeader() {
		return nil, false
	}
	return r, true
}

// awaitStreamFor waits, while this node's meta state catches up, for a
// stream that takes account's publishes to subj.
func (s *Server) awaitStreamFor(account, subj string) (string, bool) {
	var name string
	var ok bool
	_ = s.waitFor(context.Background(), "the meta state", func() (bool, error) {
		name, ok = s.cfg.MetaFSM.StreamNameFor(account, subj)
		return ok || s.metaCurrent(), nil
	})
	return name, ok
}
