package backup_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stratadb/strata/client"
	"github.com/stratadb/strata/core/backup"
	"github.com/stratadb/strata/internal/clustertest"
)

// TestBackupRestoreHoles backs up a work queue whose consumer acked all
// but four messages, out of order: the removed messages are holes, runs
// of them longer than one restore batch may carry, and at the end. After
// the stream is lost, the restored one holds the four at their sequences
// and ends at the same last sequence.
func TestBackupRestoreHoles(t *testing.T) {
	needCluster(t)
	cluster := clustertest.Start(t, clustertest.Options{BinDir: binDir})
	c := cluster.Connect(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if _, err := c.AddStream(ctx, client.StreamConfig{Name: "WQ", Subjects: []string{"WQ.>"}, Replicas: 3, Retention: "workqueue"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddConsumer(ctx, "WQ", client.ConsumerConfig{Durable: "JOBS", AckWait: time.Hour}); err != nil {
		t.Fatal(err)
	}
	const n = 10_000
	if _, err := publishTo(ctx, c, "WQ.job", n); err != nil {
		t.Fatal(err)
	}
	kept := []uint64{1, 5000, 5001, 9990}
	consumeAllBut(t, ctx, c, n, kept)
	waitStream(t, ctx, c, "WQ", func(st client.StreamState) bool { return st.Msgs == uint64(len(kept)) })

	store := mustOpen(t, t.TempDir())
	b, err := backup.Save(ctx, c, store, backup.SaveOptions{Stream: "WQ"})
	if err != nil {
		t.Fatal(err)
	}
	if m := b.Manifest; m.Messages != 4 || m.FirstSeq != 1 || m.LastSeq != n {
		t.Fatalf("manifest %+v: want 4 messages from 1 through %d", m, n)
	}
	if _, err := backup.Verify(ctx, store, b, backup.VerifyOptions{}); err != nil {
		t.Fatalf("verify: %v", err)
	}
	if err := c.DeleteStream(ctx, "WQ"); err != nil {
		t.Fatal(err)
	}
	info, err := backup.Restore(ctx, c, store, b, backup.RestoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 4 || info.State.FirstSeq != 1 || info.State.LastSeq != n {
		t.Fatalf("restored state %+v", info.State)
	}
	_, got := readAll(t, c, "WQ")
	var seqs []uint64
	for _, m := range got {
		seqs = append(seqs, m.Seq)
	}
	if !slices.Equal(seqs, kept) {
		t.Fatalf("restored %v, want %v", seqs, kept)
	}
	ack, err := c.Publish(ctx, "WQ.job", []byte("after"))
	if err != nil || ack.Seq != n+1 {
		t.Fatalf("publish after restore = %+v, %v; want seq %d", ack, err, n+1)
	}
}

// publishTo publishes n messages on subj, asynchronously.
func publishTo(ctx context.Context, c *client.Client, subj string, n int) (uint64, error) {
	p, err := c.PublishAsync(ctx, 512)
	if err != nil {
		return 0, err
	}
	defer p.Close()
	var futures []*client.AckFuture
	for i := range n {
		f, err := p.Publish(subj, fmt.Appendf(nil, "job %d", i))
		if err != nil {
			return 0, err
		}
		futures = append(futures, f)
	}
	var last uint64
	for _, f := range futures {
		ack, err := f.Wait(ctx)
		if err != nil {
			return 0, err
		}
		last = max(last, ack.Seq)
	}
	return last, nil
}

// consumeAllBut fetches the n messages of WQ/JOBS and acks all but kept.
func consumeAllBut(t *testing.T, ctx context.Context, c *client.Client, n int, kept []uint64) {
	t.Helper()
	for seen := 0; seen < n; {
		msgs, err := c.Fetch(ctx, "WQ", "JOBS", client.FetchOptions{Batch: 500, Expires: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		var acks []client.Ack
		for _, m := range msgs {
			if !slices.Contains(kept, m.Seq) {
				acks = append(acks, client.Ack{Seq: m.Seq})
			}
		}
		seen += len(msgs)
		if _, _, err := c.AckBatch(ctx, "WQ", "JOBS", acks); err != nil {
			t.Fatal(err)
		}
	}
}

// waitStream waits until the stream's state satisfies ok.
func waitStream(t *testing.T, ctx context.Context, c *client.Client, name string, ok func(client.StreamState) bool) {
	t.Helper()
	for {
		info, err := c.StreamInfo(ctx, name)
		if err == nil && ok(info.State) {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("stream %s: %+v, %v", name, info, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
