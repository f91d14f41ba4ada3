package s3snap_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/stratadb/strata/client"
	"github.com/stratadb/strata/client/pb"
	"github.com/stratadb/strata/internal/clustertest"
	"github.com/stratadb/strata/internal/s3test"
)

// binDir holds strata and its plugins, as `make build` lays them out;
// TestMain builds them unless -short.
var binDir string

func TestMain(m *testing.M) { os.Exit(clustertest.Main(m, &binDir)) }

// TestNodeRebuiltFromS3: three `strata serve` processes keep their Raft
// snapshots on S3 (versitygw). One is killed, its data directory deleted,
// and restarted: it finds its groups' snapshots on S3 (it does not join
// as a blank server), is a current peer again, and its replica of an R3
// stream holds every message, those published while it was down
// included. Here the leaders keep few log entries (trailing_logs 8), so
// the stream leader has compacted past the rebuilt node's snapshot and
// sends it a snapshot to install.
func TestNodeRebuiltFromS3(t *testing.T) {
	testRebuiltFromS3(t, 8)
}

// TestNodeRebuiltFromS3LeaderKeepsLog is the same with raft's default
// trailing_logs: the stream leader still holds every entry after the
// rebuilt node's newest S3 snapshot and sends it only those, so the
// messages up to that snapshot must come from restoring the snapshot.
func TestNodeRebuiltFromS3LeaderKeepsLog(t *testing.T) {
	testRebuiltFromS3(t, 10240)
}

func testRebuiltFromS3(t *testing.T, trailingLogs int) {
	if testing.Short() {
		t.Skip("builds and runs strata, its plugins and versitygw")
	}
	srv := s3test.Start(t)
	srv.Bucket(t, "snapshots")
	c := startCluster(t, srv, trailingLogs)
	cl := connect(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	if _, err := cl.AddStream(ctx, client.StreamConfig{Name: "ORDERS", Subjects: []string{"ORDERS.>"}, Replicas: 3}); err != nil {
		t.Fatal(err)
	}
	const before, during = 300, 100
	publish(ctx, t, cl, 1, before)
	victim := c.Servers[2]
	waitFor(t, "snapshots of the victim's groups on S3", func() string {
		return snapshotsOnS3(t, srv, victim.Name, 100)
	})

	victim.Kill()
	if err := os.RemoveAll(victim.DataDir); err != nil {
		t.Fatal(err)
	}
	publish(ctx, t, cl, before+1, during)
	victim.Start()
	victim.WaitHealthy()

	log := victim.Log()
	if !strings.Contains(log, "existing_state=true") || strings.Contains(log, "bootstrapped the meta group") {
		t.Fatalf("%s did not start from its S3 snapshots:\n%s", victim.Name, log)
	}
	total := uint64(before + during)
	waitFor(t, victim.Name+" a current replica of ORDERS", func() string {
		info, err := cl.StreamInfo(ctx, "ORDERS")
		if err != nil {
			return err.Error()
		}
		if info.Cluster.Leader == victim.Name {
			return ""
		}
		for _, p := range info.Cluster.Replicas {
			if p.Name == victim.Name && p.Current && !p.Offline {
				return ""
			}
		}
		return fmt.Sprintf("cluster %+v", info.Cluster)
	})
	waitFor(t, victim.Name+" holding every message", func() string {
		return replicaState(victim, total)
	})
	checkState(ctx, t, cl, total)
	checkReplica(ctx, t, victim, total)
}

// startCluster starts three servers whose snapshots go to s3snap, each
// under its own prefix (its name), with Raft snapshots taken often
// (every 4 entries).
func startCluster(t *testing.T, srv *s3test.Server, trailingLogs int) *clustertest.Cluster {
	return clustertest.Start(t, clustertest.Options{
		BinDir: binDir,
		Env:    srv.Env(),
		ClusterExtra: fmt.Sprintf(`  raft {
    snapshot_interval  = "200ms"
    snapshot_threshold = 4
    trailing_logs      = %d
  }`, trailingLogs),
		Extra: `storage {
  log      = "badger"
  stable   = "badger"
  snapshot = "s3snap"
}`,
		ExtraFor: func(name string) string {
			return fmt.Sprintf(`plugin "s3snap" {
  config {
    url    = "s3://snapshots/%s"
    retain = 2
  }
}`, name)
		},
	})
}

// waitFor polls cond (which returns "" when satisfied, else why not) for
// up to a minute.
func waitFor(t *testing.T, what string, cond func() string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		why := cond()
		if why == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: %s", what, why)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// connect returns a client of every server that retries long enough to
// ride out a server being killed.
func connect(t *testing.T, c *clustertest.Cluster) *client.Client {
	t.Helper()
	opts := client.DefaultOptions()
	opts.Addrs = c.Addrs()
	opts.Timeout = 10 * time.Second
	opts.MaxRetries = 30
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := client.ConnectOptions(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cl.Close() })
	return cl
}

// message i's subject, payload and header.
func message(i int) (string, []byte, client.Header) {
	return fmt.Sprintf("ORDERS.%d", i%7), []byte(fmt.Sprintf(`{"order":%d,"pad":%q}`, i, strings.Repeat("x", i%50))),
		client.Header{Key: "Order-Id", Value: fmt.Sprint(i)}
}

// publish publishes messages first..first+n-1 and checks their sequences.
func publish(ctx context.Context, t *testing.T, cl *client.Client, first, n int) {
	t.Helper()
	for i := first; i < first+n; i++ {
		subj, data, h := message(i)
		ack, err := cl.Publish(ctx, subj, data, client.WithHeader(h.Key, h.Value), client.WithMsgID(fmt.Sprint("m", i)))
		if err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
		if ack.Seq != uint64(i) || ack.Duplicate {
			t.Fatalf("publish %d: ack %+v", i, ack)
		}
	}
}

// snapshotsOnS3 reports, "" when done, whether the node has a complete
// snapshot of its meta group and of a stream group at index minIndex or
// later on S3.
func snapshotsOnS3(t *testing.T, srv *s3test.Server, name string, minIndex uint64) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := srv.Client()
	out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("snapshots"), Prefix: aws.String(name + "/")})
	if err != nil {
		return err.Error()
	}
	var meta, stream bool
	for _, o := range out.Contents {
		key := aws.ToString(o.Key)
		if !strings.HasSuffix(key, "/meta.json") {
			continue
		}
		group := strings.Split(key, "/")[1]
		switch {
		case group == "meta":
			meta = true
		case strings.HasPrefix(group, "stream%3a"):
			obj, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("snapshots"), Key: o.Key})
			if err != nil {
				return err.Error()
			}
			var m struct{ Index uint64 }
			err = json.NewDecoder(obj.Body).Decode(&m)
			obj.Body.Close()
			if err != nil {
				t.Fatalf("%s: %v", key, err)
			}
			stream = stream || m.Index >= minIndex
		}
	}
	if !meta || !stream {
		return fmt.Sprintf("meta snapshot %v, stream snapshot at %d+ %v (%d objects)", meta, minIndex, stream, len(out.Contents))
	}
	return ""
}

