package node

import (
	"testing"
	"time"

	"github.com/stratadb/strata/client/pb"
)

// TestEphemeralConsumerExpires: an ephemeral consumer is removed once it
// has had no pull request for its inactive threshold; a durable one stays.
func TestEphemeralConsumerExpires(t *testing.T) {
	if testing.Short() {
		t.Skip("starts plugin processes")
	}
	specs, nodes := startCluster(t)
	c := dialAPI(t, specs[0].client)
	ctx := callCtx(t)
	if _, err := c.StreamCreate(ctx, &pb.StreamConfig{Name: "V", Subjects: []string{"v.>"}, Replicas: 3}); err != nil {
		t.Fatal(err)
	}
	eph, err := c.ConsumerCreate(ctx, &pb.ConsumerCreateRequest{Stream: "V", Config: &pb.ConsumerConfig{
		AckPolicy: "none", InactiveThresholdNs: int64(300 * time.Millisecond)}})
	if err != nil {
		t.Fatal(err)
	}
	name := eph.GetConfig().GetName()
	if name == "" {
		t.Fatal("the server named no ephemeral consumer")
	}
	if _, err := c.ConsumerCreate(ctx, &pb.ConsumerCreateRequest{Stream: "V", Config: &pb.ConsumerConfig{Durable: "D"}}); err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		waitFor(t, "the inactive ephemeral consumer gone on "+n.cfg.ServerName, func() bool {
			_, ok := n.fsm.Consumer("V", name)
			return !ok
		})
	}
	if _, ok := nodes[0].fsm.Consumer("V", "D"); !ok {
		t.Fatal("the durable consumer was removed too")
	}
}
