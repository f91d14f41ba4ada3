package api

import (
	"context"
	"fmt"
	"net"
	"sync/atomic"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc/stats"
)

// connSlack is how many connections beyond MaxConns the client port
// still accepts, so that their calls get an error that says why; beyond
// that a connection is closed as soon as it is accepted, so no flood of
// connections can take the node's memory.
const connSlack = 256

// conns enforces MaxConns and MaxFetches on the client port. As a gRPC
// stats.Handler it tags each connection with a connState when gRPC
// starts serving it; the interceptors and ConsumerFetch read that state
// from the call's context. Calls from another server are not refused:
// forwarded ones were counted on the server the client called, and many
// clients' calls share one connection between two servers. With a
// cluster token, such a call proves where it comes from with it; without
// one, the forwarding header is taken at its word.
type conns struct {
	limits Limits
	logger hclog.Logger
	// fromPeer reports whether another server of the cluster made the
	// call (forwarded, or on its own behalf); nil: forwarded alone.
	fromPeer func(context.Context) bool
	open     atomic.Int64 // connections gRPC serves
	sockets  atomic.Int64 // connections accepted, not yet closed
	refused  atomic.Uint64
}

// connState is one connection's standing against the limits.
type connState struct {
	over    bool // opened beyond MaxConns: its calls are refused
	fetches atomic.Int64
}

type connKey struct{}

var _ stats.Handler = (*conns)(nil)

// TagConn counts a connection gRPC starts serving and tags its context.
func (c *conns) TagConn(ctx context.Context, info *stats.ConnTagInfo) context.Context {
	n := c.open.Add(1)
	st := &connState{over: n > int64(c.limits.MaxConns)}
	if st.over {
		c.logger.Warn("client connection beyond max_connections; its calls are refused",
			"remote", info.RemoteAddr, "max_connections", c.limits.MaxConns)
	}
	return context.WithValue(ctx, connKey{}, st)
}

// HandleConn uncounts a connection when gRPC stops serving it.
func (c *conns) HandleConn(_ context.Context, s stats.ConnStats) {
	if _, ok := s.(*stats.ConnEnd); ok {
		c.open.Add(-1)
	}
}

// TagRPC and HandleRPC complete stats.Handler; calls are checked by the
// interceptors.
func (c *conns) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context { return ctx }

// HandleRPC does nothing.
func (c *conns) HandleRPC(context.Context, stats.RPCStats) {}

// checkCall refuses a client's call on a connection beyond MaxConns.
func (c *conns) checkCall(ctx context.Context) error {
	st, _ := ctx.Value(connKey{}).(*connState)
	if st == nil || !st.over || c.peer(ctx) {
		return nil
	}
	c.refused.Add(1)
	return fmt.Errorf("%w: the node has max_connections (%d) client connections", ErrResourceLimit, c.limits.MaxConns)
}

// acquireFetch counts a fetch on the call's connection, or refuses it
// beyond MaxFetches; release undoes the count.
func (c *conns) acquireFetch(ctx context.Context) (release func(), err error) {
	st, _ := ctx.Value(connKey{}).(*connState)
	if st == nil || c.peer(ctx) {
		return func() {}, nil
	}
	if st.fetches.Add(1) > int64(c.limits.MaxFetches) {
		st.fetches.Add(-1)
		c.refused.Add(1)
		return nil, fmt.Errorf("%w: max_fetches_per_connection (%d) fetches are in flight on this connection",
			ErrResourceLimit, c.limits.MaxFetches)
	}
	return func() { st.fetches.Add(-1) }, nil
}

func (c *conns) peer(ctx context.Context) bool {
	if c.fromPeer == nil {
		return forwarded(ctx)
	}
	return c.fromPeer(ctx)
}

// listener closes connections accepted beyond MaxConns plus connSlack.
func (c *conns) listener(l net.Listener) net.Listener { return &capListener{Listener: l, c: c} }

type capListener struct {
	net.Listener
	c *conns
}

func (l *capListener) Accept() (net.Conn, error) {
	for {
		conn, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.c.sockets.Add(1) <= int64(l.c.limits.MaxConns+connSlack) {
			return &countedConn{Conn: conn, c: l.c}, nil
		}
		l.c.sockets.Add(-1)
		l.c.refused.Add(1)
		conn.Close()
	}
}

// countedConn uncounts itself once, on its first Close.
type countedConn struct {
	net.Conn
	c      *conns
	closed atomic.Bool
}

func (c *countedConn) Close() error {
	if c.closed.CompareAndSwap(false, true) {
		c.c.sockets.Add(-1)
	}
	return c.Conn.Close()
}
