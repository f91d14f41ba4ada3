package clienttest

import (
	"context"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/stratadb/strata/client/pb"
)

// Publish implements pb.StrataServer.
func (s *Server) Publish(_ context.Context, req *pb.PubRequest) (*pb.PubAck, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.publish(req)
}

// publish stores one message; s.mu is held.
func (s *Server) publish(req *pb.PubRequest) (*pb.PubAck, error) {
	name, st := s.match(req.GetSubject())
	switch {
	case st == nil:
		return nil, status.Errorf(codes.NotFound, "no stream matches subject %s", req.GetSubject())
	case req.ExpectedStream != "" && req.ExpectedStream != name:
		return nil, status.Errorf(codes.FailedPrecondition, "expected stream %s, subject belongs to %s", req.ExpectedStream, name)
	}
	if seq, ok := st.ids[req.MsgId]; ok && req.MsgId != "" {
		return &pb.PubAck{Stream: name, Seq: seq, Duplicate: true}, nil
	}
	cfg := st.cfg
	if cfg.MaxMsgSize > 0 && len(req.Data) > int(cfg.MaxMsgSize) {
		return nil, status.Error(codes.FailedPrecondition, "message size exceeds maximum allowed")
	}
	if cfg.MaxMsgs > 0 && int64(len(st.msgs)) >= cfg.MaxMsgs {
		if cfg.Discard == "new" {
			return nil, status.Error(codes.FailedPrecondition, "maximum messages exceeded")
		}
		st.msgs = st.msgs[1:]
		st.deleted++
	}
	st.lastSeq++
	st.lastT = time.Now().UnixNano()
	st.msgs = append(st.msgs, &pb.Msg{
		Subject: req.Subject, Seq: st.lastSeq, Data: req.Data, Headers: req.Headers,
		Time: st.lastT, MsgId: req.MsgId,
	})
	if req.MsgId != "" {
		st.ids[req.MsgId] = st.lastSeq
	}
	return &pb.PubAck{Stream: name, Seq: st.lastSeq}, nil
}

// match returns the stream whose subjects match subject; s.mu is held.
func (s *Server) match(subject string) (string, *stream) {
	for _, name := range s.order {
		for _, f := range s.streams[name].cfg.Subjects {
			if subjectMatches(f, subject) {
				return name, s.streams[name]
			}
		}
	}
	return "", nil
}

// subjectMatches matches NATS-style filters: "*" is one token, ">" the rest.
func subjectMatches(filter, subject string) bool {
	ft, st := strings.Split(filter, "."), strings.Split(subject, ".")
	for i, f := range ft {
		if f == ">" {
			return len(st) > i
		}
		if i >= len(st) || (f != "*" && f != st[i]) {
			return false
		}
	}
	return len(ft) == len(st)
}

// GetMsg implements pb.StrataServer.
func (s *Server) GetMsg(_ context.Context, req *pb.GetMsgRequest) (*pb.Msg, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.stream(req.GetStream())
	if err != nil {
		return nil, err
	}
	for _, m := range st.msgs {
		if m.Seq == req.GetSeq() {
			return m, nil
		}
	}
	return nil, status.Error(codes.NotFound, "message not found")
}

// PublishStream implements pb.StrataServer: it acks requests in order,
// holding acks while PauseAcks is in effect, and ends with BreakStreams'
// error.
func (s *Server) PublishStream(ps pb.Strata_PublishStreamServer) error {
	s.mu.Lock()
	brk := s.brk
	s.mu.Unlock()
	ctx := ps.Context()
	reqs := make(chan *pb.PubRequest, 64)
	go func() {
		defer close(reqs)
		for {
			batch, err := ps.Recv()
			if err != nil {
				return
			}
			for _, r := range batch.GetMsgs() {
				s.mu.Lock()
				s.received++
				s.mu.Unlock()
				select {
				case reqs <- r:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	for {
		select {
		case <-brk:
			return s.breakErr()
		case r, ok := <-reqs:
			if !ok {
				return nil // the client closed its side (or left)
			}
			if err := s.waitAcks(ctx, brk); err != nil {
				return err
			}
			if err := ps.Send(&pb.PubAckBatch{Acks: []*pb.PubAck{s.streamAck(r)}}); err != nil {
				return err
			}
		}
	}
}

// streamAck publishes r and returns its ack, with any error in it.
func (s *Server) streamAck(r *pb.PubRequest) *pb.PubAck {
	s.mu.Lock()
	defer s.mu.Unlock()
	ack, err := s.publish(r)
	if err != nil {
		st := status.Convert(err)
		ack = &pb.PubAck{ErrorCode: int32(st.Code()), Error: st.Message()}
	}
	ack.Id = r.Id
	return ack
}

// waitAcks waits while acks are held.
func (s *Server) waitAcks(ctx context.Context, brk chan struct{}) error {
	for {
		s.mu.Lock()
		resume := s.resume
		s.mu.Unlock()
		if resume == nil {
			return nil
		}
		select {
		case <-resume:
		case <-brk:
			return s.breakErr()
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// PauseAcks holds PublishStream acks until ResumeAcks.
func (s *Server) PauseAcks() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.resume == nil {
		s.resume = make(chan struct{})
	}
}

// ResumeAcks sends the held acks and acks again as requests arrive.
func (s *Server) ResumeAcks() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.resume != nil {
		close(s.resume)
		s.resume = nil
	}
}

// BreakStreams ends every open PublishStream with err (a gRPC status).
func (s *Server) BreakStreams(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.brkErr = err
	close(s.brk)
	s.brk = make(chan struct{})
}

func (s *Server) breakErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.brkErr
}

// Received returns how many PublishStream requests arrived.
func (s *Server) Received() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.received
}
