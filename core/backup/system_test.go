package backup_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stratadb/strata/client"
	"github.com/stratadb/strata/core/backup"
	"github.com/stratadb/strata/internal/clustertest"
	"github.com/stratadb/strata/internal/objstore"
	"github.com/stratadb/strata/internal/s3test"
)

// testMsg is message i of a test stream: mixed sizes, some headers.
func testMsg(i int) (string, []byte, []client.PubOpt) {
	size := [...]int{16, 64, 200, 400, 1000}[i%5]
	data := bytes.Repeat(fmt.Appendf(nil, `{"order":%d,"item":"widget"}`, i), size/24+1)[:size]
	var opts []client.PubOpt
	if i%3 == 0 {
		opts = append(opts, client.WithHeader("Trace", fmt.Sprint("t-", i)), client.WithHeader("Kind", "order"))
	}
	if i%7 == 0 {
		opts = append(opts, client.WithMsgID(fmt.Sprint("id-", i)))
	}
	return fmt.Sprintf("ORDERS.%d", i%11), data, opts
}

// publish publishes messages [from, to) asynchronously and returns the
// index each acked sequence holds.
func publish(ctx context.Context, c *client.Client, from, to int) (map[uint64]int, error) {
	p, err := c.PublishAsync(ctx, 512)
	if err != nil {
		return nil, err
	}
	defer p.Close()
	futures := make([]*client.AckFuture, 0, to-from)
	for i := from; i < to; i++ {
		subj, data, opts := testMsg(i)
		f, err := p.Publish(subj, data, opts...)
		if err != nil {
			return nil, fmt.Errorf("publish %d: %w", i, err)
		}
		futures = append(futures, f)
	}
	seqs := make(map[uint64]int, to-from)
	for i, f := range futures {
		ack, err := f.Wait(ctx)
		if err != nil {
			return nil, fmt.Errorf("ack %d: %w", from+i, err)
		}
		seqs[ack.Seq] = from + i
	}
	return seqs, nil
}

func mustPublish(t *testing.T, c *client.Client, from, to int) map[uint64]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	seqs, err := publish(ctx, c, from, to)
	if err != nil {
		t.Fatal(err)
	}
	return seqs
}

func addStream(t *testing.T, c *client.Client, name string, replicas int) {
	t.Helper()
	_, err := c.AddStream(context.Background(), client.StreamConfig{Name: name, Subjects: []string{name + ".>"}, Replicas: replicas})
	if err != nil {
		t.Fatal(err)
	}
}

// readAll reads a stream's messages through a backup read.
func readAll(t *testing.T, c *client.Client, name string) (*client.StreamInfo, []client.Msg) {
	t.Helper()
	var info *client.StreamInfo
	var msgs []client.Msg
	err := c.Backup(context.Background(), name, func(i *client.StreamInfo) error { info = i; return nil },
		func(batch []client.Msg) error { msgs = append(msgs, batch...); return nil })
	if err != nil {
		t.Fatal(err)
	}
	return info, msgs
}

// checkMsg checks that m is test message i.
func checkMsg(t *testing.T, m client.Msg, i int) {
	t.Helper()
	subj, data, _ := testMsg(i)
	var hdr []client.Header
	if i%3 == 0 {
		hdr = []client.Header{{Key: "Trace", Value: fmt.Sprint("t-", i)}, {Key: "Kind", Value: "order"}}
	}
	if m.Subject != subj || !bytes.Equal(m.Data, data) || !slices.Equal(m.Header, hdr) {
		t.Fatalf("seq %d: got %s %q %v, want message %d: %s %q %v", m.Seq, m.Subject, m.Data, m.Header, i, subj, data, hdr)
	}
}

// TestBackupRestoreS3 is the disaster-recovery test: an R3 stream of
// 200,000 messages is backed up to S3 while publishing goes on, the
// cluster is destroyed, and a fresh one restores every message with its
// sequence and time.
func TestBackupRestoreS3(t *testing.T) {
	needCluster(t)
	s3 := s3test.Start(t)
	s3.Bucket(t, "backups")
	s3.Setenv(t)
	cluster := clustertest.Start(t, clustertest.Options{BinDir: binDir})
	c := cluster.Connect(t)
	addStream(t, c, "ORDERS", 3)
	const n = 200_000
	start := time.Now()
	seqs := mustPublish(t, c, 0, n)
	t.Logf("published %d in %s", n, time.Since(start))

	store, err := objstore.Open(context.Background(), "s3://backups/strata")
	if err != nil {
		t.Fatal(err)
	}
	var more map[uint64]int
	var wg sync.WaitGroup
	var pubErr error
	wg.Go(func() { more, pubErr = publish(context.Background(), c, n, n+20_000) })
	b, err := backup.Save(context.Background(), c, store, backup.SaveOptions{Stream: "ORDERS"})
	if err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if pubErr != nil {
		t.Fatalf("publishing during the backup: %v", pubErr)
	}
	maps.Copy(seqs, more)
	m := b.Manifest
	if m.Messages < n || m.FirstSeq != 1 || m.LastSeq != m.Messages {
		t.Fatalf("manifest %+v: want at least %d messages from 1", m, n)
	}
	t.Logf("backup %s: %d messages, %d bytes, %d compressed", b.Dir, m.Messages, m.Bytes, m.Compressed)
	// The original times, read before the cluster is lost.
	_, orig := readAll(t, c, "ORDERS")
	orig = orig[:m.Messages]

	t.Logf("backup done %s", time.Since(start))
	cluster.Destroy()
	fresh := clustertest.Start(t, clustertest.Options{BinDir: binDir})
	c2 := fresh.Connect(t)
	found, err := backup.Find(context.Background(), mustOpen(t, "s3://backups/strata/ORDERS"))
	if err != nil || found.ID() != b.ID() {
		t.Fatalf("Find = %v, %v; want %s", found.Dir, err, b.Dir)
	}
	info, err := backup.Restore(context.Background(), c2, mustOpen(t, "s3://backups/strata/ORDERS"), found, backup.RestoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if info.Restoring || info.State.Msgs != m.Messages || info.Config.Replicas != 3 {
		t.Fatalf("restored stream %+v", info)
	}
	t.Logf("restored %s", time.Since(start))
	_, got := readAll(t, c2, "ORDERS")
	t.Logf("read %s", time.Since(start))
	if uint64(len(got)) != m.Messages {
		t.Fatalf("restored %d messages, backup has %d", len(got), m.Messages)
	}
	for i, g := range got {
		checkMsg(t, g, seqs[g.Seq])
		if g.Seq != orig[i].Seq || !g.Time.Equal(orig[i].Time) || g.MsgID != orig[i].MsgID {
			t.Fatalf("message %d: restored seq %d time %v id %q, original seq %d time %v id %q",
				i, g.Seq, g.Time, g.MsgID, orig[i].Seq, orig[i].Time, orig[i].MsgID)
		}
	}
	// The restored stream takes publishes after its last sequence.
	ack, err := c2.Publish(context.Background(), "ORDERS.new", []byte("after"))
	if err != nil || ack.Seq != m.LastSeq+1 {
		t.Fatalf("publish after restore = %+v, %v; want seq %d", ack, err, m.LastSeq+1)
	}
}

func mustOpen(t *testing.T, url string) objstore.Store {
	t.Helper()
	s, err := objstore.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var _ = errors.Is
var _ = rand.IntN
