package api

import (
	"context"
	"errors"
	"io"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/stratadb/strata/client/pb"
)

// forwarders are the PublishStreams one client stream opened to other
// nodes, one per target.
type forwarders struct {
	s       *Server
	ctx     context.Context
	mu      sync.Mutex
	streams map[pb.StrataClient]*forwarder
}

// fwdBatch gathers the forwarded requests of one received batch by
// target, so each target gets them as one batch too.
type fwdBatch struct {
	f       *forwarders
	order   []pb.StrataClient
	ctx     map[pb.StrataClient]context.Context
	reqs    map[pb.StrataClient][]*pb.PubRequest
	callbks map[pb.StrataClient][]func(*pb.PubAck)
}

func (f *forwarders) batch() *fwdBatch {
	return &fwdBatch{f: f, ctx: map[pb.StrataClient]context.Context{},
		reqs: map[pb.StrataClient][]*pb.PubRequest{}, callbks: map[pb.StrataClient][]func(*pb.PubAck){}}
}

func (b *fwdBatch) add(ctx context.Context, c pb.StrataClient, req *pb.PubRequest, done func(*pb.PubAck)) {
	if _, ok := b.reqs[c]; !ok {
		b.order = append(b.order, c)
		b.ctx[c] = ctx
	}
	b.reqs[c] = append(b.reqs[c], req)
	b.callbks[c] = append(b.callbks[c], done)
}

func (b *fwdBatch) flush() {
	for _, c := range b.order {
		b.f.send(b.ctx[c], c, b.reqs[c], b.callbks[c])
	}
}

func (f *forwarders) send(ctx context.Context, c pb.StrataClient, reqs []*pb.PubRequest, dones []func(*pb.PubAck)) {
	f.mu.Lock()
	fw, ok := f.streams[c]
	if !ok || fw.broken() {
		var err error
		if fw, err = openForwarder(ctx, c); err != nil {
			f.mu.Unlock()
			for i, done := range dones {
				done(errorAck(reqs[i].GetId(), err))
			}
			return
		}
		f.streams[c] = fw
	}
	f.mu.Unlock()
	fw.send(reqs, dones)
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
	pending []pendingAck
	err     error
}

// pendingAck is a forwarded request waiting for its ack.
type pendingAck struct {
	id   uint64
	done func(*pb.PubAck)
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

func (fw *forwarder) send(reqs []*pb.PubRequest, dones []func(*pb.PubAck)) {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	if fw.err != nil {
		for i, done := range dones {
			done(errorAck(reqs[i].GetId(), fw.err))
		}
		return
	}
	for i, done := range dones {
		fw.pending = append(fw.pending, pendingAck{id: reqs[i].GetId(), done: done})
	}
	if err := fw.stream.Send(&pb.PubBatch{Msgs: reqs}); err != nil {
		fw.failLocked(err)
	}
}

func (fw *forwarder) receive() {
	for {
		batch, err := fw.stream.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = status.Error(codes.Unavailable, "forwarded publish stream ended")
			}
			fw.mu.Lock()
			fw.failLocked(err)
			fw.mu.Unlock()
			return
		}
		for _, ack := range batch.GetAcks() {
			fw.mu.Lock()
			if len(fw.pending) == 0 {
				fw.mu.Unlock()
				continue
			}
			p := fw.pending[0]
			fw.pending = fw.pending[1:]
			fw.mu.Unlock()
			p.done(ack)
		}
	}
}

// failLocked fails every pending publish with err; fw.mu is held.
func (fw *forwarder) failLocked(err error) {
	if fw.err == nil {
		fw.err = err
	}
	for _, p := range fw.pending {
		p.done(&pb.PubAck{Id: p.id, ErrorCode: int32(codes.Unavailable), Error: err.Error()})
	}
	fw.pending = nil
}

func (fw *forwarder) closeSend() { _ = fw.stream.CloseSend() }
