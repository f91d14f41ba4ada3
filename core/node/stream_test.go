package node

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/stratadb/strata/client"
	"github.com/stratadb/strata/client/pb"
	"github.com/stratadb/strata/core/raftgroup"
	"github.com/stratadb/strata/core/replica"
	"github.com/stratadb/strata/internal/testlog"
)

// startCluster starts three nodes seeded from the first and waits until
// every node records all three.
func startCluster(t *testing.T) ([]spec, []*Node) {
	t.Helper()
	dir := t.TempDir()
	s1 := newSpec(t, dir, "n1")
	specs := []spec{s1, newSpec(t, dir, "n2", s1.cluster), newSpec(t, dir, "n3", s1.cluster)}
	var nodes []*Node
	for _, s := range specs {
		nodes = append(nodes, startNode(t, s, testPlugins, 3))
	}
	for _, n := range nodes {
		waitFor(t, "all three recorded on every node", func() bool { return metaServers(n) == "n1,n2,n3" })
	}
	return specs, nodes
}

func dialAPI(t *testing.T, addr string) pb.StrataClient {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return pb.NewStrataClient(conn)
}

func callCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestStreamPublishForwardAndRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts plugin processes")
	}
	specs, nodes := startCluster(t)
	c1, c3 := dialAPI(t, specs[0].client), dialAPI(t, specs[2].client)
	ctx := callCtx(t)
	info, err := c3.StreamCreate(ctx, &pb.StreamConfig{Name: "ORDERS", Subjects: []string{"ORDERS.>"}, Replicas: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(info.GetPeers()) != 3 || info.GetCluster().GetLeader() == "" {
		t.Fatalf("created %v", info)
	}
	_, err = c1.StreamCreate(ctx, &pb.StreamConfig{Name: "ORDERS", Subjects: []string{"X"}, Replicas: 1})
	if status.Code(err) != codes.AlreadyExists {
		t.Fatalf("duplicate create: %v", err)
	}
	_, err = c1.StreamCreate(ctx, &pb.StreamConfig{Name: "O2", Subjects: []string{"ORDERS.new"}, Replicas: 1})
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("overlapping create: %v", err)
	}
	for i := 1; i <= 20; i++ {
		c := []pb.StrataClient{c1, c3}[i%2]
		ack, err := c.Publish(ctx, &pb.PubRequest{Subject: "ORDERS.new", Data: []byte(fmt.Sprint(i)), MsgId: fmt.Sprint("id-", i)})
		if err != nil || ack.GetSeq() != uint64(i) {
			t.Fatalf("publish %d: %v %v", i, ack, err)
		}
	}
	ack, err := c1.Publish(ctx, &pb.PubRequest{Subject: "ORDERS.new", Data: []byte("again"), MsgId: "id-7"})
	if err != nil || !ack.GetDuplicate() || ack.GetSeq() != 7 {
		t.Fatalf("duplicate publish: %v %v", ack, err)
	}
	if _, err := c1.Publish(ctx, &pb.PubRequest{Subject: "NOPE.x"}); status.Code(err) != codes.NotFound {
		t.Fatalf("publish to no stream: %v", err)
	}
	// Through every node: at least two of them forward to the leader.
	publishAsync(t, specs[0].client, 21, 80)
	publishAsync(t, specs[1].client, 81, 140)
	publishAsync(t, specs[2].client, 141, 200)

	for _, n := range nodes {
		if err := n.Shutdown(); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range specs {
		startNode(t, s, testPlugins, 3)
	}
	c2 := dialAPI(t, specs[1].client)
	for seq := uint64(1); seq <= 200; seq++ {
		m, err := c2.GetMsg(ctx, &pb.GetMsgRequest{Stream: "ORDERS", Seq: seq})
		if err != nil || m.GetSeq() != seq {
			t.Fatalf("get %d after restart: %v %v", seq, m, err)
		}
	}
	info, err = c2.StreamInfo(ctx, &pb.StreamRequest{Name: "ORDERS"})
	if err != nil || info.GetState().GetMessages() != 200 || info.GetState().GetLastSeq() != 200 {
		t.Fatalf("info after restart: %v %v", info, err)
	}
}

// publishAsync publishes seqs from..to through the client package's
// async publisher (batched PublishStream) and checks every ack.
func publishAsync(t *testing.T, addr string, from, to int) {
	t.Helper()
	ctx := callCtx(t)
	c, err := client.Connect(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p, err := c.PublishAsync(ctx, 64)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var futures []*client.AckFuture
	for i := from; i <= to; i++ {
		f, err := p.Publish("ORDERS.async", []byte("x"))
		if err != nil {
			t.Fatal(err)
		}
		futures = append(futures, f)
	}
	for i, f := range futures {
		ack, err := f.Wait(ctx)
		if err != nil || ack.Seq != uint64(from+i) {
			t.Fatalf("async ack %d: %v %v", from+i, ack, err)
		}
	}
}

func TestStreamBadInputChangesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts plugin processes")
	}
	specs, _ := startCluster(t)
	c := dialAPI(t, specs[1].client)
	ctx := callCtx(t)
	if _, err := c.StreamCreate(ctx, &pb.StreamConfig{Name: "ORDERS", Subjects: []string{"ORDERS.*"}, Replicas: 1}); err != nil {
		t.Fatal(err)
	}
	bad := map[string]*pb.StreamConfig{
		"empty name":       {Subjects: []string{"A"}, Replicas: 1},
		"dotted name":      {Name: "A.B", Subjects: []string{"A"}, Replicas: 1},
		"bad subject":      {Name: "A", Subjects: []string{"a..b"}, Replicas: 1},
		"no subjects":      {Name: "A", Replicas: 1},
		"even replicas":    {Name: "A", Subjects: []string{"A"}, Replicas: 2},
		"too many":         {Name: "A", Subjects: []string{"A"}, Replicas: 5},
		"negative limit":   {Name: "A", Subjects: []string{"A"}, Replicas: 1, MaxMsgs: -5},
		"bad discard":      {Name: "A", Subjects: []string{"A"}, Replicas: 1, Discard: "oldest"},
		"bad storage":      {Name: "A", Subjects: []string{"A"}, Replicas: 1, Storage: "tape"},
		"overlap existing": {Name: "A", Subjects: []string{"ORDERS.>"}, Replicas: 1},
	}
	for name, cfg := range bad {
		_, err := c.StreamCreate(ctx, cfg)
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: %v; want InvalidArgument", name, err)
		}
	}
	list, err := c.StreamList(ctx, &pb.StreamListRequest{})
	if err != nil || len(list.GetStreams()) != 1 {
		t.Fatalf("streams after bad creates: %v %v", list, err)
	}
	type check struct {
		err  error
		code codes.Code
	}
	checks := map[string]check{}
	_, err = c.StreamInfo(ctx, &pb.StreamRequest{Name: "NOPE"})
	checks["info unknown"] = check{err, codes.NotFound}
	_, err = c.StreamDelete(ctx, &pb.StreamRequest{Name: "NOPE"})
	checks["delete unknown"] = check{err, codes.NotFound}
	_, err = c.Publish(ctx, &pb.PubRequest{Subject: "ORDERS.*"})
	checks["publish wildcard"] = check{err, codes.InvalidArgument}
	_, err = c.Publish(ctx, &pb.PubRequest{Subject: "ORDERS.a.b"})
	checks["publish no stream"] = check{err, codes.NotFound}
	_, err = c.Publish(ctx, &pb.PubRequest{Subject: "ORDERS.a", ExpectedStream: "OTHER"})
	checks["wrong expected stream"] = check{err, codes.FailedPrecondition}
	_, err = c.GetMsg(ctx, &pb.GetMsgRequest{Stream: "ORDERS", Seq: 1})
	checks["get missing"] = check{err, codes.NotFound}
	for name, ch := range checks {
		if status.Code(ch.err) != ch.code {
			t.Errorf("%s: %v; want %s", name, ch.err, ch.code)
		}
	}
	info, err := c.StreamInfo(ctx, &pb.StreamRequest{Name: "ORDERS"})
	if err != nil || info.GetState().GetMessages() != 0 {
		t.Fatalf("ORDERS changed: %v %v", info, err)
	}
}

