//go:build faults

package main

import (
	"encoding/binary"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stratadb/strata/internal/testnet"
)

// linkProxy stands in front of one server's cluster port (the server
// advertises the proxy's address). The cluster port's header names the
// dialing server by its advertised address, so the proxy knows where a
// connection comes from and can cut chosen links: a network partition.
type linkProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	cut    map[string]bool // senders refused; "*" refuses all
	conns  map[net.Conn]string
}

func startProxy(t *testing.T, target string) *linkProxy {
	ln, err := net.Listen("tcp", testnet.FreeAddr(t))
	if err != nil {
		t.Fatal(err)
	}
	p := &linkProxy{ln: ln, target: target, cut: map[string]bool{}, conns: map[net.Conn]string{}}
	go p.accept()
	t.Cleanup(func() { _ = ln.Close(); p.isolate(false, "*") })
	return p
}

func (p *linkProxy) addr() string { return p.ln.Addr().String() }

func (p *linkProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.serve(c)
	}
}

func (p *linkProxy) serve(c net.Conn) {
	hdr, src, err := readMuxHeader(c)
	if err != nil {
		_ = c.Close()
		return
	}
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		_ = c.Close()
		return
	}
	if _, err := up.Write(hdr); err != nil {
		_ = c.Close()
		_ = up.Close()
		return
	}
	p.mu.Lock()
	if p.cut["*"] || p.cut[src] {
		p.mu.Unlock()
		_ = c.Close()
		_ = up.Close()
		return
	}
	p.conns[c], p.conns[up] = src, src
	p.mu.Unlock()
	go func() { _, _ = io.Copy(up, c); _ = up.Close() }()
	_, _ = io.Copy(c, up)
	_ = c.Close()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}

// readMuxHeader reads the cluster port's header (magic, group, sender,
// lengths as big-endian uint16) and returns its bytes and the sender.
func readMuxHeader(c net.Conn) ([]byte, string, error) {
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	defer c.SetReadDeadline(time.Time{})
	hdr := make([]byte, 3)
	if _, err := io.ReadFull(c, hdr); err != nil {
		return nil, "", err
	}
	group := make([]byte, int(binary.BigEndian.Uint16(hdr[1:]))+2)
	if _, err := io.ReadFull(c, group); err != nil {
		return nil, "", err
	}
	sender := make([]byte, binary.BigEndian.Uint16(group[len(group)-2:]))
	if _, err := io.ReadFull(c, sender); err != nil {
		return nil, "", err
	}
	return append(append(hdr, group...), sender...), string(sender), nil
}

// isolate cuts (on) or restores (off) the links from the given senders
// (advertised addresses; "*": from everyone), closing the connections
// already open.
func (p *linkProxy) isolate(on bool, srcs ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range srcs {
		if !on {
			delete(p.cut, s)
			continue
		}
		p.cut[s] = true
		for c, from := range p.conns {
			if s == "*" || from == s {
				_ = c.Close()
			}
		}
	}
}

// newProxiedCluster sets up n servers (flags only, all seeding n1's
// proxy, bootstrap_expect n: with fewer, servers that met different
// subsets could bootstrap different groups, as with Consul), each behind
// its own proxy.
func newProxiedCluster(t *testing.T, n int) ([]*server, []*linkProxy) {
	dir := t.TempDir()
	var servers []*server
	var proxies []*linkProxy
	for i := 1; i <= n; i++ {
		listen := testnet.FreeAddr(t)
		p := startProxy(t, listen)
		seed := ""
		if i > 1 {
			seed = proxies[0].addr()
		}
		s := flagServer(t, dir, i, n, listen, p.addr(), seed)
		servers, proxies = append(servers, s), append(proxies, p)
	}
	return servers, proxies
}
