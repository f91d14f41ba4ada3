package node

import (
	"strings"
	"testing"

	"github.com/stratadb/strata/client/pb"
)

// TestPublishStageMetrics: after R3 publishes, the leader's /metrics has
// every stage of a publish, and hashicorp/raft's own timers of the log
// write, the followers' round trips and the commit.
func TestPublishStageMetrics(t *testing.T) {
	if testing.Short() {
		t.Skip("starts plugin processes")
	}
	specs, nodes := startCluster(t)
	c := dialAPI(t, specs[0].client)
	ctx := callCtx(t)
	if _, err := c.StreamCreate(ctx, &pb.StreamConfig{Name: "M", Subjects: []string{"m.>"}, Replicas: 3}); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		if _, err := c.Publish(ctx, &pb.PubRequest{Subject: "m.x", Data: []byte("x")}); err != nil {
			t.Fatal(err)
		}
	}
	body := httpGet(t, nodes[0], "/metrics")
	for _, want := range []string{
		`strata_publish_stage_seconds_count{stage="total"}`,
		`strata_publish_stage_seconds_count{stage="queue"}`,
		`strata_publish_stage_seconds_count{stage="raft"}`,
		`strata_publish_stage_seconds_count{stage="store"}`,
		`strata_raft_leader_dispatchLog`,
		`strata_raft_replication_appendEntries_rpc`,
		`strata_raft_commitTime`,
		`strata_raft_fsm_apply`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics has no %s", want)
		}
	}
	for _, idle := range []string{"strata_raft_replication_heartbeat", "strata_raft_rpc_processHeartbeat"} {
		if strings.Contains(body, idle) {
			t.Errorf("/metrics has %s, blocked as an idle group's per-heartbeat timer", idle)
		}
	}
	if strings.Contains(body, "strata_raft_replication_appendEntries_rpc_n") {
		t.Error("/metrics has the legacy per-peer metric names")
	}
}