func TestStreamEditReplicasPurgeDelete(t *testing.T) {
	if testing.Short() {
		t.Skip("starts plugin processes")
	}
	specs, nodes := startCluster(t)
	c := dialAPI(t, specs[0].client)
	ctx := callCtx(t)
	cfg := &pb.StreamConfig{Name: "EV", Subjects: []string{"ev.>"}, Replicas: 1, MaxMsgs: 50}
	if _, err := c.StreamCreate(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 80; i++ {
		if _, err := c.Publish(ctx, &pb.PubRequest{Subject: "ev.x", Data: []byte{byte(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	cfg.Replicas = 3
	info, err := c.StreamUpdate(ctx, cfg)
	if err != nil || len(info.GetPeers()) != 3 {
		t.Fatalf("scale to 3: %v %v", info, err)
	}
	for _, n := range nodes {
		waitFor(t, "a caught-up replica on "+n.cfg.ServerName, func() bool {
			r, ok := n.Replicas().Get("EV")
			return ok && r.FSM().State().LastSeq == 80 && r.FSM().State().Msgs == 50
		})
	}
	cfg.Replicas, cfg.MaxMsgs = 1, 10
	if info, err = c.StreamUpdate(ctx, cfg); err != nil || len(info.GetPeers()) != 1 {
		t.Fatalf("scale to 1: %v %v", info, err)
	}
	held := 0
	for _, n := range nodes {
		waitFor(t, "replicas removed", func() bool {
			_, ok := n.Replicas().Get("EV")
			return !ok || n.cfg.ServerName == info.GetPeers()[0]
		})
		if _, ok := n.Replicas().Get("EV"); ok {
			held++
		}
	}
	waitFor(t, "the lower limit applied", func() bool {
		info, err = c.StreamInfo(ctx, &pb.StreamRequest{Name: "EV"})
		return err == nil && info.GetState().GetMessages() == 10
	})
	if held != 1 || info.GetState().GetFirstSeq() != 71 {
		t.Fatalf("after scale down: held by %d, state %v", held, info.GetState())
	}
	if p, err := c.StreamPurge(ctx, &pb.StreamRequest{Name: "EV"}); err != nil || p.GetPurged() != 10 {
		t.Fatalf("purge: %v %v", p, err)
	}
	ack, err := c.Publish(ctx, &pb.PubRequest{Subject: "ev.y"})
	if err != nil || ack.GetSeq() != 81 {
		t.Fatalf("publish after purge: %v %v", ack, err)
	}
	st, _ := nodes[0].fsm.Stream("EV")
	group := replica.GroupID(st)
	if _, err := c.StreamDelete(ctx, &pb.StreamRequest{Name: "EV"}); err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		waitFor(t, "replica deleted", func() bool { _, ok := n.Replicas().Get("EV"); return !ok })
		// Its Raft log and snapshots are gone from the plugins too.
		stores := n.host.Stores(group)
		waitFor(t, "the Raft data dropped on "+n.cfg.ServerName, func() bool {
			last, err := stores.Log.LastIndex()
			snaps, serr := stores.Snapshots.List()
			return err == nil && serr == nil && last == 0 && len(snaps) == 0
		})
	}
	if _, err := c.Publish(ctx, &pb.PubRequest{Subject: "ev.y"}); status.Code(err) != codes.NotFound {
		t.Fatalf("publish after delete: %v", err)
	}
}

// startClusterWith starts three nodes whose groups use rc.
func startClusterWith(t *testing.T, rc func() *raft.Config) ([]spec, []*Node) {
	t.Helper()
	dir := t.TempDir()
	s1 := newSpec(t, dir, "n1")
	specs := []spec{s1, newSpec(t, dir, "n2", s1.cluster), newSpec(t, dir, "n3", s1.cluster)}
	var nodes []*Node
	for _, s := range specs {
		logger := testlog.Logger(t, s.name, hclog.Info)
		n, err := New(s.config(t, testPlugins, 3), logger, WithRaftConfig(rc()), WithMembershipInterval(100*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = n.Shutdown() })
		nodes = append(nodes, n)
	}
	for _, n := range nodes {
		waitFor(t, "all three recorded on every node", func() bool { return metaServers(n) == "n1,n2,n3" })
	}
	return specs, nodes
}

// TestStreamCatchUpFromSnapshot: an R1 stream whose log was compacted
// into a snapshot grows to R3; the new replicas install the snapshot (a
// header for file streams, the messages for memory streams) and hold
// every message afterwards.
func TestStreamCatchUpFromSnapshot(t *testing.T) {
	if testing.Short() {
		t.Skip("starts plugin processes")
	}
	specs, nodes := startClusterWith(t, func() *raft.Config {
		rc := raftgroup.TestRaftConfig()
		rc.TrailingLogs = 5
		return rc
	})
	c := dialAPI(t, specs[0].client)
	ctx := callCtx(t)
	for _, storage := range []string{"file", "memory"} {
		name := "SNAP_" + storage
		cfg := &pb.StreamConfig{Name: name, Subjects: []string{name + ".>"}, Replicas: 1, Storage: storage}
		if _, err := c.StreamCreate(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		publishRange(t, c, name+".x", 1, 60)
		leader := replicaOn(t, nodes, name)
		if err := leader.Group().Raft().Snapshot().Error(); err != nil {
			t.Fatalf("%s: snapshot: %v", name, err)
		}
		publishRange(t, c, name+".x", 61, 70)
		cfg.Replicas = 3
		if _, err := c.StreamUpdate(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		for _, n := range nodes {
			waitFor(t, name+" caught up on "+n.cfg.ServerName, func() bool {
				r, ok := n.Replicas().Get(name)
				return ok && r.FSM().State().LastSeq == 70 && r.FSM().State().Msgs == 70
			})
			r, _ := n.Replicas().Get(name)
			for _, seq := range []uint64{1, 35, 60, 70} {
				m, err := r.FSM().Get(seq)
				if err != nil || string(m.Data) != fmt.Sprint(seq) {
					t.Fatalf("%s on %s: seq %d = %q, %v", name, n.cfg.ServerName, seq, m.Data, err)
				}
			}
		}
	}
}

// replicaOn returns the replica leading the named stream.
func replicaOn(t *testing.T, nodes []*Node, name string) *replica.Replica {
	t.Helper()
	var found *replica.Replica
	waitFor(t, "a leader for "+name, func() bool {
		for _, n := range nodes {
			if r, ok := n.Replicas().Get(name); ok && r.IsLeader() {
				found = r
				return true
			}
		}
		return false
	})
	return found
}

func TestStepDownAndPeerRemove(t *testing.T) {
	if testing.Short() {
		t.Skip("starts plugin processes")
	}
	specs, nodes := startCluster(t)
	c := dialAPI(t, specs[2].client)
	ctx := callCtx(t)
	if _, err := c.StreamCreate(ctx, &pb.StreamConfig{Name: "R3", Subjects: []string{"r3.>"}, Replicas: 3}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Publish(ctx, &pb.PubRequest{Subject: "r3.a", Data: []byte("1")}); err != nil {
		t.Fatal(err)
	}
	sd, err := c.StreamStepDown(ctx, &pb.StreamRequest{Name: "R3"})
	if err != nil || sd.GetOldLeader() == "" || sd.GetNewLeader() == sd.GetOldLeader() {
		t.Fatalf("stream step-down: %v %v", sd, err)
	}
	if ack, err := c.Publish(ctx, &pb.PubRequest{Subject: "r3.a", Data: []byte("2")}); err != nil || ack.GetSeq() != 2 {
		t.Fatalf("publish after step-down: %v %v", ack, err)
	}
	md, err := c.MetaStepDown(ctx, &pb.Empty{})
	if err != nil || md.GetNewLeader() == md.GetOldLeader() || md.GetNewLeader() == "" {
		t.Fatalf("meta step-down: %v %v", md, err)
	}
	// Three servers, three replicas: nobody can take n1's place.
	if _, err := c.StreamPeerRemove(ctx, &pb.PeerRemoveRequest{Stream: "R3", Peer: "n1"}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("peer-remove without a spare server: %v", err)
	}
	if _, err := c.StreamPeerRemove(ctx, &pb.PeerRemoveRequest{Stream: "R3", Peer: "n9"}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("peer-remove of a stranger: %v", err)
	}

	// An R1 stream moves off its only server: the replacement catches up.
	info, err := c.StreamCreate(ctx, &pb.StreamConfig{Name: "R1", Subjects: []string{"r1.>"}, Replicas: 1})
	if err != nil {
		t.Fatal(err)
	}
	publishRange(t, c, "r1.a", 1, 30)
	from := info.GetPeers()[0]
	info, err = c.StreamPeerRemove(ctx, &pb.PeerRemoveRequest{Stream: "R1", Peer: from})
	if err != nil || len(info.GetPeers()) != 1 || info.GetPeers()[0] == from {
		t.Fatalf("peer-remove %s: %v %v", from, info, err)
	}
	to := info.GetPeers()[0]
	for _, n := range nodes {
		want := n.cfg.ServerName == to
		waitFor(t, "R1 only on "+to, func() bool {
			r, ok := n.Replicas().Get("R1")
			return ok == want && (!ok || r.FSM().State().LastSeq == 30)
		})
	}
	if ack, err := c.Publish(ctx, &pb.PubRequest{Subject: "r1.a"}); err != nil || ack.GetSeq() != 31 {
		t.Fatalf("publish after the move: %v %v", ack, err)
	}
}

// TestServerPeerRemove: a server that holds a stream replica stops for
// good; `server raft peer-remove` moves the replica to the spare server,
// takes it out of the meta group, and it is not added back.
func TestServerPeerRemove(t *testing.T) {
	if testing.Short() {
		t.Skip("starts plugin processes")
	}
	dir := t.TempDir()
	s1 := newSpec(t, dir, "n1")
	specs := []spec{s1}
	for _, name := range []string{"n2", "n3", "n4"} {
		specs = append(specs, newSpec(t, dir, name, s1.cluster))
	}
	var nodes []*Node
	for _, s := range specs {
		nodes = append(nodes, startNode(t, s, testPlugins, 4)) // all four bootstrap
	}
	for _, n := range nodes {
		waitFor(t, "four servers recorded", func() bool { return metaServers(n) == "n1,n2,n3,n4" })
	}
	c := dialAPI(t, specs[0].client)
	ctx := callCtx(t)
	info, err := c.StreamCreate(ctx, &pb.StreamConfig{Name: "PR", Subjects: []string{"pr.>"}, Replicas: 3})
	if err != nil {
		t.Fatal(err)
	}
	publishRange(t, c, "pr.x", 1, 20)
	gone := info.GetPeers()[2]
	if gone == "n1" { // keep the node the test talks to
		gone = info.GetPeers()[1]
	}
	var goneNode *Node
	for _, n := range nodes {
		if n.cfg.ServerName == gone {
			goneNode = n
		}
	}
	if err := goneNode.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ServerPeerRemove(ctx, &pb.ServerRequest{Name: "n9"}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("removing a stranger: %v", err)
	}
	res, err := c.ServerPeerRemove(ctx, &pb.ServerRequest{Name: gone})
	if err != nil || len(res.GetStreams()) != 1 {
		t.Fatalf("peer-remove %s: %v %v", gone, res, err)
	}
	waitFor(t, "PR on three live servers, all current", func() bool {
		info, err = c.StreamInfo(ctx, &pb.StreamRequest{Name: "PR"})
		if err != nil || len(info.GetPeers()) != 3 || slices.Contains(info.GetPeers(), gone) {
			return false
		}
		for _, r := range info.GetCluster().GetReplicas() {
			if !r.GetCurrent() || r.GetName() == gone {
				return false
			}
		}
		return len(info.GetCluster().GetReplicas()) == 2 && info.GetState().GetMessages() == 20
	})
	for _, n := range nodes {
		if n == goneNode {
			continue
		}
		waitFor(t, gone+" out of the meta group on "+n.cfg.ServerName, func() bool {
			return !strings.Contains(strings.Join(voters(n), " "), gone+"=")
		})
	}
	time.Sleep(2 * reconcileInterval) // the meta leader would re-add it by now
	for _, v := range voters(nodes[0]) {
		if strings.HasPrefix(v, gone+"=") {
			t.Fatalf("%s is back among the voters: %v", gone, voters(nodes[0]))
		}
	}
}

// publishRange publishes the numbers from..to, each as its own data, to subj.
func publishRange(t *testing.T, c pb.StrataClient, subj string, from, to int) {
	t.Helper()
	ctx := callCtx(t)
	for i := from; i <= to; i++ {
		if _, err := c.Publish(ctx, &pb.PubRequest{Subject: subj, Data: []byte(fmt.Sprint(i))}); err != nil {
			t.Fatalf("publish %d to %s: %v", i, subj, err)
		}
	}
}
