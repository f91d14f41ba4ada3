package api

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"
)

func testConns(maxConns, maxFetches int) *conns {
	return &conns{limits: Limits{MaxConns: maxConns, MaxFetches: maxFetches}, logger: hclog.NewNullLogger()}
}

// TestConnsRefuseBeyondMaxConns: the connection past MaxConns has its
// calls refused (forwarded calls excepted) until a connection ends.
func TestConnsRefuseBeyondMaxConns(t *testing.T) {
	c := testConns(1, 1)
	first := c.TagConn(context.Background(), &stats.ConnTagInfo{})
	second := c.TagConn(context.Background(), &stats.ConnTagInfo{})
	if err := c.checkCall(first); err != nil {
		t.Fatalf("first connection: %v", err)
	}
	if err := c.checkCall(second); !errors.Is(err, ErrResourceLimit) {
		t.Fatalf("second connection: %v, want ErrResourceLimit", err)
	}
	fwd := metadata.NewIncomingContext(second, metadata.Pairs(hopsKey, "1"))
	if err := c.checkCall(fwd); err != nil {
		t.Fatalf("forwarded call on the second connection: %v", err)
	}
	c.HandleConn(first, &stats.ConnEnd{})
	c.HandleConn(second, &stats.ConnEnd{})
	if err := c.checkCall(c.TagConn(context.Background(), &stats.ConnTagInfo{})); err != nil {
		t.Fatalf("a connection after the others ended: %v", err)
	}
	if c.refused.Load() != 1 {
		t.Fatalf("refused = %d, want 1", c.refused.Load())
	}
}

// TestConnsFetchesPerConnection: a connection holds MaxFetches fetches;
// one more is refused until one is released; forwarded fetches are not
// counted.
func TestConnsFetchesPerConnection(t *testing.T) {
	c := testConns(10, 2)
	ctx := c.TagConn(context.Background(), &stats.ConnTagInfo{})
	r1, err1 := c.acquireFetch(ctx)
	_, err2 := c.acquireFetch(ctx)
	if err1 != nil || err2 != nil {
		t.Fatalf("two fetches: %v, %v", err1, err2)
	}
	if _, err := c.acquireFetch(ctx); !errors.Is(err, ErrResourceLimit) {
		t.Fatalf("third fetch: %v, want ErrResourceLimit", err)
	}
	if _, err := c.acquireFetch(metadata.NewIncomingContext(ctx, metadata.Pairs(hopsKey, "1"))); err != nil {
		t.Fatalf("forwarded fetch: %v", err)
	}
	other := c.TagConn(context.Background(), &stats.ConnTagInfo{})
	if _, err := c.acquireFetch(other); err != nil {
		t.Fatalf("fetch on another connection: %v", err)
	}
	r1()
	if _, err := c.acquireFetch(ctx); err != nil {
		t.Fatalf("fetch after one was released: %v", err)
	}
}

// TestCapListenerClosesBeyondSlack: the listener accepts MaxConns plus
// connSlack connections and closes the next at once; once one closes, a
// new one is accepted.
func TestCapListenerClosesBeyondSlack(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := testConns(1, 1)
	lis := c.listener(raw)
	defer lis.Close()
	accepted := make(chan net.Conn, 2*connSlack)
	go func() {
		for {
			conn, err := lis.Accept()
			if err != nil {
				return
			}
			accepted <- conn
		}
	}()
	dial := func() net.Conn {
		conn, err := net.Dial("tcp", raw.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return conn
	}
	var held []net.Conn
	for range 1 + connSlack {
		dial()
		held = append(held, <-accepted)
	}
	extra := dial()
	_ = extra.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := extra.Read(make([]byte, 1)); !errors.Is(err, io.EOF) && !isReset(err) {
		t.Fatalf("read on the connection beyond the slack: %v, want it closed", err)
	}
	held[0].Close()
	held[0].Close() // a second close counts nothing
	dial()
	select {
	case conn := <-accepted:
		conn.Close()
	case <-time.After(10 * time.Second):
		t.Fatal("no connection accepted after one closed")
	}
	if got := c.sockets.Load(); got != int64(connSlack) {
		t.Fatalf("sockets = %d, want %d", got, connSlack)
	}
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op)
}

// TestFromPeerNeedsTheToken: with a cluster token, the forwarding header
// alone does not make a call a peer's (it would escape the limits); the
// token as proof of forwarding, or as the call's identity, does.
func TestFromPeerNeedsTheToken(t *testing.T) {
	s := &Server{cfg: Config{NodeToken: "0123456789abcdef"}}
	for _, c := range []struct {
		md   metadata.MD
		peer bool
	}{
		{metadata.Pairs(hopsKey, "1"), false},
		{metadata.Pairs(hopsKey, "1", forwarderKey, "wrong"), false},
		{metadata.Pairs(hopsKey, "1", forwarderKey, "0123456789abcdef"), true},
		{metadata.Pairs(nodeTokenKey, "0123456789abcdef"), true},
		{metadata.MD{}, false},
	} {
		if got := s.fromPeer(metadata.NewIncomingContext(context.Background(), c.md)); got != c.peer {
			t.Errorf("%v: fromPeer = %t, want %t", c.md, got, c.peer)
		}
	}
	open := &Server{}
	if !open.fromPeer(metadata.NewIncomingContext(context.Background(), metadata.Pairs(hopsKey, "1"))) {
		t.Error("without a token, a forwarded call is a peer's")
	}
}
