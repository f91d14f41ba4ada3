// Package client is the Go client of a Strata cluster, for application
// developers: publish messages (one at a time or with many acks
// outstanding), read them back by sequence or through consumers (Fetch,
// Consume), and administer streams and consumers and inspect servers. It speaks the gRPC API in client/pb to any server of
// the cluster; the servers forward each call to the leader that serves it.
//
// Calls that are safe to repeat are retried when a server answers
// Unavailable (no leader yet, or the server went away), on the next
// address, with a short backoff bounded by the call's context. A publish
// is retried only when it carries a message id (WithMsgID): the stream's
// dedupe window then makes a repeat harmless.
package client

import (
	"context"
	"crypto/tls"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/stratadb/strata/client/pb"
)

// Options configure a Client.
type Options struct {
	// Addrs are the servers' client addresses, "host:port".
	Addrs []string
	// Timeout bounds each call attempt (0: only the call's context does).
	Timeout time.Duration
	// DialTimeout bounds Connect's wait for one address to become ready.
	DialTimeout time.Duration
	// RetryBackoff is the first wait before retrying an Unavailable call;
	// it doubles up to MaxBackoff. MaxRetries bounds the retries of one call.
	RetryBackoff time.Duration
	MaxBackoff   time.Duration
	MaxRetries   int
	// User and Password, when set, are sent as gRPC metadata "user" and
	// "password" with every call.
	User     string
	Password string
	// Token, when set, is sent as gRPC metadata "token" with every call,
	// instead of User and Password: a user whose config entry holds the
	// token's hash (`strata server token`).
	Token string
	// TLS, when set, connects over TLS with it (LoadTLS builds one from
	// files); nil connects in plain text.
	TLS *tls.Config
	// DialOptions are added to the gRPC dial options.
	DialOptions []grpc.DialOption
}

// DefaultOptions returns the options Connect uses.
func DefaultOptions() Options {
	return Options{
		DialTimeout:  2 * time.Second,
		RetryBackoff: 25 * time.Millisecond,
		MaxBackoff:   time.Second,
		MaxRetries:   10,
	}
}

// Validate reports the first bad option.
func (o Options) Validate() error {
	switch {
	case len(o.Addrs) == 0:
		return fmt.Errorf("%w: no server address", ErrInvalid)
	case o.Timeout < 0 || o.DialTimeout < 0 || o.RetryBackoff < 0 || o.MaxBackoff < 0:
		return fmt.Errorf("%w: negative duration", ErrInvalid)
	case o.MaxRetries < 0:
		return fmt.Errorf("%w: negative MaxRetries", ErrInvalid)
	}
	for _, a := range o.Addrs {
		if a == "" {
			return fmt.Errorf("%w: empty server address", ErrInvalid)
		}
	}
	return nil
}

// Client is a connection to a Strata cluster; it is safe for concurrent use.
type Client struct {
	opts  Options
	conns []*grpc.ClientConn
	apis  []pb.StrataClient

	mu      sync.Mutex
	current int
	closed  bool
}

// Connect connects to the first of addrs that answers, within ctx.
func Connect(ctx context.Context, addrs ...string) (*Client, error) {
	opts := DefaultOptions()
	opts.Addrs = addrs
	return ConnectOptions(ctx, opts)
}

// streamWindow is the gRPC flow-control window of one call.
const streamWindow = 8 << 20

// maxRecvMsg bounds one message the client receives.
const maxRecvMsg = 64 << 20

// ConnectOptions connects with opts to the first of opts.Addrs that
// answers; it tries them in turn, with backoff, until ctx ends.
func ConnectOptions(ctx context.Context, opts Options) (*Client, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	creds := insecure.NewCredentials()
	if opts.TLS != nil {
		creds = credentials.NewTLS(opts.TLS)
	}
	dial := []grpc.DialOption{grpc.WithTransportCredentials(creds),
		// Backups and restores stream MiB-sized messages: gRPC's 64 KiB
		// default window would throttle them.
		grpc.WithInitialWindowSize(streamWindow), grpc.WithInitialConnWindowSize(2 * streamWindow),
		// A backup chunk holds at least one message, whatever its size.
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxRecvMsg))}
	if opts.Token != "" {
		dial = append(dial, grpc.WithPerRPCCredentials(tokenCreds(opts.Token)))
	} else if opts.User != "" || opts.Password != "" {
		dial = append(dial, grpc.WithPerRPCCredentials(userCreds{opts.User, opts.Password}))
	}
	dial = append(dial, opts.DialOptions...)
	c := &Client{opts: opts}
	for _, addr := range opts.Addrs {
		conn, err := grpc.NewClient(addr, dial...)
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("%w: %s: %v", ErrInvalid, addr, err)
		}
		c.conns = append(c.conns, conn)
		c.apis = append(c.apis, pb.NewStrataClient(conn))
	}
	if err := c.waitReady(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Prefer returns a new client with c's options whose first server is
// addr (then c's others): for a long run of calls that one server
// serves best, such as a restore's batches on the stream's leader, which
// no server then forwards. The caller closes it.
func (c *Client) Prefer(ctx context.Context, addr string) (*Client, error) {
	opts := c.opts
	opts.Addrs = append([]string{addr}, slices.DeleteFunc(slices.Clone(c.opts.Addrs), func(a string) bool { return a == addr })...)
	return ConnectOptions(ctx, opts)
}

// waitReady makes the first address that connects the current one.
func (c *Client) waitReady(ctx context.Context) error {
	backoff := c.opts.RetryBackoff
	for {
		for i, conn := range c.conns {
			if ready(ctx, conn, c.opts.DialTimeout) {
				c.mu.Lock()
				c.current = i
				c.mu.Unlock()
				return nil
			}
			if ctx.Err() != nil {
				break
			}
		}
		if err := sleep(ctx, backoff); err != nil {
			return fmt.Errorf("%w: no server reachable at %s: %w", ErrUnavailable, strings.Join(c.opts.Addrs, ", "), err)
		}
		backoff = min(2*backoff, c.opts.MaxBackoff)
	}
}

// ready connects conn and reports whether it became ready within timeout.
func ready(ctx context.Context, conn *grpc.ClientConn, timeout time.Duration) bool {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	conn.Connect()
	for {
		s := conn.GetState()
		switch s {
		case connectivity.Ready:
			return true
		case connectivity.TransientFailure, connectivity.Shutdown:
			return false
		case connectivity.Idle:
			conn.Connect()
		}
		if !conn.WaitForStateChange(ctx, s) {
			return false
		}
	}
}

// Close closes the connections; calls in progress fail.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	var first error
	for _, conn := range c.conns {
		if err := conn.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// api returns the current server's client and its index.
func (c *Client) api() (pb.StrataClient, int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, 0, ErrClosed
	}
	return c.apis[c.current], c.current, nil
}

// next moves on from server i to the next address, unless another call
// already did.
func (c *Client) next(i int) {
	c.mu.Lock()
	if c.current == i {
		c.current = (i + 1) % len(c.apis)
	}
	c.mu.Unlock()
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// userCreds sends the user and password as metadata with every call.
type userCreds struct{ user, password string }

func (u userCreds) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"user": u.user, "password": u.password}, nil
}

func (userCreds) RequireTransportSecurity() bool { return false }

// tokenCreds sends the token as metadata with every call.
type tokenCreds string

func (t tokenCreds) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"token": string(t)}, nil
}

func (tokenCreds) RequireTransportSecurity() bool { return false }
