package node

import (
	"fmt"
	"io"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/stratadb/strata/client"
	"github.com/stratadb/strata/client/pb"
)

// restoreMsgs returns restored messages first..last.
func restoreMsgs(first, last uint64) []*pb.Msg {
	var out []*pb.Msg
	for seq := first; seq <= last; seq++ {
		out = append(out, &pb.Msg{Seq: seq, Subject: fmt.Sprint("R.", seq%3), Data: fmt.Appendf(nil, "m%d", seq),
			Time: 1_700_000_000_000_000_000 + int64(seq), Headers: []*pb.Header{{Key: "k", Value: fmt.Sprint(seq)}}})
	}
	return out
}

// TestStreamRestoreRPCs: a stream created for a restore takes no
// publishes, takes restored batches that arrive out of order (the leader
// proposes them in sequence order), keeps their sequences and times, and
// after the end takes publishes and no more restored batches; a backup
// read returns exactly what it holds.
func TestStreamRestoreRPCs(t *testing.T) {
	if testing.Short() {
		t.Skip("starts plugin processes")
	}
	specs, nodes := startCluster(t)
	c := dialAPI(t, specs[1].client)
	ctx := callCtx(t)
	if _, err := c.StreamRestoreBegin(ctx, &pb.StreamConfig{Name: "R", Subjects: []string{"R.*"}, Replicas: 3}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.StreamRestoreBegin(ctx, &pb.StreamConfig{Name: "R", Subjects: []string{"R.*"}, Replicas: 3}); status.Code(err) != codes.AlreadyExists {
		t.Fatalf("second begin: %v", err)
	}
	if _, err := c.Publish(ctx, &pb.PubRequest{Subject: "R.x"}); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("publish while restoring: %v", err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	send := func(first, last uint64) {
		_, err := c.StreamRestoreMsgs(ctx, &pb.RestoreMsgs{Stream: "R", Start: 1000, Msgs: restoreMsgs(first, last)})
		errs <- err
	}
	// The batch ahead must reach the stream's leader before the first
	// batch is sent, or the batches would not arrive out of order: wait
	// for the leader's API to count its call.
	leader := streamLeaderNode(t, nodes, "R")
	before := leader.API().Requests()
	wg.Go(func() { send(1100, 1199) }) // ahead: waits for the first batch
	waitFor(t, "the batch ahead to reach the stream leader "+leader.cfg.ServerName, func() bool {
		return leader.API().Requests() > before
	})
	wg.Go(func() { send(1200, 1299) })
	send(1000, 1099)
	wg.Wait()
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.StreamRestoreMsgs(ctx, &pb.RestoreMsgs{Stream: "R", Start: 1000, Msgs: restoreMsgs(1000, 1099)}); err != nil {
		t.Fatalf("a retried batch: %v", err)
	}
	info, err := c.StreamRestoreEnd(ctx, &pb.StreamRequest{Name: "R"})
	if err != nil || info.GetRestoring() || info.GetState().GetFirstSeq() != 1000 || info.GetState().GetLastSeq() != 1299 {
		t.Fatalf("end: %v %v", info, err)
	}
	if _, err := c.StreamRestoreMsgs(ctx, &pb.RestoreMsgs{Stream: "R", Start: 1000, Msgs: restoreMsgs(1300, 1300)}); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("restore after the end: %v", err)
	}
	ack, err := c.Publish(ctx, &pb.PubRequest{Subject: "R.x", Data: []byte("new")})
	if err != nil || ack.GetSeq() != 1300 {
		t.Fatalf("publish after the end: %v %v", ack, err)
	}
	checkBackupRead(t, c, "R", restoreMsgs(1000, 1299))
}

// streamLeaderNode returns the node whose replica leads the named stream.
func streamLeaderNode(t *testing.T, nodes []*Node, name string) *Node {
	t.Helper()
	var found *Node
	waitFor(t, "a leader for "+name, func() bool {
		for _, n := range nodes {
			if r, ok := n.Replicas().Get(name); ok && r.IsLeader() {
				found = n
				return true
			}
		}
		return false
	})
	return found
}

// checkBackupRead reads the stream with StreamBackup and compares the
// first len(want) messages with want.
func checkBackupRead(t *testing.T, c pb.StrataClient, name string, want []*pb.Msg) {
	t.Helper()
	bs, err := c.StreamBackup(callCtx(t), &pb.BackupRequest{Stream: name})
	if err != nil {
		t.Fatal(err)
	}
	first, err := bs.Recv()
	if err != nil || first.GetInfo() == nil {
		t.Fatalf("first chunk: %v %v", first, err)
	}
	got := append(first.GetMsgs(), recvMsgs(t, bs)...)
	if n := first.GetInfo().GetState().GetMessages(); uint64(len(got)) != n || len(got) < len(want) {
		t.Fatalf("backup read %d messages, info says %d, want at least %d", len(got), n, len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.GetSeq() != w.GetSeq() || g.GetTime() != w.GetTime() || g.GetSubject() != w.GetSubject() ||
			string(g.GetData()) != string(w.GetData()) || len(g.GetHeaders()) != 1 || g.GetHeaders()[0].GetValue() != w.GetHeaders()[0].GetValue() {
			t.Fatalf("message %d: got %v, want %v", i, g, w)
		}
	}
}

// TestBackupReadOutlivesLimits: a backup read that has begun keeps every
// message of its point in time while publishes make the stream's limits
// remove all of them (JetStream's promise for backups).
func TestBackupReadOutlivesLimits(t *testing.T) {
	if testing.Short() {
		t.Skip("starts plugin processes")
	}
	const n, size = 10_000, 4096 // 40 MiB: more than gRPC buffers in flight
	specs, _ := startCluster(t)
	ctx := callCtx(t)
	c, err := client.Connect(ctx, specs[0].client)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.AddStream(ctx, client.StreamConfig{Name: "L", Subjects: []string{"L.*"}, MaxMsgs: n}); err != nil {
		t.Fatal(err)
	}
	publishSized(t, c, "L.old", n, size)
	bs, err := dialAPI(t, specs[0].client).StreamBackup(ctx, &pb.BackupRequest{Stream: "L"})
	if err != nil {
		t.Fatal(err)
	}
	first, err := bs.Recv()
	if err != nil || first.GetInfo().GetState().GetMessages() != n {
		t.Fatalf("first chunk: %v %v", first.GetInfo(), err)
	}
	publishSized(t, c, "L.new", n, size) // removes every message of the view from the stream
	if info, err := c.StreamInfo(ctx, "L"); err != nil || info.State.FirstSeq != n+1 {
		t.Fatalf("limits did not remove the old messages: %+v %v", info, err)
	}
	got := recvMsgs(t, bs)
	for i, m := range got {
		if m.GetSeq() != uint64(i+1) || m.GetSubject() != "L.old" || len(m.GetData()) != size {
			t.Fatalf("message %d: seq %d subject %s, %d bytes", i+1, m.GetSeq(), m.GetSubject(), len(m.GetData()))
		}
	}
	if len(got) != n {
		t.Fatalf("backup read %d messages, want %d", len(got), n)
	}
}

func publishSized(t *testing.T, c *client.Client, subj string, n, size int) {
	t.Helper()
	ctx := callCtx(t)
	p, err := c.PublishAsync(ctx, 512)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	data := make([]byte, size)
	for range n {
		if _, err := p.Publish(subj, data); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// recvMsgs reads a backup read's remaining chunks and returns their
// messages.
func recvMsgs(t *testing.T, bs grpc.ServerStreamingClient[pb.BackupChunk]) []*pb.Msg {
	t.Helper()
	var out []*pb.Msg
	for {
		chunk, err := bs.Recv()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, chunk.GetMsgs()...)
	}
}
