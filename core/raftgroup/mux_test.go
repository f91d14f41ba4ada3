package raftgroup

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

const testIOTimeout = 5 * time.Second

func newTestMux(t *testing.T, headerTimeout time.Duration) *Mux {
	t.Helper()
	cfg := DefaultMuxConfig()
	cfg.HeaderTimeout = headerTimeout
	cfg.Logger = newTestLogger(t, 0)
	m, err := Listen("127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

func mustStream(t *testing.T, m *Mux, group string) raft.StreamLayer {
	t.Helper()
	s, err := m.StreamLayer(group)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func addrOf(m *Mux) raft.ServerAddress { return raft.ServerAddress(m.Addr().String()) }

// acceptAsync runs Accept in a goroutine and delivers its result.
func acceptAsync(s raft.StreamLayer) <-chan net.Conn {
	ch := make(chan net.Conn, 1)
	go func() {
		c, err := s.Accept()
		if err != nil {
			c = nil
		}
		ch <- c
	}()
	return ch
}

func waitConn(t *testing.T, ch <-chan net.Conn) net.Conn {
	t.Helper()
	select {
	case c := <-ch:
		if c == nil {
			t.Fatal("accept failed")
		}
		t.Cleanup(func() { _ = c.Close() })
		return c
	case <-time.After(testIOTimeout):
		t.Fatal("accept timed out")
		return nil
	}
}

func mustDial(t *testing.T, s raft.StreamLayer, addr raft.ServerAddress) net.Conn {
	t.Helper()
	c, err := s.Dial(addr, testIOTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func writeString(t *testing.T, c net.Conn, s string) {
	t.Helper()
	if _, err := c.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
}

func readString(t *testing.T, c net.Conn, n int) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(testIOTimeout))
	buf := make([]byte, n)
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatal(err)
	}
	return string(buf)
}

// expectClosedByPeer fails unless the server side closes c.
func expectClosedByPeer(t *testing.T, c net.Conn) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(testIOTimeout))
	var b [1]byte
	_, err := c.Read(b[:])
	var ne net.Error
	if err == nil || (errors.As(err, &ne) && ne.Timeout()) {
		t.Fatalf("connection not closed by peer: %v", err)
	}
}

func TestMuxRoutesGroupsOverOnePort(t *testing.T) {
	server, client := newTestMux(t, time.Second), newTestMux(t, time.Second)
	sa, sb := mustStream(t, server, "a"), mustStream(t, server, "b")
	ca, cb := mustStream(t, client, "a"), mustStream(t, client, "b")
	if sa.Addr().String() != server.Addr().String() || sb.Addr().String() != server.Addr().String() {
		t.Fatalf("stream addrs %v %v, want mux addr %v", sa.Addr(), sb.Addr(), server.Addr())
	}

	// Dial b first so a mis-route would hand b's conn to a.
	db := mustDial(t, cb, addrOf(server))
	writeString(t, db, "to-b")
	da := mustDial(t, ca, addrOf(server))
	writeString(t, da, "to-a")

	gotA := waitConn(t, acceptAsync(sa))
	gotB := waitConn(t, acceptAsync(sb))
	if s := readString(t, gotA, 4); s != "to-a" {
		t.Fatalf("group a read %q", s)
	}
	if s := readString(t, gotB, 4); s != "to-b" {
		t.Fatalf("group b read %q", s)
	}
	writeString(t, gotA, "ack-a")
	if s := readString(t, da, 5); s != "ack-a" {
		t.Fatalf("dialer a read %q", s)
	}
}

func TestMuxClosesUnknownGroup(t *testing.T) {
	server, client := newTestMux(t, time.Second), newTestMux(t, time.Second)
	mustStream(t, server, "known")
	c := mustDial(t, mustStream(t, client, "unknown"), addrOf(server))
	expectClosedByPeer(t, c)
}

