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

// TestCorruptReplicaIsStopped damages one replica's files while its
// server is stopped and restarts it; the replica finds the damage and
// stops its group (its /healthz and the server report say why), every
// message reads back as published, the damaged ones included, through
// that server too, and publishes go on. Then the operator's peer-remove
// moves the replica to the spare server, which rebuilds it from the
// peers, and the damaged copy is deleted.
//
// In the message store, a flipped bit of one message is found when the
// server's /jsz?digest=true reads every message. In the Raft log, a
// flipped bit in one of the last entries is found when the replica starts
// and reads its log as raft will (the file plugin; the badger plugin
// checks its own tables and refuses to open, and the node exits with its
// error).
func TestCorruptReplicaIsStopped(t *testing.T) {
	needBinaries(t)
	for _, tc := range []struct {
		name   string
		config string // HCL every server starts with, if set
		damage func(t *testing.T, bad *server, data [][]byte)
		find   func(t *testing.T, servers []*server, bad *server)
		want   string
	}{
		{"message store", "", func(t *testing.T, bad *server, data [][]byte) {
			file := damage.FlipBitOf(t, filepath.Join(bad.dir, bad.name, "messages"), data[150][50:150])
			t.Logf("flipped a bit of message 150 in %s", file)
		}, func(t *testing.T, servers []*server, bad *server) {
			waitFormed(t, servers)
			j := waitReplicaRuns(t, bad, "?digest=true")
			if !strings.Contains(j.Streams[0].DigestError, "corrupt") {
				t.Fatalf("%s digests: %+v", bad.name, j.Streams)
			}
		}, "stream store corrupt"},
		{"raft log tail", `storage {
  log    = "file"
  stable = "file"
}
`, func(t *testing.T, bad *server, data [][]byte) {
			// Message 299's entry: a follower has applied it (the entry
			// after it told it 299 was committed), not always 300's.
			file := damage.FlipBitOf(t, filepath.Join(bad.dir, bad.name, "plugins"), data[299][50:150])
			t.Logf("flipped a bit of message 299's Raft entry in %s", file)
		}, nil, "the Raft log is damaged"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			servers := newFlagCluster(t, 4)
			if tc.config != "" {
				path := writeConfig(t, servers[0].dir, "storage", tc.config)
				for _, s := range servers {
					s.args = append(s.args, "--config", path)
				}
			}
			c := ordersCluster(t, servers)
			data := publishRandom(t, c, 300)
			bad := byName(t, servers, streamPeers(t, c)[0])
			bad.stop(t)
			tc.damage(t, bad, data)
			bad.start(t, 2)
			if tc.find != nil {
				tc.find(t, servers, bad)
			}
			checkStopped(t, servers, bad, tc.want)
			checkServed(t, connectAll(t, []*server{bad}), data)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if _, err := c.Publish(ctx, "ORDERS.new", []byte("after")); err != nil {
				t.Fatalf("publish with one replica stopped: %v", err)
			}
			// The spare server rebuilds the replica from the peers, and
			// the damaged copy is deleted, which ends the 503.
			if _, err := c.RemoveStreamPeer(ctx, "ORDERS", bad.name); err != nil {
				t.Fatalf("peer-remove %s: %v", bad.name, err)
			}
			waitMoved(t, c, bad.name)
			waitFormed(t, servers)
			checkServed(t, c, data)
		})
	}
}

func streamPeers(t *testing.T, c *client.Client) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	info, err := c.StreamInfo(ctx, "ORDERS")
	if err != nil {
		t.Fatal(err)
	}
	return info.Peers
}

// checkStopped waits until bad's /healthz says its ORDERS replica is
// corrupt, with want in the error, and checks the server report says so.
func checkStopped(t *testing.T, servers []*server, bad *server, want string) {
	t.Helper()
	body := waitUnhealthy(t, bad, "stream replica corrupt")
	if !strings.Contains(body, "stream replica corrupt") || !strings.Contains(body, "ORDERS") || !strings.Contains(body, want) {
		t.Fatalf("%s /healthz: %s", bad.name, body)
	}
	t.Logf("%s /healthz: %s", bad.name, body)
	report := mustCLI(t, servers, "Server Faults", "server", "report")
	faults := report[strings.Index(report, "Server Faults"):]
	if row := tableRow(faults, bad.name); len(row) != 2 || !strings.Contains(row[1], want) {
		t.Fatalf("server report: %s row %q in:\n%s", bad.name, row, report)
	}
}

// checkServed reads every message through c and compares it with data.
func checkServed(t *testing.T, c *client.Client, data [][]byte) {
	t.Helper()
	for seq := uint64(1); seq < uint64(len(data)); seq++ {
		if m := getUntilServed(t, c, seq); !bytes.Equal(m.Data, data[seq]) {
			t.Fatalf("message %d: read other data than published", seq)
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

// waitUnhealthy waits, at most 30 s, until s's /healthz is not 200 with
// want in its body, and returns the body.
func waitUnhealthy(t *testing.T, s *server, want string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + s.http + "/healthz")
		var b []byte
		if err == nil {
			b, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		if err == nil && resp.StatusCode != http.StatusOK && strings.Contains(string(b), want) {
			return string(b)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s /healthz never said %q: %s %v", s.name, want, b, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
