package api

import (
	"crypto/tls"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/stratadb/strata/client/pb"
)

// pool keeps one client connection per server's client address. The
// same address always gives the same client value.
type pool struct {
	opts    []grpc.DialOption
	mu      sync.Mutex
	conns   map[string]*grpc.ClientConn
	clients map[string]pb.StrataClient
}

// newPool returns a pool that dials with tlsCfg, or in plain text when
// it is nil, and with token, when set, sends peerCredentials.
func newPool(tlsCfg *tls.Config, token string) *pool {
	creds := insecure.NewCredentials()
	if tlsCfg != nil {
		creds = credentials.NewTLS(tlsCfg)
	}
	unary, stream := peerCredentials(token)
	opts := []grpc.DialOption{grpc.WithTransportCredentials(creds),
		grpc.WithChainUnaryInterceptor(unary), grpc.WithChainStreamInterceptor(stream)}
	return &pool{opts: opts, conns: map[string]*grpc.ClientConn{}, clients: map[string]pb.StrataClient{}}
}

// client returns a client for the server at addr.
func (p *pool) client(addr string) (pb.StrataClient, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.clients[addr]; ok {
		return c, nil
	}
	c, err := grpc.NewClient(addr, p.opts...)
	if err != nil {
		return nil, err
	}
	p.conns[addr] = c
	p.clients[addr] = pb.NewStrataClient(c)
	return p.clients[addr], nil
}

func (p *pool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = map[string]*grpc.ClientConn{}
	p.clients = map[string]pb.StrataClient{}
}

// reachable reports whether the connection to addr is not known to be
// failing: a server that refuses connections (it just died) is not worth
// forwarding to while its group elects a new leader.
func (p *pool) reachable(addr string) bool {
	p.mu.Lock()
	c, ok := p.conns[addr]
	p.mu.Unlock()
	if !ok {
		return true
	}
	st := c.GetState()
	return st != connectivity.TransientFailure && st != connectivity.Shutdown
}
