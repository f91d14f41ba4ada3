package raftgroup

import (
	"context"
	"crypto/tls"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

var _ raft.StreamLayer = (*muxStream)(nil)

// muxStream is one group's raft.StreamLayer on a Mux.
type muxStream struct {
	mux    *Mux
	group  string
	header []byte

	acceptCh  chan net.Conn // unbuffered: a conn is either taken by Accept or closed
	closeCh   chan struct{}
	closeOnce sync.Once

	mu    sync.Mutex
	conns map[*muxConn]struct{} // accepted and still open
}

func newMuxStream(m *Mux, group string) *muxStream {
	return &muxStream{
		mux:      m,
		group:    group,
		header:   encodeHeader(group, m.advertise.String()),
		acceptCh: make(chan net.Conn),
		closeCh:  make(chan struct{}),
		conns:    make(map[*muxConn]struct{}),
	}
}

// Dial connects to the mux at address and names this group in the header.
func (s *muxStream) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	if s.isClosed() {
		return nil, ErrStreamClosed
	}
	conn, err := s.mux.dial(string(address), timeout)
	if err != nil {
		return nil, err
	}
	if err := writeHeader(conn, s.header, timeout); err != nil {
		_ = conn.Close()
		return nil, err
	}
	return conn, nil
}

func writeHeader(conn net.Conn, header []byte, timeout time.Duration) error {
	if timeout > 0 {
		if err := conn.SetWriteDeadline(time.Now().Add(timeout)); err != nil {
			return err
		}
	}
	if _, err := conn.Write(header); err != nil {
		return err
	}
	return conn.SetWriteDeadline(time.Time{})
}

// Accept returns the next inbound connection whose header named this group.
func (s *muxStream) Accept() (net.Conn, error) {
	select {
	case conn := <-s.acceptCh:
		return s.track(conn)
	case <-s.closeCh:
		return nil, ErrStreamClosed
	}
}

// track records conn so Close can end it; a conn that raced with Close is
// closed instead of returned.
func (s *muxStream) track(conn net.Conn) (net.Conn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.isClosed() {
		_ = conn.Close()
		return nil, ErrStreamClosed
	}
	mc := &muxConn{Conn: conn, stream: s}
	s.conns[mc] = struct{}{}
	return mc, nil
}

// deliver hands conn to Accept, or closes it if the group closes or nobody
// accepts within timeout.
func (s *muxStream) deliver(conn net.Conn, timeout time.Duration) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case s.acceptCh <- conn:
	case <-s.closeCh:
		_ = conn.Close()
	case <-t.C:
		s.mux.logger.Warn("dropping connection not accepted in time", "group", s.group, "remote", conn.RemoteAddr())
		_ = conn.Close()
	}
}

// Close unregisters the group from the mux and closes its accepted connections.
func (s *muxStream) Close() error {
	s.mux.unregister(s)
	s.shutdown()
	return nil
}

// Addr returns the mux's advertised address.
func (s *muxStream) Addr() net.Addr { return s.mux.Addr() }

func (s *muxStream) shutdown() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		close(s.closeCh)
		conns := s.conns
		s.conns = nil
		s.mu.Unlock()
		for c := range conns {
			c.shutdown()
		}
	})
}

func (s *muxStream) isClosed() bool {
	select {
	case <-s.closeCh:
		return true
	default:
		return false
	}
}

func (s *muxStream) forget(c *muxConn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// muxConn is an accepted connection; it only hooks Close so the stream
// layer stops tracking it. Reads and writes go straight to the TCP conn.
type muxConn struct {
	net.Conn
	stream *muxStream
}

func (c *muxConn) Close() error {
	c.stream.forget(c)
	return c.Conn.Close()
}

// connCloseGrace is how long an accepted conn may stay open after its stream
// layer closed, giving raft's reader a clean EOF before the hard close.
const connCloseGrace = time.Second

// shutdown ends an accepted conn. Shutting down both directions (a TCP
// FIN to the peer) makes raft's blocked reader see io.EOF and close the conn
// quietly, where a plain Close would make it log "use of closed network
// connection" at ERROR; a timer closes the fd for sure.
func (c *muxConn) shutdown() {
	tc, ok := c.Conn.(interface {
		CloseRead() error
		CloseWrite() error
	})
	if !ok || tc.CloseRead() != nil {
		_ = c.Conn.Close()
		return
	}
	_ = tc.CloseWrite()
	time.AfterFunc(connCloseGrace, func() { _ = c.Conn.Close() })
}

// dial connects to a peer's mux, over TLS when the mux has a client
// config: the handshake is done within timeout.
func (m *Mux) dial(address string, timeout time.Duration) (net.Conn, error) {
	d := net.Dialer{Timeout: timeout}
	if m.clientTLS == nil {
		return d.Dial("tcp", address)
	}
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	cfg := m.clientTLS.Clone()
	cfg.ServerName = host
	ctx := context.Background()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	td := tls.Dialer{NetDialer: &d, Config: cfg}
	return td.DialContext(ctx, "tcp", address)
}
