package client_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/stratadb/strata/client"
	"github.com/stratadb/strata/client/clienttest"
)

func asyncPublisher(t *testing.T, window int) (*client.AsyncPublisher, *clienttest.Server) {
	t.Helper()
	c, srv := connect(t)
	addStream(t, c, client.StreamConfig{Name: "ORDERS", Subjects: []string{"ORDERS.>"}})
	p, err := c.PublishAsync(context.Background(), window)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p, srv
}

func publishN(t *testing.T, p *client.AsyncPublisher, n int) []*client.AckFuture {
	t.Helper()
	var futures []*client.AckFuture
	for i := range n {
		f, err := p.Publish("ORDERS.new", []byte(fmt.Sprint(i)))
		if err != nil {
			t.Fatal(err)
		}
		futures = append(futures, f)
	}
	return futures
}

// waitFor polls cond until it holds or a generous deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestAsyncAcksInOrder(t *testing.T) {
	p, _ := asyncPublisher(t, 8)
	futures := publishN(t, p, 100)
	if err := p.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i, f := range futures {
		ack, err := f.Result()
		if err != nil || ack.Seq != uint64(i+1) || ack.Stream != "ORDERS" {
			t.Fatalf("future %d: %+v, %v", i, ack, err)
		}
	}
	if p.Outstanding() != 0 {
		t.Fatalf("%d outstanding after Flush", p.Outstanding())
	}
}

func TestAsyncWindowBlocks(t *testing.T) {
	const window = 4
	p, srv := asyncPublisher(t, window)
	srv.PauseAcks()
	futures := publishN(t, p, window)
	waitFor(t, "the server to receive the window", func() bool { return srv.Received() == window })

	published := make(chan *client.AckFuture)
	go func() {
		f, err := p.Publish("ORDERS.new", []byte("over"))
		if err != nil {
			t.Error(err)
		}
		published <- f
	}()
	select {
	case <-published:
		t.Fatal("publish beyond the window did not block")
	case <-time.After(50 * time.Millisecond):
	}
	if srv.Received() != window || p.Outstanding() != window {
		t.Fatalf("received %d, outstanding %d; want %d", srv.Received(), p.Outstanding(), window)
	}
	srv.ResumeAcks()
	last := <-published
	ack, err := last.Wait(context.Background())
	if err != nil || ack.Seq != window+1 {
		t.Fatalf("last ack %+v, %v; want seq %d", ack, err, window+1)
	}
	for i, f := range futures {
		if ack, err := f.Result(); err != nil || ack.Seq != uint64(i+1) {
			t.Fatalf("future %d: %+v, %v", i, ack, err)
		}
	}
}

func TestAsyncAckError(t *testing.T) {
	p, _ := asyncPublisher(t, 4)
	good, err := p.Publish("ORDERS.a", nil)
	if err != nil {
		t.Fatal(err)
	}
	bad, err := p.Publish("nowhere", nil)
	if err != nil {
		t.Fatal(err)
	}
	after := publishN(t, p, 1)[0]
	if _, err := bad.Wait(context.Background()); !errors.Is(err, client.ErrNoStreamForSubject) {
		t.Fatalf("bad publish: err = %v, want ErrNoStreamForSubject", err)
	}
	for _, f := range []*client.AckFuture{good, after} {
		if _, err := f.Wait(context.Background()); err != nil {
			t.Fatalf("a refused publish failed its neighbours: %v", err)
		}
	}
}

func TestAsyncStreamBreakFailsOutstanding(t *testing.T) {
	p, srv := asyncPublisher(t, 10)
	srv.PauseAcks()
	futures := publishN(t, p, 3)
	waitFor(t, "the server to receive 3", func() bool { return srv.Received() == 3 })
	srv.BreakStreams(status.Error(codes.Unavailable, "leader lost"))
	for i, f := range futures {
		_, err := f.Wait(context.Background())
		if !errors.Is(err, client.ErrUnavailable) || !strings.Contains(err.Error(), "leader lost") {
			t.Fatalf("future %d: err = %v, want ErrUnavailable: leader lost", i, err)
		}
	}
	if _, err := p.Publish("ORDERS.x", nil); !errors.Is(err, client.ErrUnavailable) {
		t.Fatalf("publish after break: err = %v", err)
	}
	if err := p.Flush(context.Background()); !errors.Is(err, client.ErrUnavailable) {
		t.Fatalf("flush after break: err = %v", err)
	}
}

func TestAsyncCloseFailsOutstanding(t *testing.T) {
	p, srv := asyncPublisher(t, 10)
	srv.PauseAcks()
	f := publishN(t, p, 1)[0]
	p.Close()
	if _, err := f.Wait(context.Background()); !errors.Is(err, client.ErrClosed) {
		t.Fatalf("err = %v, want ErrClosed", err)
	}
	if _, err := p.Publish("ORDERS.x", nil); !errors.Is(err, client.ErrClosed) {
		t.Fatalf("publish after close: err = %v", err)
	}
}

func TestPublishAsyncBadWindow(t *testing.T) {
	c, srv := connect(t)
	if _, err := c.PublishAsync(context.Background(), 0); !errors.Is(err, client.ErrInvalid) {
		t.Fatalf("err = %v, want ErrInvalid", err)
	}
	if srv.TotalCalls() != 0 {
		t.Fatal("a bad window reached the server")
	}
}

func TestCallsMoveOnWhenServerStops(t *testing.T) {
	a, b := clienttest.Start(t), clienttest.Start(t)
	addStream(t, connectTo(t, b.Addr), client.StreamConfig{Name: "ORDERS", Subjects: []string{"ORDERS.>"}})
	c := connectTo(t, a.Addr, b.Addr)
	a.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.StreamInfo(ctx, "ORDERS"); err != nil {
		t.Fatalf("info after server a stopped: %v", err)
	}
	p, err := c.PublishAsync(ctx, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	f := publishN(t, p, 1)[0]
	if ack, err := f.Wait(ctx); err != nil || ack.Seq != 1 {
		t.Fatalf("ack %+v, %v", ack, err)
	}
	if b.Received() != 1 {
		t.Fatalf("server b received %d", b.Received())
	}
}
