package api

import (
	"context"
	"errors"
	"io"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/stratadb/strata/client/pb"
	"github.com/stratadb/strata/core/stream"
)

// ackQueue bounds the acks a PublishStream holds for sending; the
// client's window is the real bound.
const ackQueue = 8192

// PublishStream publishes every request as it arrives and sends the acks
// in request order. Each request is routed on its own: to the local
// stream leader, or over a forwarded PublishStream to the node that must
// serve it.
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
		req, err := ss.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		ack := make(chan *pb.PubAck, 1)
		select {
		case acks <- ack:
		case <-ctx.Done():
			return ctx.Err()
		}
		s.publishAsync(ctx, req, fwd, func(a *pb.PubAck) { ack <- a })
	}
}

func sendAcks(ss pb.Strata_PublishStreamServer, acks <-chan chan *pb.PubAck) error {
	var err error
	for ack := range acks {
		a := <-ack
		if err == nil {
			err = ss.Send(a)
		}
	}
	return err
}

// publishAsync routes one request; done receives its ack exactly once.
func (s *Server) publishAsync(ctx context.Context, req *pb.PubRequest, fwd *forwarders, done func(*pb.PubAck)) {
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
		s.publishAsync(ctx, req, fwd, done)
		return
	}
	fwd.send(fctx, c, req, done)
}

// forwarders are the PublishStreams one client stream opened to other
// nodes, one per target client.
type forwarders struct {
	s       *Server
	ctx     context.Context
	mu      sync.Mutex
	streams map[pb.StrataClient]*forwarder
}

func (f *forwarders) send(ctx context.Context, c pb.StrataClient, req *pb.PubRequest, done func(*pb.PubAck)) {
	f.mu.Lock()
	fw, ok := f.streams[c]
	if !ok || fw.broken() {
		var err error
		if fw, err = openForwarder(ctx, c); err != nil {
			f.mu.Unlock()
			done(errorAck(req.GetId(), err))
			return
		}
		f.streams[c] = fw
	}
	f.mu.Unlock()
	fw.send(req, done)
}

func (f *forwarders) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, fw := range f.streams {
		fw.closeSend()
	}
}

// forwarder is one forwarded PublishStream: acks come back in the order
// requests went out, so a FIFO of callbacks matches them.
type forwarder struct {
	stream  pb.Strata_PublishStreamClient
	mu      sync.Mutex
	pending []func(*pb.PubAck)
	err     error
}

func openForwarder(ctx context.Context, c pb.StrataClient) (*forwarder, error) {
	st, err := c.PublishStream(ctx)
	if err != nil {
		return nil, err
	}
	fw := &forwarder{stream: st}
	go fw.receive()
	return fw, nil
}

func (fw *forwarder) broken() bool {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	return fw.err != nil
}

func (fw *forwarder) send(req *pb.PubRequest, done func(*pb.PubAck)) {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	if fw.err != nil {
		done(errorAck(req.GetId(), fw.err))
		return
	}
	fw.pending = append(fw.pending, done)
	if err := fw.stream.Send(req); err != nil {
		fw.failLocked(err)
	}
}

func (fw *forwarder) receive() {
	for {
		ack, err := fw.stream.Recv()
		fw.mu.Lock()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = status.Error(codes.Unavailable, "forwarded publish stream ended")
			}
			fw.failLocked(err)
			fw.mu.Unlock()
			return
		}
		if len(fw.pending) == 0 {
			fw.mu.Unlock()
			continue
		}
		done := fw.pending[0]
		fw.pending = fw.pending[1:]
		fw.mu.Unlock()
		done(ack)
	}
}

// failLocked fails every pending publish with err; fw.mu is held.
func (fw *forwarder) failLocked(err error) {
	if fw.err == nil {
		fw.err = err
	}
	for _, done := range fw.pending {
		done(&pb.PubAck{ErrorCode: int32(codes.Unavailable), Error: err.Error()})
	}
	fw.pending = nil
}

func (fw *forwarder) closeSend() { _ = fw.stream.CloseSend() }
