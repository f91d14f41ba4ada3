package node

import (
	"testing"

	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/client/pb"
	"github.com/stratadb/strata/core/replica"
)

// TestStreamDeleteDropsConsumers: deleting a stream deletes its consumers:
// every consumer replica stops, and its group's Raft log, stable state
// and snapshots are dropped from the storage plugins.
func TestStreamDeleteDropsConsumers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts plugin processes")
	}
	specs, nodes := startCluster(t)
	c := dialAPI(t, specs[0].client)
	ctx := callCtx(t)
	if _, err := c.StreamCreate(ctx, &pb.StreamConfig{Name: "DEL", Subjects: []string{"del.>"}, Replicas: 3}); err != nil {
		t.Fatal(err)
	}
	replicas := map[string]int{"R3": 3, "R1": 1}
	for name, n := range replicas {
		if _, err := c.ConsumerCreate(ctx, &pb.ConsumerCreateRequest{Stream: "DEL", Config: &pb.ConsumerConfig{Durable: name, Replicas: int32(n)}}); err != nil {
			t.Fatal(err)
		}
	}
	publishRange(t, c, "del.a", 1, 5)
	type held struct {
		node  *Node
		name  string
		group string
		raft  *raft.Raft
	}
	var all []held
	for name, want := range replicas {
		if got := fetchAndAck(t, ctx, c, "DEL", name, 5); got != 5 {
			t.Fatalf("consumer %s fetched %d, want 5", name, got)
		}
		m, ok := nodes[0].fsm.Consumer("DEL", name)
		if !ok || len(m.Peers) != want {
			t.Fatalf("consumer %s in the meta state: %+v %v", name, m, ok)
		}
		for _, n := range nodes {
			for _, p := range m.Peers {
				if p != n.cfg.ServerName {
					continue
				}
				var cr *replica.Consumer
				waitFor(t, "consumer "+name+" on "+p, func() bool {
					cr, ok = n.Replicas().GetConsumer("DEL", name)
					return ok && cr.FSM().Info(nil).AckFloor.Stream == 5
				})
				// A snapshot too, so that all three kinds of data are there.
				if err := cr.Group().Raft().Snapshot().Error(); err != nil {
					t.Fatalf("snapshot of %s on %s: %v", name, p, err)
				}
				all = append(all, held{node: n, name: name, group: replica.ConsumerGroupID(m), raft: cr.Group().Raft()})
			}
		}
	}
	if len(all) != 4 {
		t.Fatalf("%d consumer replicas, want 4", len(all))
	}
	for _, h := range all {
		st := h.node.groupStores(h.group)
		snaps, err := st.Snapshots.List()
		if has, herr := raft.HasExistingState(st.Log, st.Stable, st.Snapshots); herr != nil || err != nil || !has || len(snaps) == 0 {
			t.Fatalf("consumer %s on %s before the delete: state %v %v, %d snapshots %v", h.name, h.node.cfg.ServerName, has, herr, len(snaps), err)
		}
	}

	if _, err := c.StreamDelete(ctx, &pb.StreamRequest{Name: "DEL"}); err != nil {
		t.Fatal(err)
	}
	for _, h := range all {
		where := h.name + " on " + h.node.cfg.ServerName
		waitFor(t, "consumer "+where+" gone from the meta state", func() bool {
			_, ok := h.node.fsm.Consumer("DEL", h.name)
			return !ok
		})
		waitFor(t, "the replica of consumer "+where+" removed", func() bool {
			_, ok := h.node.Replicas().GetConsumer("DEL", h.name)
			return !ok
		})
		waitFor(t, "the group of consumer "+where+" shut down", func() bool { return h.raft.State() == raft.Shutdown })
		st := h.node.groupStores(h.group)
		waitFor(t, "the Raft data of consumer "+where+" dropped", func() bool {
			has, err := raft.HasExistingState(st.Log, st.Stable, st.Snapshots)
			last, lerr := st.Log.LastIndex()
			snaps, serr := st.Snapshots.List()
			return err == nil && lerr == nil && serr == nil && !has && last == 0 && len(snaps) == 0
		})
	}
}
