package node

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stratadb/strata/client/pb"
	"github.com/stratadb/strata/core/monitor"
)

// fetchSeqs pulls up to batch messages of a consumer and returns their
// stream sequences, acking none.
func fetchSeqs(t *testing.T, ctx context.Context, c pb.StrataClient, stream, name string, batch int) []uint64 {
	t.Helper()
	fs, err := c.ConsumerFetch(ctx, &pb.FetchRequest{Stream: stream, Consumer: name, Batch: int32(batch), ExpiresNs: int64(5 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	for {
		b, err := fs.Recv()
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range b.GetMsgs() {
			seqs = append(seqs, m.GetMsg().GetSeq())
		}
		if b.GetDone() {
			return seqs
		}
	}
}

func httpGet(t *testing.T, n *Node, path string) string {
	t.Helper()
	resp, err := http.Get("http://" + n.http.Addr().String() + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
	}
	return string(body)
}

// jszConsumer returns the consumer's entry in a node's /jsz.
func jszConsumer(t *testing.T, n *Node, stream, name string) (monitor.ConsumerReplica, bool) {
	t.Helper()
	var j monitor.Jsz
	if err := json.Unmarshal([]byte(httpGet(t, n, "/jsz")), &j); err != nil {
		t.Fatal(err)
	}
	for _, c := range j.Consumers {
		if c.Stream == stream && c.Name == name {
			return c, true
		}
	}
	return monitor.ConsumerReplica{}, false
}

// TestMonitorConsumers: a consumer with deliveries awaiting an ack, one
// of them redelivered, and a pull request waiting on its leader is shown
// as such in /jsz and /metrics, on its leader and on a follower (which
// has no waiting pull and does not lead).
func TestMonitorConsumers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts plugin processes")
	}
	specs, nodes := startCluster(t)
	c := dialAPI(t, specs[0].client)
	ctx := callCtx(t)
	if _, err := c.StreamCreate(ctx, &pb.StreamConfig{Name: "MON", Subjects: []string{"mon.>"}, Replicas: 3}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ConsumerCreate(ctx, &pb.ConsumerCreateRequest{Stream: "MON", Config: &pb.ConsumerConfig{
		Durable: "WORK", Replicas: 3, AckPolicy: "explicit", AckWaitNs: int64(time.Minute), MaxAckPending: 3}}); err != nil {
		t.Fatal(err)
	}
	publishRange(t, c, "mon.a", 1, 10)
	if got := fetchSeqs(t, ctx, c, "MON", "WORK", 3); fmt.Sprint(got) != "[1 2 3]" {
		t.Fatalf("first fetch: %v", got)
	}
	if _, err := c.ConsumerAck(ctx, &pb.AckRequest{Stream: "MON", Consumer: "WORK", Acks: []*pb.Ack{
		{StreamSeq: 1}, {StreamSeq: 2, Kind: "nak"}}}); err != nil {
		t.Fatal(err)
	}
	if got := fetchSeqs(t, ctx, c, "MON", "WORK", 1); fmt.Sprint(got) != "[2]" {
		t.Fatalf("fetch after the nak: %v; want 2 again", got)
	}
	if got := fetchSeqs(t, ctx, c, "MON", "WORK", 1); fmt.Sprint(got) != "[4]" {
		t.Fatalf("third fetch: %v", got)
	}
	// Ack pending is at max_ack_pending: this pull waits on the leader.
	pullCtx, stopPull := context.WithCancel(ctx)
	defer stopPull()
	pull, err := c.ConsumerFetch(pullCtx, &pb.FetchRequest{Stream: "MON", Consumer: "WORK", Batch: 1, ExpiresNs: int64(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			if _, err := pull.Recv(); err != nil {
				return
			}
		}
	}()

	var leader, follower *Node
	waitFor(t, "the consumer's leader", func() bool {
		for _, n := range nodes {
			if cr, ok := n.Replicas().GetConsumer("MON", "WORK"); ok && cr.IsLeader() {
				leader = n
			}
		}
		return leader != nil
	})
	for _, n := range nodes {
		if n != leader {
			follower = n
			break
		}
	}
	for _, tc := range []struct {
		n              *Node
		waiting        int
		state, leading string
	}{
		{leader, 1, "Leader", "1"},
		{follower, 0, "Follower", "0"},
	} {
		name := tc.n.cfg.ServerName
		want := fmt.Sprintf("delivered 4, ack floor 1, ack pending 3, redelivered 1, unprocessed 6, waiting %d, raft %s", tc.waiting, tc.state)
		var cr monitor.ConsumerReplica
		for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			var ok bool
			cr, ok = jszConsumer(t, tc.n, "MON", "WORK")
			got := fmt.Sprintf("delivered %d, ack floor %d, ack pending %d, redelivered %d, unprocessed %d, waiting %d, raft %s",
				cr.Delivered, cr.AckFloor, cr.AckPending, cr.Redelivered, cr.Unprocessed, cr.Waiting, cr.RaftDoc.State)
			if ok && got == want {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("/jsz of %s shows the consumer (found %v): %s; want %s", name, ok, got, want)
			}
		}
		if len(cr.Peers) != 3 || cr.Group == "" || len(cr.RaftDoc.Peers) != 3 || cr.RaftDoc.Leader != leader.cfg.ServerName {
			t.Fatalf("/jsz of %s: consumer %+v", name, cr)
		}

		metrics := httpGet(t, tc.n, "/metrics")
		labels := fmt.Sprintf(`{consumer="WORK",server=%q,stream="MON"}`, name)
		for _, m := range []string{
			"strata_consumer_ack_pending" + labels + " 3",
			"strata_consumer_redelivered" + labels + " 1",
			"strata_consumer_unprocessed" + labels + " 6",
			"strata_consumer_waiting" + labels + fmt.Sprintf(" %d", tc.waiting),
			"strata_consumer_ack_floor" + labels + " 1",
			"strata_consumer_raft_leader" + labels + " " + tc.leading,
		} {
			if !strings.Contains(metrics, m+"\n") {
				t.Errorf("/metrics of %s lack %q", name, m)
			}
		}
	}
}
