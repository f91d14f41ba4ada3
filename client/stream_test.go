package client_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stratadb/strata/client"
)

func TestStreamAdmin(t *testing.T) {
	c, _ := connect(t)
	ctx := context.Background()
	cfg := client.StreamConfig{
		Name: "ORDERS", Subjects: []string{"ORDERS.>"}, Replicas: 3, Storage: "memory",
		MaxMsgs: 10, MaxAge: time.Hour, DupeWindow: time.Minute, Tags: []string{"az:a"},
	}
	si := addStream(t, c, cfg)
	if si.Config.MaxAge != time.Hour || si.Config.DupeWindow != time.Minute || si.Config.Storage != "memory" {
		t.Fatalf("config round trip: %+v", si.Config)
	}
	if si.Created.IsZero() || len(si.Peers) != 3 || si.Cluster.Leader != "n1" || len(si.Cluster.Replicas) != 2 {
		t.Fatalf("info %+v", si)
	}

	for i := range 3 {
		if _, err := c.Publish(ctx, "ORDERS.new", []byte{byte(i)}, client.WithHeader("k", "v")); err != nil {
			t.Fatal(err)
		}
	}
	m, err := c.GetMsg(ctx, "ORDERS", 2)
	if err != nil {
		t.Fatal(err)
	}
	if m.Seq != 2 || m.Subject != "ORDERS.new" || m.Data[0] != 1 || m.Time.IsZero() ||
		!slices.Equal(m.Header, []client.Header{{Key: "k", Value: "v"}}) {
		t.Fatalf("msg %+v", m)
	}
	if _, err := c.GetMsg(ctx, "ORDERS", 0); !errors.Is(err, client.ErrInvalid) {
		t.Fatalf("seq 0: err = %v", err)
	}

	cfg.MaxMsgs = 2
	si, err = c.UpdateStream(ctx, cfg)
	if err != nil || si.Config.MaxMsgs != 2 {
		t.Fatalf("update: %+v, %v", si, err)
	}
	si, err = c.StreamInfo(ctx, "ORDERS")
	if err != nil || si.State.Msgs != 3 || si.State.LastSeq != 3 || si.State.FirstSeq != 1 {
		t.Fatalf("info: %+v, %v", si, err)
	}

	n, err := c.PurgeStream(ctx, "ORDERS")
	if err != nil || n != 3 {
		t.Fatalf("purge: %d, %v", n, err)
	}
	list, err := c.Streams(ctx)
	if err != nil || len(list) != 1 || list[0].State.Msgs != 0 {
		t.Fatalf("list: %+v, %v", list, err)
	}
	if err := c.DeleteStream(ctx, "ORDERS"); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteStream(ctx, "ORDERS"); !errors.Is(err, client.ErrStreamNotFound) {
		t.Fatalf("second delete: err = %v", err)
	}
}

func TestExpectStream(t *testing.T) {
	c, _ := connect(t)
	addStream(t, c, client.StreamConfig{Name: "A", Subjects: []string{"a.*"}})
	ctx := context.Background()
	if _, err := c.Publish(ctx, "a.x", nil, client.WithExpectStream("B")); !errors.Is(err, client.ErrRefused) {
		t.Fatalf("err = %v, want ErrRefused", err)
	}
	if _, err := c.Publish(ctx, "a.x", nil, client.WithExpectStream("A")); err != nil {
		t.Fatal(err)
	}
}

func TestServers(t *testing.T) {
	c, _ := connect(t)
	ctx := context.Background()
	addStream(t, c, client.StreamConfig{Name: "S", Replicas: 3})
	list, err := c.Servers(ctx)
	if err != nil || list.Cluster != "C1" || len(list.Servers) != 3 || list.Servers[0].Name != "n1" {
		t.Fatalf("servers: %+v, %v", list, err)
	}
	rep, err := c.ServerReport(ctx)
	if err != nil || len(rep.Servers) != 3 || rep.Meta.Leader != "n1" {
		t.Fatalf("report: %+v, %v", rep, err)
	}
	if rep.Servers[0].Streams != 1 || rep.Servers[0].Leaders != 1 || rep.Meta.Replicas[0].Active == 0 {
		t.Fatalf("report: %+v", rep)
	}
}

func TestClosedClient(t *testing.T) {
	c, srv := connect(t)
	c.Close()
	if _, err := c.Streams(context.Background()); !errors.Is(err, client.ErrClosed) {
		t.Fatalf("err = %v, want ErrClosed", err)
	}
	if srv.TotalCalls() != 0 {
		t.Fatal("a closed client sent a call")
	}
}