// replicaState reports, "" when done, whether n's own replica of ORDERS
// (its /jsz) holds messages 1..want.
func replicaState(n *clustertest.Server, want uint64) string {
	resp, err := http.Get("http://" + n.HTTP + "/jsz")
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	var doc struct {
		Streams []struct {
			Name     string `json:"name"`
			Messages uint64 `json:"messages"`
			FirstSeq uint64 `json:"first_seq"`
			LastSeq  uint64 `json:"last_seq"`
		} `json:"streams"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		return err.Error()
	}
	for _, st := range doc.Streams {
		if st.Name == "ORDERS" {
			if st.Messages != want || st.FirstSeq != 1 || st.LastSeq != want {
				return fmt.Sprintf("%s's replica holds %d messages, %d..%d; want %d, 1..%d",
					n.Name, st.Messages, st.FirstSeq, st.LastSeq, want, want)
			}
			return ""
		}
	}
	return n.Name + " has no replica of ORDERS"
}

// checkState checks the stream holds total messages from sequence 1.
func checkState(ctx context.Context, t *testing.T, cl *client.Client, total uint64) {
	t.Helper()
	info, err := cl.StreamInfo(ctx, "ORDERS")
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != total || info.State.FirstSeq != 1 || info.State.LastSeq != total {
		t.Fatalf("stream state %+v, want %d messages from 1", info.State, total)
	}
}

// checkReplica reads every message from n's own replica (the Catchup call
// a replica uses, which the answering server serves from its store) and
// compares it with what was published.
func checkReplica(ctx context.Context, t *testing.T, n *clustertest.Server, total uint64) {
	t.Helper()
	conn, err := grpc.NewClient(n.Client, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	cs, err := pb.NewStrataClient(conn).Catchup(ctx, &pb.CatchupRequest{Stream: "ORDERS", First: 1, Last: total})
	if err != nil {
		t.Fatal(err)
	}
	seq := uint64(0)
	for {
		m, err := cs.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("reading %s's replica after sequence %d: %v", n.Name, seq, err)
		}
		seq++
		subj, data, h := message(int(seq))
		hs := m.GetHeaders()
		if m.GetSeq() != seq || m.GetSubject() != subj || string(m.GetData()) != string(data) ||
			len(hs) != 1 || hs[0].GetKey() != h.Key || hs[0].GetValue() != h.Value {
			t.Fatalf("%s's replica: message %d = %d %s %q %v; want %s %q %v",
				n.Name, seq, m.GetSeq(), m.GetSubject(), m.GetData(), hs, subj, data, h)
		}
	}
	if seq != total {
		t.Fatalf("%s's replica holds %d messages, want %d", n.Name, seq, total)
	}
}
