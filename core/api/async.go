package api

import (
	"context"
	"errors"
	"io"

	"github.com/stratadb/strata/client/pb"
	"github.com/stratadb/strata/core/stream"
)

const (
	// ackQueue bounds the acks a PublishStream holds for sending; the
	// client's window is the real bound.
	ackQueue = 16384
	// maxAckBatch bounds the acks in one PubAckBatch.
	maxAckBatch = 1024
)

// PublishStream publishes every request as it arrives and sends the acks
// in request order, as many as are ready in each batch. Each request is
// routed on its own: to the local stream leader, or over a forwarded
// PublishStream to the node that must serve it.
func (s *Server) PublishStream(ss pb.Strata_PublishStreamServer) error {
	ctx, cancel := context.WithCancel(ss.Context())
	defer cancel()
	acks := make(chan chan *pb.PubAck, ackQueue)
	sendErr := make(chan error, 1)
	go func() { sendErr <- sendAcks(ss, acks) }()
	fwd := &forwarders{s: s, ctx: ctx, streams: map[pb.StrataClient]*forwarder{}}
	defer fwd.close()
	err := s.receivePublishes(ctx, ss, acks, fwd)
	close(acks)
	if serr := <-sendErr; err == nil {
		err = serr
	}
	return err
}

func (s *Server) receivePublishes(ctx context.Context, ss pb.Strata_PublishStreamServer,
	acks chan<- chan *pb.PubAck, fwd *forwarders) error {
	for {
		batch, err := ss.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		out := fwd.batch()
		for _, req := range batch.GetMsgs() {
			ack := make(chan *pb.PubAck, 1)
			select {
			case acks <- ack:
			case <-ctx.Done():
				return ctx.Err()
			}
			s.publishAsync(ctx, req, out, func(a *pb.PubAck) { ack <- a })
		}
		out.flush()
	}
}

// sendAcks sends acks in order: it waits for the next one, then takes
// every following ack that is ready too.
func sendAcks(ss pb.Strata_PublishStreamServer, acks <-chan chan *pb.PubAck) error {
	var err error
	for first := range acks {
		batch := &pb.PubAckBatch{Acks: []*pb.PubAck{<-first}}
		for len(batch.Acks) < maxAckBatch && readyAck(acks, batch) {
		}
		if err == nil {
			err = ss.Send(batch)
		}
	}
	return err
}

// readyAck adds the next ack to batch if it is queued and resolved; an
// ack queued but not resolved is waited for only when nothing else is.
func readyAck(acks <-chan chan *pb.PubAck, batch *pb.PubAckBatch) bool {
	select {
	case next, ok := <-acks:
		if !ok {
			return false
		}
		batch.Acks = append(batch.Acks, <-next)
		return true
	default:
		return false
	}
}

// publishAsync routes one request; done receives its ack exactly once.
func (s *Server) publishAsync(ctx context.Context, req *pb.PubRequest, out *fwdBatch, done func(*pb.PubAck)) {
	st, err := s.streamForPublish(req)
	if err != nil {
		done(errorAck(req.GetId(), err))
		return
	}
	if r, ok := s.localLeader(st.Config.Name); ok {
		r.PublishAsync(ctx, toPublish(req), func(res stream.Result) {
			ack, err := resultAck(req.GetId(), st.Config.Name, res)
			if err != nil {
				ack = errorAck(req.GetId(), err)
			}
			done(ack)
		})
		return
	}
	_, c, fctx, err := s.streamRoute(ctx, st.Config.Name)
	if err != nil {
		done(errorAck(req.GetId(), err))
		return
	}
	if c == nil { // became leader meanwhile: route again
		s.publishAsync(ctx, req, out, done)
		return
	}
	out.add(fctx, c, req, done)
}