func TestMuxDropsSlowAndBadHeaders(t *testing.T) {
	server, client := newTestMux(t, 200*time.Millisecond), newTestMux(t, time.Second)
	sa := mustStream(t, server, "a")

	silent, err := net.Dial("tcp", server.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	bad, err := net.Dial("tcp", server.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	writeString(t, bad, "GET / HTTP/1.1\r\n\r\n")

	// A silent client must not hold up a good one.
	accepted := acceptAsync(sa)
	da := mustDial(t, mustStream(t, client, "a"), addrOf(server))
	writeString(t, da, "x")
	if s := readString(t, waitConn(t, accepted), 1); s != "x" {
		t.Fatalf("read %q", s)
	}
	expectClosedByPeer(t, bad)
	expectClosedByPeer(t, silent)
}

func TestMuxRegistration(t *testing.T) {
	m := newTestMux(t, time.Second)
	mustStream(t, m, "g")
	if _, err := m.StreamLayer("g"); !errors.Is(err, ErrGroupRegistered) {
		t.Fatalf("duplicate group: %v", err)
	}
	for _, id := range []string{"", string(make([]byte, MaxGroupIDLen+1))} {
		if _, err := m.StreamLayer(id); !errors.Is(err, ErrInvalidGroupID) {
			t.Fatalf("group id of length %d: %v", len(id), err)
		}
	}
	if _, err := NewMux(fakeListener{addr: &net.TCPAddr{IP: net.IPv4zero, Port: 1}}, DefaultMuxConfig()); !errors.Is(err, ErrNotAdvertisable) {
		t.Fatalf("unspecified address: %v", err)
	}
}

func TestStreamLayerCloseUnregistersOnlyItsGroup(t *testing.T) {
	server, client := newTestMux(t, time.Second), newTestMux(t, time.Second)
	sa, sb := mustStream(t, server, "a"), mustStream(t, server, "b")
	ca, cb := mustStream(t, client, "a"), mustStream(t, client, "b")

	acceptedA := acceptAsync(sa)
	da := mustDial(t, ca, addrOf(server))
	gotA := waitConn(t, acceptedA)

	blocked := acceptAsync(sa)
	if err := sa.Close(); err != nil {
		t.Fatal(err)
	}
	if c := <-blocked; c != nil {
		t.Fatal("Accept after Close returned a connection")
	}
	expectClosedByPeer(t, da) // accepted conns of the group are closed
	if _, err := gotA.Write([]byte("x")); err == nil {
		t.Fatal("write on closed accepted conn succeeded")
	}
	if _, err := sa.Dial(addrOf(server), time.Second); !errors.Is(err, ErrStreamClosed) {
		t.Fatalf("Dial after Close: %v", err)
	}
	expectClosedByPeer(t, mustDial(t, ca, addrOf(server)))

	acceptedB := acceptAsync(sb)
	mustDial(t, cb, addrOf(server))
	waitConn(t, acceptedB)

	sa2 := mustStream(t, server, "a") // the id can be registered again
	acceptedA2 := acceptAsync(sa2)
	mustDial(t, ca, addrOf(server))
	waitConn(t, acceptedA2)
}

func TestMuxClose(t *testing.T) {
	server := newTestMux(t, 10*time.Second)
	sa := mustStream(t, server, "a")
	pending, err := net.Dial("tcp", server.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer pending.Close()
	blocked := acceptAsync(sa)
	// The mux must hold the conn as pending (waiting for its header) when
	// it closes: a conn still in the listener's backlog would be reset by
	// the listener's close, and the check below would pass without the
	// mux closing it.
	for deadline := time.Now().Add(testIOTimeout); pendingConns(server) == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the mux did not take the pending conn within %s", testIOTimeout)
		}
	}

	if err := server.Close(); err != nil {
		t.Fatal(err)
	}
	if c := <-blocked; c != nil {
		t.Fatal("Accept after mux Close returned a connection")
	}
	expectClosedByPeer(t, pending)
	if _, err := server.StreamLayer("b"); !errors.Is(err, ErrMuxClosed) {
		t.Fatalf("StreamLayer after Close: %v", err)
	}
	if c, err := net.DialTimeout("tcp", server.Addr().String(), time.Second); err == nil {
		c.Close()
		t.Fatal("listener still open after Close")
	}
	if err := server.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// pendingConns returns how many accepted conns m holds waiting for their
// header.
func pendingConns(m *Mux) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.pending)
}

type fakeListener struct {
	net.Listener
	addr net.Addr
}

func (f fakeListener) Addr() net.Addr { return f.addr }
