package node

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/client/pb"
)

// groupOf finds one Raft group on a node, or nil where it has none.
type groupOf func(*Node) *raft.Raft

func consumerGroup(stream, name string) groupOf {
	return func(n *Node) *raft.Raft {
		if c, ok := n.Replicas().GetConsumer(stream, name); ok {
			return c.Group().Raft()
		}
		return nil
	}
}

func streamGroup(name string) groupOf {
	return func(n *Node) *raft.Raft {
		if r, ok := n.Replicas().Get(name); ok {
			return r.Group().Raft()
		}
		return nil
	}
}

func metaGroup(n *Node) *raft.Raft { return n.Meta().Raft() }

// leadOn moves a group's leadership to target.
func leadOn(t *testing.T, nodes []*Node, target *Node, what string, group groupOf) {
	t.Helper()
	id := raft.ServerID(target.cfg.ServerName)
	waitFor(t, what+" led by "+string(id), func() bool {
		for _, n := range nodes {
			r := group(n)
			if r == nil || r.State() != raft.Leader {
				continue
			}
			if n == target {
				return true
			}
			f := r.GetConfiguration()
			if f.Error() != nil {
				return false
			}
			for _, s := range f.Configuration().Servers {
				if s.ID == id {
					_ = r.LeadershipTransferToServer(s.ID, s.Address).Error()
				}
			}
		}
		return false
	})
}

// stepDowns records, in order, the groups of a node that stop leading.
type stepDowns struct {
	mu    sync.Mutex
	order []string
}

// watch registers an observer on r. Its filter runs on r's own goroutine
// as the state changes, so the order across groups is the real one.
func (s *stepDowns) watch(t *testing.T, r *raft.Raft, what string) {
	o := raft.NewObserver(nil, false, func(o *raft.Observation) bool {
		if st, ok := o.Data.(raft.RaftState); ok && st != raft.Leader {
			s.mu.Lock()
			if !slices.Contains(s.order, what) {
				s.order = append(s.order, what)
			}
			s.mu.Unlock()
		}
		return false
	})
	r.RegisterObserver(o)
	t.Cleanup(func() { r.DeregisterObserver(o) })
}

// TestHandOffConsumersFirst: a stopping server that leads consumers, a
// stream and the meta group hands every consumer leadership off first,
// then the stream's, then the meta group's, and keeps none of them.
func TestHandOffConsumersFirst(t *testing.T) {
	if testing.Short() {
		t.Skip("starts plugin processes")
	}
	specs, nodes := startCluster(t)
	c := dialAPI(t, specs[0].client)
	ctx := callCtx(t)
	if _, err := c.StreamCreate(ctx, &pb.StreamConfig{Name: "HO", Subjects: []string{"ho.>"}, Replicas: 3}); err != nil {
		t.Fatal(err)
	}
	consumers := []string{"C1", "C2", "C3"}
	for _, name := range consumers {
		if _, err := c.ConsumerCreate(ctx, &pb.ConsumerCreateRequest{Stream: "HO", Config: &pb.ConsumerConfig{Durable: name, Replicas: 3}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range nodes {
		for _, name := range consumers {
			waitFor(t, "consumer "+name+" on "+n.cfg.ServerName, func() bool { return consumerGroup("HO", name)(n) != nil })
		}
	}
	target := nodes[1]
	groups := map[string]groupOf{"stream": streamGroup("HO"), "meta": metaGroup}
	for _, name := range consumers {
		groups["consumer "+name] = consumerGroup("HO", name)
	}
	for what, g := range groups {
		leadOn(t, nodes, target, what, g)
	}
	var seen stepDowns
	for what, g := range groups {
		seen.watch(t, g(target), what)
	}

	target.handOff()

	for what, g := range groups {
		if g(target).State() == raft.Leader {
			t.Errorf("%s still led by %s after the hand-off", what, target.cfg.ServerName)
		}
	}
	seen.mu.Lock()
	order := append([]string(nil), seen.order...)
	seen.mu.Unlock()
	if len(order) != len(groups) {
		t.Fatalf("stepped down: %v; want all %d groups", order, len(groups))
	}
	// Consumers (in any order among themselves), then the stream, then meta.
	for i, what := range order {
		want := "consumer"
		switch {
		case i == len(order)-1:
			want = "meta"
		case i == len(order)-2:
			want = "stream"
		}
		if !strings.HasPrefix(what, want) {
			t.Fatalf("step-down order %v; want the %d consumers, then the stream, then meta", order, len(consumers))
		}
	}
	for what, g := range groups {
		waitFor(t, fmt.Sprintf("a new leader for %s", what), func() bool {
			for _, n := range nodes {
				if n != target && g(n).State() == raft.Leader {
					return true
				}
			}
			return false
		})
	}
}
