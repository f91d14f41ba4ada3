package api

import (
	"context"
	"errors"
	"io"

	"github.com/stratadb/strata/client/pb"
	"github.com/stratadb/strata/core/replica"
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
		routes := map[string]route{} // by stream, for this batch
		for _, req := range batch.GetMsgs() {
			ack := make(chan *pb.PubAck, 1)
			select {
			case acks <- ack:
			case <-ctx.Done():
				return ctx.Err()
			}
			s.publishAsync(ctx, req, out, routes, func(a *pb.PubAck) { ack <- a })
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

// route is where a stream's publishes go: the local leader, or a node
// to forward them to.
type route struct {
	local *replica.Replica
	c     pb.StrataClient
	ctx   context.Context
	err   error
}

// routeOf returns the stream's route, computed once per received batch.
func (s *Server) routeOf(ctx context.Context, name string, routes map[string]route) route {
	if r, ok := routes[name]; ok {
		return r
	}
	var r route
	r.local, r.c, r.ctx, r.err = s.streamRoute(ctx, name)
	routes[name] = r
	return r
}

// publishAsync routes one request; done receives its ack exactly once.
func (s *Server) publishAsync(ctx context.Context, req *pb.PubRequest, out *fwdBatch, routes map[string]route,
	done func(*pb.PubAck)) {
	name, err := s.streamForPublish(ctx, req)
	if err != nil {
		done(errorAck(req.GetId(), err))
		return
	}
	r := s.routeOf(ctx, name, routes)
	switch {
	case r.err != nil:
		done(errorAck(req.GetId(), r.err))
	case r.local != nil:
		r.local.PublishAsync(ctx, toPublish(req), func(res stream.Result) {
			ack, err := resultAck(req.GetId(), name, res)
			if err != nil {
				ack = errorAck(req.GetId(), err)
			}
			done(ack)
		})
	default:
		out.add(r.ctx, r.c, req, done)
	}
}
