//go:build faults

package main

import (
	"fmt"
	"io"
	"net"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stratadb/strata/internal/testnet"
)

// linkProxy stands in front of one server's cluster port (the server
// advertises the proxy's address). Servers listen on distinct loopback
// IPs and dial from them, so the proxy knows which server a connection
// comes from and can cut chosen links: a network partition.
type linkProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	cut    map[string]bool // source IPs refused; "*" refuses all
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
	src := c.RemoteAddr().(*net.TCPAddr).IP.String()
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		_ = c.Close()
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

// isolate cuts (on) or restores (off) the links from the given source
// IPs ("*": from everyone), closing the connections already open.
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
// proxy, bootstrap_expect 3), server i on cluster IP 127.0.0.(10+i)
// behind its own proxy.
func newProxiedCluster(t *testing.T, n int) ([]*server, []*linkProxy, []string) {
	dir := t.TempDir()
	var servers []*server
	var proxies []*linkProxy
	var ips []string
	for i := 1; i <= n; i++ {
		ip := fmt.Sprintf("127.0.0.%d", 10+i)
		_, port, _ := net.SplitHostPort(testnet.FreeAddr(t))
		listen := net.JoinHostPort(ip, port)
		p := startProxy(t, listen)
		c, h := testnet.FreeAddr(t), testnet.FreeAddr(t)
		name := fmt.Sprintf("n%d", i)
		args := []string{"serve", "--name", name, "--cluster", "T", "--listen", c, "--cluster-listen", listen,
			"--cluster-advertise", p.addr(), "--http", h, "--data-dir", filepath.Join(dir, name), "--bootstrap-expect", "3"}
		if i > 1 {
			args = append(args, "--routes", proxies[0].addr())
		}
		s := &server{name: name, http: h, client: c, clusterAddr: p.addr(), dir: dir, args: args}
		t.Cleanup(s.kill)
		servers, proxies, ips = append(servers, s), append(proxies, p), append(ips, ip)
	}
	return servers, proxies, ips
}
