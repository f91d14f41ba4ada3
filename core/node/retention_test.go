package node

import (
	"context"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/stratadb/strata/client/pb"
)

// fetchAndAck pulls up to n messages of a consumer and acks them all.
func fetchAndAck(t *testing.T, ctx context.Context, c pb.StrataClient, stream, name string, n int) int {
	t.Helper()
	var acks []*pb.Ack
	for _, seq := range fetchSeqs(t, ctx, c, stream, name, n) {
		acks = append(acks, &pb.Ack{StreamSeq: seq})
	}
	if _, err := c.ConsumerAck(ctx, &pb.AckRequest{Stream: stream, Consumer: name, Acks: acks}); err != nil {
		t.Fatal(err)
	}
	return len(acks)
}

func streamMsgs(t *testing.T, ctx context.Context, c pb.StrataClient, name string) uint64 {
	t.Helper()
	info, err := c.StreamInfo(ctx, &pb.StreamRequest{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return info.GetState().GetMessages()
}

// TestWorkQueueAndInterestRetention: a work queue removes what its
// consumer acked; an interest stream keeps a message until every
// consumer that takes it acked it; the consumers' checks refuse
// overlapping work-queue filters and fewer replicas than the stream.
func TestWorkQueueAndInterestRetention(t *testing.T) {
	if testing.Short() {
		t.Skip("starts plugin processes")
	}
	specs, _ := startCluster(t)
	c := dialAPI(t, specs[0].client)
	ctx := callCtx(t)
	for _, sc := range []*pb.StreamConfig{
		{Name: "WQ", Subjects: []string{"wq.>"}, Replicas: 3, Retention: "workqueue"},
		{Name: "IN", Subjects: []string{"in.>"}, Replicas: 3, Retention: "interest"},
	} {
		if _, err := c.StreamCreate(ctx, sc); err != nil {
			t.Fatal(err)
		}
	}
	create := func(stream string, cfg *pb.ConsumerConfig) error {
		_, err := c.ConsumerCreate(ctx, &pb.ConsumerCreateRequest{Stream: stream, Config: cfg})
		return err
	}
	for _, bad := range []struct {
		stream string
		cfg    *pb.ConsumerConfig
	}{
		{"WQ", &pb.ConsumerConfig{Durable: "R1", Replicas: 1}},
		{"IN", &pb.ConsumerConfig{Durable: "R1", Replicas: 1}},
	} {
		if err := create(bad.stream, bad.cfg); status.Code(err) != codes.InvalidArgument {
			t.Fatalf("consumer %s on %s: %v; want InvalidArgument", bad.cfg.GetDurable(), bad.stream, err)
		}
	}
	if err := create("WQ", &pb.ConsumerConfig{Durable: "JOBS"}); err != nil {
		t.Fatal(err)
	}
	if err := create("WQ", &pb.ConsumerConfig{Durable: "MORE", FilterSubjects: []string{"wq.a"}}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("an overlapping work-queue consumer: %v; want InvalidArgument", err)
	}
	for _, name := range []string{"A", "B"} {
		if err := create("IN", &pb.ConsumerConfig{Durable: name}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 10 {
		for _, subj := range []string{"wq.a", "in.a"} {
			if _, err := c.Publish(ctx, &pb.PubRequest{Subject: subj, Data: []byte(fmt.Sprint(i))}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := fetchAndAck(t, ctx, c, "WQ", "JOBS", 10); n != 10 {
		t.Fatalf("work queue fetched %d, want 10", n)
	}
	waitFor(t, "the work queue empty once acked", func() bool { return streamMsgs(t, ctx, c, "WQ") == 0 })
	if n := fetchAndAck(t, ctx, c, "IN", "A", 10); n != 10 {
		t.Fatalf("interest consumer A fetched %d, want 10", n)
	}
	if got := streamMsgs(t, ctx, c, "IN"); got != 10 {
		t.Fatalf("interest stream after only A acked holds %d, want 10", got)
	}
	if n := fetchAndAck(t, ctx, c, "IN", "B", 10); n != 10 {
		t.Fatalf("interest consumer B fetched %d, want 10", n)
	}
	waitFor(t, "the interest stream empty once both acked", func() bool { return streamMsgs(t, ctx, c, "IN") == 0 })
}

// TestWorkQueueRemovesEachAckedMessage: a work queue removes a message
// once acked even when messages before it are not (acked out of order,
// or on a subject no consumer takes); the others keep their sequences.
func TestWorkQueueRemovesEachAckedMessage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts plugin processes")
	}
	specs, _ := startCluster(t)
	c := dialAPI(t, specs[0].client)
	ctx := callCtx(t)
	if _, err := c.StreamCreate(ctx, &pb.StreamConfig{Name: "WQ", Subjects: []string{"wq.>"}, Replicas: 3, Retention: "workqueue"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ConsumerCreate(ctx, &pb.ConsumerCreateRequest{Stream: "WQ", Config: &pb.ConsumerConfig{Durable: "JOBS", FilterSubjects: []string{"wq.jobs"}}}); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		subj := "wq.jobs"
		if i == 2 {
			subj = "wq.other" // seq 3: no consumer takes it
		}
		if _, err := c.Publish(ctx, &pb.PubRequest{Subject: subj, Data: []byte(fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
	}
	if seqs := fetchSeqs(t, ctx, c, "WQ", "JOBS", 10); len(seqs) != 9 {
		t.Fatalf("fetched %v, want the 9 on wq.jobs", seqs)
	}
	var acks []*pb.Ack
	for _, seq := range []uint64{2, 4, 6, 7, 8, 9, 10} { // not 1 and 5
		acks = append(acks, &pb.Ack{StreamSeq: seq})
	}
	if _, err := c.ConsumerAck(ctx, &pb.AckRequest{Stream: "WQ", Consumer: "JOBS", Acks: acks}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the acked messages removed", func() bool { return streamMsgs(t, ctx, c, "WQ") == 3 })
	for seq, kept := range map[uint64]bool{1: true, 2: false, 3: true, 5: true, 9: false} {
		_, err := c.GetMsg(ctx, &pb.GetMsgRequest{Stream: "WQ", Seq: seq})
		if got := err == nil; got != kept {
			t.Errorf("message %d: get answered %v; want kept %v", seq, err, kept)
		}
	}
	if _, err := c.ConsumerAck(ctx, &pb.AckRequest{Stream: "WQ", Consumer: "JOBS", Acks: []*pb.Ack{{StreamSeq: 1}, {StreamSeq: 5}}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "only the message no consumer takes left", func() bool { return streamMsgs(t, ctx, c, "WQ") == 1 })
	info, err := c.StreamInfo(ctx, &pb.StreamRequest{Name: "WQ"})
	if err != nil || info.GetState().GetFirstSeq() != 3 || info.GetState().GetLastSeq() != 10 {
		t.Fatalf("stream state %+v, %v; want message 3 alone, last sequence 10", info.GetState(), err)
	}
}
