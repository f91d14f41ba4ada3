package client_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/stratadb/strata/client"
	"github.com/stratadb/strata/client/clienttest"
)

// connect starts a fake server and connects a client to it.
func connect(t *testing.T) (*client.Client, *clienttest.Server) {
	t.Helper()
	srv := clienttest.Start(t)
	return connectTo(t, srv.Addr), srv
}

func connectTo(t *testing.T, addrs ...string) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	opts := client.DefaultOptions()
	opts.Addrs = addrs
	opts.RetryBackoff = time.Millisecond
	c, err := client.ConnectOptions(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// deadAddr returns a 127.0.0.1 address nothing listens on.
func deadAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func addStream(t *testing.T, c *client.Client, cfg client.StreamConfig) *client.StreamInfo {
	t.Helper()
	si, err := c.AddStream(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return si
}

func TestConnectTriesNextAddress(t *testing.T) {
	srv := clienttest.Start(t)
	c := connectTo(t, deadAddr(t), srv.Addr)
	if _, err := c.Streams(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestConnectNothingReachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := client.Connect(ctx, deadAddr(t))
	if !errors.Is(err, client.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	if _, err := client.Connect(ctx); !errors.Is(err, client.ErrInvalid) {
		t.Fatalf("no address: err = %v, want ErrInvalid", err)
	}
}

func TestErrorMapping(t *testing.T) {
	c, _ := connect(t)
	ctx := context.Background()
	addStream(t, c, client.StreamConfig{Name: "ORDERS", Subjects: []string{"ORDERS.>"}})
	addStream(t, c, client.StreamConfig{Name: "ONE", Subjects: []string{"one"}, MaxMsgs: 1, Discard: "new"})
	if _, err := c.Publish(ctx, "one", nil); err != nil {
		t.Fatal(err)
	}
	_, infoErr := c.StreamInfo(ctx, "NOPE")
	_, getErr := c.GetMsg(ctx, "ORDERS", 99)
	_, getStreamErr := c.GetMsg(ctx, "NOPE", 1)
	_, existsErr := c.AddStream(ctx, client.StreamConfig{Name: "ORDERS"})
	_, pubErr := c.Publish(ctx, "nowhere", []byte("x"))
	_, badErr := c.AddStream(ctx, client.StreamConfig{Name: "R7", Replicas: 7})
	_, fullErr := c.Publish(ctx, "one", nil)
	_, emptyErr := c.StreamInfo(ctx, "")
	cases := []struct {
		name string
		err  error
		want error
		text string
	}{
		{"unknown stream", infoErr, client.ErrStreamNotFound, "stream not found: NOPE"},
		{"unknown message", getErr, client.ErrMsgNotFound, "message not found"},
		{"get on unknown stream", getStreamErr, client.ErrStreamNotFound, "stream not found: NOPE"},
		{"stream exists", existsErr, client.ErrStreamExists, "ORDERS"},
		{"no stream for subject", pubErr, client.ErrNoStreamForSubject, "nowhere"},
		{"bad replicas", badErr, client.ErrInvalid, "replicas must be 1, 3 or 5"},
		{"limit", fullErr, client.ErrRefused, "maximum messages exceeded"},
		{"empty name", emptyErr, client.ErrInvalid, "empty stream name"},
	}
	for _, tc := range cases {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, tc.err, tc.want)
		} else if !strings.Contains(tc.err.Error(), tc.text) {
			t.Errorf("%s: err = %q, want it to contain %q", tc.name, tc.err, tc.text)
		}
	}
	var e *client.Error
	if !errors.As(infoErr, &e) || e.Code != codes.NotFound {
		t.Errorf("StreamInfo error %#v is not a NotFound *client.Error", infoErr)
	}
}

func TestPublishRetriesOnlyWithMsgID(t *testing.T) {
	c, srv := connect(t)
	ctx := context.Background()
	addStream(t, c, client.StreamConfig{Name: "ORDERS", Subjects: []string{"ORDERS.>"}})
	unavailable := status.Error(codes.Unavailable, "no leader")

	srv.FailNext("Publish", unavailable, unavailable)
	ack, err := c.Publish(ctx, "ORDERS.new", []byte("a"), client.WithMsgID("m1"))
	if err != nil {
		t.Fatal(err)
	}
	if ack.Seq != 1 || ack.Stream != "ORDERS" || srv.Calls("Publish") != 3 {
		t.Fatalf("ack %+v after %d calls, want seq 1 after 3", ack, srv.Calls("Publish"))
	}

	srv.FailNext("Publish", unavailable)
	_, err = c.Publish(ctx, "ORDERS.new", []byte("b"))
	if !errors.Is(err, client.ErrUnavailable) || !strings.Contains(err.Error(), "no leader") {
		t.Fatalf("err = %v, want ErrUnavailable: no leader", err)
	}
	if n := srv.Calls("Publish"); n != 4 {
		t.Fatalf("publish without id was sent %d times in all, want no retry", n-3)
	}
	ack, err = c.Publish(ctx, "ORDERS.new", []byte("a"), client.WithMsgID("m1"))
	if err != nil || !ack.Duplicate || ack.Seq != 1 {
		t.Fatalf("republish of m1: %+v, %v; want duplicate of seq 1", ack, err)
	}
}

func TestRetryMovesToNextServer(t *testing.T) {
	a, b := clienttest.Start(t), clienttest.Start(t)
	addStream(t, connectTo(t, b.Addr), client.StreamConfig{Name: "S"})
	c := connectTo(t, a.Addr, b.Addr)
	a.FailNext("StreamInfo", status.Error(codes.Unavailable, "shutting down"))
	si, err := c.StreamInfo(context.Background(), "S")
	if err != nil {
		t.Fatal(err)
	}
	if si.Config.Name != "S" || a.Calls("StreamInfo") != 1 || b.Calls("StreamInfo") != 1 {
		t.Fatalf("info %+v; calls a=%d b=%d", si.Config, a.Calls("StreamInfo"), b.Calls("StreamInfo"))
	}
}

func TestRetryBoundedByContext(t *testing.T) {
	c, srv := connect(t)
	errs := make([]error, 1000)
	for i := range errs {
		errs[i] = status.Error(codes.Unavailable, "no leader")
	}
	srv.FailNext("StreamList", errs...)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := c.Streams(ctx)
	if !errors.Is(err, client.ErrUnavailable) && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want ErrUnavailable or the deadline", err)
	}
	if n := srv.Calls("StreamList"); n < 2 || n > client.DefaultOptions().MaxRetries+1 {
		t.Fatalf("%d attempts, want retries bounded by MaxRetries", n)
	}
}

func TestCredentialsSentAsMetadata(t *testing.T) {
	srv := clienttest.Start(t)
	opts := client.DefaultOptions()
	opts.Addrs, opts.User, opts.Password = []string{srv.Addr}, "sys", "secret"
	c, err := client.ConnectOptions(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Servers(context.Background()); err != nil {
		t.Fatal(err)
	}
	md := srv.LastMetadata()
	if got := md["user"]; len(got) != 1 || got[0] != "sys" {
		t.Fatalf("user metadata %v", got)
	}
	if got := md["password"]; len(got) != 1 || got[0] != "secret" {
		t.Fatalf("password metadata %v", got)
	}
}
