package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stratadb/strata/client"
	"github.com/stratadb/strata/core/monitor"
	"github.com/stratadb/strata/internal/damage"
)

// TestCorruptReplicaIsStopped flips a bit of one message in a replica's
// message store while its server is stopped, restarts it and asks it for
// its replicas' digests, which reads every message. The read finds the
// damage: the replica stops its group (its /healthz says why), and every
// message reads back as published, the damaged one included, through
// that server too, while publishes go on. Then the operator's peer-remove
// moves the replica to the spare server, which rebuilds it from the
// peers, and the damaged copy is deleted.
func TestCorruptReplicaIsStopped(t *testing.T) {
	needBinaries(t)
	servers := newFlagCluster(t, 4)
	c := ordersCluster(t, servers)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	data := publishRandom(t, c, 300)

	info, err := c.StreamInfo(ctx, "ORDERS")
	if err != nil {
		t.Fatal(err)
	}
	bad := byName(t, servers, info.Peers[0])
	bad.stop(t)
	file := damage.FlipBitOf(t, filepath.Join(bad.dir, bad.name, "messages"), data[150][50:150])
	t.Logf("flipped a bit of message 150 in %s", file)
	bad.start(t, 2)
	waitFormed(t, servers)

	j := waitReplicaRuns(t, bad, "?digest=true")
	if !strings.Contains(j.Streams[0].DigestError, "corrupt") {
		t.Fatalf("%s digests: %+v", bad.name, j.Streams)
	}
	body := waitUnhealthy(t, bad)
	if !strings.Contains(body, "corrupt") || !strings.Contains(body, "ORDERS") {
		t.Fatalf("%s /healthz: %s", bad.name, body)
	}
	t.Logf("%s /healthz: %s", bad.name, body)
	report := mustCLI(t, servers, "Server Faults", "server", "report")
	faults := report[strings.Index(report, "Server Faults"):]
	if row := tableRow(faults, bad.name); len(row) != 2 || !strings.Contains(row[1], "stream replica corrupt") {
		t.Fatalf("server report: %s row %q in:\n%s", bad.name, row, report)
	}

	through := connectAll(t, []*server{bad})
	for seq := uint64(1); seq <= 300; seq++ {
		m := getUntilServed(t, through, seq)
		if !bytes.Equal(m.Data, data[seq]) {
			t.Fatalf("message %d: read other data than published", seq)
		}
	}
	if _, err := c.Publish(ctx, "ORDERS.new", []byte("after")); err != nil {
		t.Fatalf("publish with one replica stopped: %v", err)
	}

	// The operator moves the replica: the spare server rebuilds it from
	// the peers, and the damaged copy is deleted, which ends the 503.
	if _, err := c.RemoveStreamPeer(ctx, "ORDERS", bad.name); err != nil {
		t.Fatalf("peer-remove %s: %v", bad.name, err)
	}
	waitMoved(t, c, bad.name)
	waitFormed(t, servers)
	for seq := uint64(1); seq <= 300; seq++ {
		if m := getUntilServed(t, c, seq); !bytes.Equal(m.Data, data[seq]) {
			t.Fatalf("message %d after the move: read other data than published", seq)
		}
	}
}

// waitReplicaRuns waits, at most 30 s, until s's /jsz (with query) lists
// the ORDERS replica, and returns it.
func waitReplicaRuns(t *testing.T, s *server, query string) monitor.Jsz {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		j, err := s.jszQuery(query, 30*time.Second)
		if err == nil && len(j.Streams) == 1 && j.Streams[0].Name == "ORDERS" {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s runs no ORDERS replica: %+v, %v", s.name, j.Streams, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitMoved waits until ORDERS has three peers, none of them gone, with
// a leader and both other replicas current.
func waitMoved(t *testing.T, c *client.Client, gone string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		si, err := c.StreamInfo(ctx, "ORDERS")
		cancel()
		if err == nil && len(si.Peers) == 3 && !slices.Contains(si.Peers, gone) && si.Cluster.Leader != "" &&
			replicasCurrent(si.Cluster, 2) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the stream never moved off %s: %+v %v", gone, si, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// publishRandom publishes n messages of random data and returns each
// message's data by sequence.
func publishRandom(t *testing.T, c *client.Client, n int) [][]byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rnd := rand.New(rand.NewPCG(7, 8))
	data := make([][]byte, n+1)
	for i := 1; i <= n; i++ {
		data[i] = make([]byte, 256)
		for j := range data[i] {
			data[i][j] = byte(rnd.Uint32())
		}
		ack, err := c.Publish(ctx, "ORDERS.new", data[i])
		if err != nil || ack.Seq != uint64(i) {
			t.Fatalf("publish %d: %+v, %v", i, ack, err)
		}
	}
	return data
}

// getUntilServed reads message seq, retrying errors for at most 30 s.
func getUntilServed(t *testing.T, c *client.Client, seq uint64) *client.Msg {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		m, err := c.GetMsg(ctx, "ORDERS", seq)
		cancel()
		if err == nil {
			return m
		}
		if errors.Is(err, client.ErrMsgNotFound) || time.Now().After(deadline) {
			t.Fatalf("get %d: %v", seq, err)
		}
		t.Logf("get %d: %v (retrying)", seq, err)
		time.Sleep(100 * time.Millisecond)
	}
}

// waitUnhealthy waits, at most 10 s, until s's /healthz is not 200 and
// returns its body.
func waitUnhealthy(t *testing.T, s *server) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + s.http + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			return string(b)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s /healthz still 200: %s", s.name, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
