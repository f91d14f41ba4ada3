package api

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/stratadb/strata/core/meta"
	"github.com/stratadb/strata/core/raftgroup"
)

// TestLookupWithoutMetaIsNotNotFound: a node whose meta group has no
// leader (as after a whole-cluster restart) cannot know whether a stream
// exists; a lookup that gives up waiting says it is unavailable, never
// "not found", which a client would take as the stream (or its message)
// being gone.
func TestLookupWithoutMetaIsNotNotFound(t *testing.T) {
	c := raftgroup.NewCluster(t, raftgroup.ClusterConfig{Nodes: 3, Groups: []string{"meta"}, LogLevel: hclog.Error})
	c.Leader("meta")
	for i := 1; i < c.Size(); i++ {
		c.StopGroup(i, "meta")
	}
	g := c.Group(0, "meta")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, id := g.Raft().LeaderWithID(); id == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the lone node still sees a leader")
		}
	}
	s := &Server{cfg: Config{Meta: g, MetaFSM: meta.NewFSM(), LeaderWait: 200 * time.Millisecond}}
	_, err := s.lookupStream(context.Background(), "ORDERS")
	if err == nil || errors.Is(err, meta.ErrStreamNotFound) {
		t.Fatalf("lookup without a meta leader = %v; want an error that is not ErrStreamNotFound", err)
	}
	if code := status.Code(toStatus(err)); code != codes.Unavailable {
		t.Fatalf("lookup without a meta leader: code %s (%v), want Unavailable", code, err)
	}
}
