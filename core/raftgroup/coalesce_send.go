package raftgroup

import (
	"bufio"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-msgpack/v2/codec"
	"github.com/hashicorp/raft"
)

// coalescedCall is one group's call waiting for its answer. req is a copy:
// raft may reuse its request once the call returns, even on a timeout.
type coalescedCall struct {
	id    uint64
	group string
	req   raft.AppendEntriesRequest
	done  chan coalescedResp // capacity 1
}

// coalescedPeer sends the calls for one peer node: it waits CoalesceWindow
// after the first queued call, then writes every queued call in one frame.
type coalescedPeer struct {
	c      *coalescer
	target raft.ServerAddress
	kick   chan struct{} // capacity 1: calls are queued

	mu    sync.Mutex
	queue []*coalescedCall
	conn  *coalescedConn
}

func newCoalescedPeer(c *coalescer, target raft.ServerAddress) *coalescedPeer {
	return &coalescedPeer{c: c, target: target, kick: make(chan struct{}, 1)}
}

func (p *coalescedPeer) enqueue(call *coalescedCall) {
	p.mu.Lock()
	p.queue = append(p.queue, call)
	p.mu.Unlock()
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

func (p *coalescedPeer) take() []*coalescedCall {
	p.mu.Lock()
	defer p.mu.Unlock()
	calls := p.queue
	p.queue = nil
	return calls
}

// run is the peer's writer loop.
func (p *coalescedPeer) run() {
	defer p.c.wg.Done()
	window := time.NewTimer(time.Hour)
	window.Stop()
	for {
		select {
		case <-p.kick:
		case <-p.c.done:
			return
		}
		if p.c.window > 0 {
			window.Reset(p.c.window)
			select {
			case <-window.C:
			case <-p.c.done:
				return
			}
		}
		if calls := p.take(); len(calls) > 0 {
			p.write(calls)
		}
	}
}

// write sends calls in one frame, dialing first if there is no connection;
// a failure answers every call it leaves waiting with the error.
func (p *coalescedPeer) write(calls []*coalescedCall) {
	cc, err := p.connect()
	if err != nil {
		failCalls(calls, err)
		return
	}
	frame := make([]coalescedReq, len(calls))
	for i, call := range calls {
		frame[i] = coalescedReq{ID: call.id, Group: call.group, Req: call.req}
	}
	cc.add(calls)
	if err := cc.write(frame); err != nil {
		p.dropConn(cc, err)
	}
}

func (p *coalescedPeer) connect() (*coalescedConn, error) {
	p.mu.Lock()
	cc := p.conn
	p.mu.Unlock()
	if cc != nil {
		return cc, nil
	}
	conn, err := p.c.layer.Dial(p.target, DefaultTransportTimeout)
	if err != nil {
		return nil, err
	}
	cc = newCoalescedConn(conn)
	p.mu.Lock()
	p.conn = cc
	p.mu.Unlock()
	p.c.wg.Add(1)
	go func() {
		defer p.c.wg.Done()
		p.dropConn(cc, cc.readLoop())
	}()
	return cc, nil
}

// dropConn closes cc, answers its waiting calls with err and, if it is
// still the peer's connection, forgets it so the next write dials again.
func (p *coalescedPeer) dropConn(cc *coalescedConn, err error) {
	p.mu.Lock()
	if p.conn == cc {
		p.conn = nil
	}
	p.mu.Unlock()
	cc.close(err)
}

func (p *coalescedPeer) closeConn(err error) {
	p.mu.Lock()
	cc := p.conn
	p.conn = nil
	calls := p.queue
	p.queue = nil
	p.mu.Unlock()
	failCalls(calls, err)
	if cc != nil {
		cc.close(err)
	}
}

// abandon forgets a call whose caller stopped waiting. A connection that
// has answered nothing for as long as the call waited is taken for dead
// (a peer that stopped, or a link that drops everything) and closed.
func (p *coalescedPeer) abandon(call *coalescedCall, waited time.Duration) {
	p.mu.Lock()
	for i, q := range p.queue {
		if q == call {
			p.queue = append(p.queue[:i], p.queue[i+1:]...)
			break
		}
	}
	cc := p.conn
	p.mu.Unlock()
	if cc == nil {
		return
	}
	cc.forget(call.id)
	if time.Since(cc.lastRead()) >= waited {
		p.dropConn(cc, ErrCoalescedTimeout)
	}
}

func failCalls(calls []*coalescedCall, err error) {
	for _, call := range calls {
		call.done <- coalescedResp{ID: call.id, Err: err.Error()}
	}
}

// coalescedConn is one outbound connection and the calls waiting on it.
type coalescedConn struct {
	conn net.Conn
	w    *bufio.Writer
	enc  *codec.Encoder
	read atomic.Int64 // unix nanos of the last frame read (or the dial)

	mu      sync.Mutex
	closed  bool
	pending map[uint64]*coalescedCall
}

func newCoalescedConn(conn net.Conn) *coalescedConn {
	w := bufio.NewWriterSize(conn, 64<<10)
	cc := &coalescedConn{conn: conn, w: w, enc: codec.NewEncoder(w, &codec.MsgpackHandle{}),
		pending: map[uint64]*coalescedCall{}}
	cc.read.Store(time.Now().UnixNano())
	return cc
}

func (cc *coalescedConn) lastRead() time.Time { return time.Unix(0, cc.read.Load()) }

func (cc *coalescedConn) add(calls []*coalescedCall) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.closed {
		failCalls(calls, ErrCoalescerClosed)
		return
	}
	for _, call := range calls {
		cc.pending[call.id] = call
	}
}

func (cc *coalescedConn) forget(id uint64) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	delete(cc.pending, id)
}

// write encodes one frame; only the peer's writer loop calls it.
func (cc *coalescedConn) write(frame []coalescedReq) error {
	if err := cc.conn.SetWriteDeadline(time.Now().Add(DefaultTransportTimeout)); err != nil {
		return err
	}
	if err := cc.enc.Encode(frame); err != nil {
		return err
	}
	return cc.w.Flush()
}

// readLoop hands each answer to its call until the connection fails.
func (cc *coalescedConn) readLoop() error {
	dec := codec.NewDecoder(bufio.NewReaderSize(cc.conn, 64<<10), &codec.MsgpackHandle{})
	for {
		var frame []coalescedResp
		if err := dec.Decode(&frame); err != nil {
			return err
		}
		cc.read.Store(time.Now().UnixNano())
		cc.mu.Lock()
		for _, r := range frame {
			if call := cc.pending[r.ID]; call != nil {
				delete(cc.pending, r.ID)
				call.done <- r
			}
		}
		cc.mu.Unlock()
	}
}

// close ends the connection and answers every waiting call with err.
func (cc *coalescedConn) close(err error) {
	cc.mu.Lock()
	if cc.closed {
		cc.mu.Unlock()
		return
	}
	cc.closed = true
	calls := make([]*coalescedCall, 0, len(cc.pending))
	for _, call := range cc.pending {
		calls = append(calls, call)
	}
	clear(cc.pending)
	cc.mu.Unlock()
	_ = cc.conn.Close()
	failCalls(calls, err)
}
