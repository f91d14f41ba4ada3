package monitor

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/core/membership"
	"github.com/stratadb/strata/core/raftgroup"
	"github.com/stratadb/strata/core/stream"
)

// newRaft starts a one-server raft group on in-memory stores, not yet
// bootstrapped.
func newRaft(t *testing.T) *raft.Raft {
	t.Helper()
	rc := raftgroup.TestRaftConfig()
	rc.LocalID = "n1"
	rc.Logger = hclog.NewNullLogger()
	store := raft.NewInmemStore()
	_, trans := raft.NewInmemTransport("n1")
	r, err := raft.NewRaft(rc, &raft.MockFSM{}, store, store, raft.NewInmemSnapshotStore(), trans)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Shutdown().Error() })
	return r
}

func startServer(t *testing.T, r *raft.Raft) string {
	t.Helper()
	members := func() []membership.Member {
		return []membership.Member{{Name: "n1", Cluster: "127.0.0.1:6222", ClusterName: "C1"}}
	}
	s, err := Start(Config{Addr: "127.0.0.1:0", ServerName: "n1", ClusterName: "C1", Members: members, Meta: r})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	return "http://" + s.Addr().String()
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func TestEndpoints(t *testing.T) {
	r := newRaft(t)
	base := startServer(t, r)

	code, body := get(t, base+"/healthz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "no meta leader known") {
		t.Fatalf("healthz before bootstrap: %d %s", code, body)
	}
	if err := r.BootstrapCluster(raft.Configuration{Servers: []raft.Server{{ID: "n1", Address: "n1"}}}).Error(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for code != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatalf("healthz never turned 200: %d %s", code, body)
		}
		time.Sleep(20 * time.Millisecond)
		code, body = get(t, base+"/healthz")
	}
	var h Health
	if err := json.Unmarshal([]byte(body), &h); err != nil || h.Status != "ok" {
		t.Fatalf("healthz body %s: %v", body, err)
	}

	_, body = get(t, base+"/jsz")
	var j Jsz
	if err := json.Unmarshal([]byte(body), &j); err != nil {
		t.Fatal(err)
	}
	if j.ServerName != "n1" || j.Cluster != "C1" || len(j.Members) != 1 || j.Meta.Leader != "n1" ||
		j.Meta.State != "Leader" || j.Meta.Term == 0 || len(j.Meta.Peers) != 1 || j.Meta.Peers[0].Suffrage != "Voter" {
		t.Fatalf("jsz = %s", body)
	}

	_, body = get(t, base+"/metrics")
	for _, want := range []string{
		`strata_meta_raft_state{server="n1",state="Leader"} 1`,
		`strata_meta_raft_state{server="n1",state="Follower"} 0`,
		`strata_cluster_members{server="n1"} 1`,
		`strata_meta_raft_peers{server="n1"} 1`,
		"go_goroutines ",
		"process_start_time_seconds ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestJudge(t *testing.T) {
	cases := []struct {
		state           raft.RaftState
		leader          string
		commit, applied uint64
		want            string
	}{
		{raft.Follower, "n1", 100, 90, ""},
		{raft.Follower, "n1", 90, 100, ""},
		{raft.Follower, "", 1, 1, "no meta leader known"},
		{raft.Follower, "n1", 0, 0, "meta group has applied nothing yet"},
		{raft.Follower, "n1", 200, 100, "meta group is 100 entries behind"},
		{raft.Shutdown, "n1", 1, 1, "meta group is shut down"},
	}
	for _, tc := range cases {
		h := judge(tc.state, tc.leader, tc.commit, tc.applied, 64)
		if (tc.want == "") != (h.Status == "ok") || !strings.Contains(h.Error, tc.want) {
			t.Errorf("judge(%v, %q, %d, %d) = %+v; want %q", tc.state, tc.leader, tc.commit, tc.applied, h, tc.want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	if _, err := Start(Config{Addr: "127.0.0.1:0"}); err != ErrNoMeta {
		t.Fatalf("err = %v; want ErrNoMeta", err)
	}
}

// TestHealthzWaitsForRegistration: a node whose server the meta state
// does not record yet is not healthy (no replica can be placed on it).
func TestHealthzWaitsForRegistration(t *testing.T) {
	r := newRaft(t)
	if err := r.BootstrapCluster(raft.Configuration{Servers: []raft.Server{{ID: "n1", Address: "n1"}}}).Error(); err != nil {
		t.Fatal(err)
	}
	var registered atomic.Bool
	s, err := Start(Config{Addr: "127.0.0.1:0", ServerName: "n1", ClusterName: "C1", Meta: r,
		Members: func() []membership.Member { return nil }, Registered: registered.Load})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	base := "http://" + s.Addr().String()
	deadline := time.Now().Add(5 * time.Second)
	for {
		code, body := get(t, base+"/healthz")
		if strings.Contains(body, "not recorded in the meta state") && code == http.StatusServiceUnavailable {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("healthz before registration: %d %s", code, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	registered.Store(true)
	if code, body := get(t, base+"/healthz"); code != http.StatusOK {
		t.Fatalf("healthz after registration: %d %s", code, body)
	}
}

// TestAuthorizeGuardsAllButHealthz: with Authorize, /jsz, /metrics and the
// profiler answer 401 without accepted basic credentials; /healthz stays
// open.
func TestAuthorizeGuardsAllButHealthz(t *testing.T) {
	r := newRaft(t)
	members := func() []membership.Member { return nil }
	s, err := Start(Config{Addr: "127.0.0.1:0", ServerName: "n1", ClusterName: "C1", Members: members, Meta: r,
		Authorize: func(user, password string) bool { return user == "admin" && password == "pw" }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	base := "http://" + s.Addr().String()
	if code, _ := get(t, base+"/healthz"); code == http.StatusUnauthorized {
		t.Fatal("/healthz asked for credentials")
	}
	for _, path := range []string{"/jsz", "/metrics", "/debug/pprof/"} {
		if code, _ := get(t, base+path); code != http.StatusUnauthorized {
			t.Errorf("%s without credentials: %d, want 401", path, code)
		}
		for _, creds := range [][2]string{{"admin", "wrong"}, {"admin", "pw"}} {
			req, _ := http.NewRequest(http.MethodGet, base+path, nil)
			req.SetBasicAuth(creds[0], creds[1])
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if want := creds[1] == "pw"; (resp.StatusCode == http.StatusOK) != want {
				t.Errorf("%s as %s/%s: %d", path, creds[0], creds[1], resp.StatusCode)
			}
		}
	}
}

// TestJszDigest: ?digest=true adds each stream replica's digest, plain
// /jsz does not read the messages, and a bad value is refused.
func TestJszDigest(t *testing.T) {
	r := newRaft(t)
	msgs := stream.NewMemStore()
	if err := msgs.Update(stream.Update{Append: []stream.Message{{Seq: 1, Subject: "a", Data: []byte("x"), Time: 1}}}); err != nil {
		t.Fatal(err)
	}
	want, err := stream.DigestOf(msgs)
	if err != nil {
		t.Fatal(err)
	}
	streams := func() []StreamReplica {
		return []StreamReplica{{Name: "S", Raft: r, Reader: msgs, LastSeq: 1}}
	}
	members := func() []membership.Member { return nil }
	s, err := Start(Config{Addr: "127.0.0.1:0", ServerName: "n1", ClusterName: "C1", Members: members, Meta: r, Streams: streams})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	base := "http://" + s.Addr().String()

	for query, digest := range map[string]*stream.Digest{"": nil, "?digest=false": nil, "?digest=true": &want} {
		code, body := get(t, base+"/jsz"+query)
		var j Jsz
		if err := json.Unmarshal([]byte(body), &j); err != nil || code != http.StatusOK || len(j.Streams) != 1 {
			t.Fatalf("/jsz%s: %d %s %v", query, code, body, err)
		}
		if got := j.Streams[0].Digest; (got == nil) != (digest == nil) || (got != nil && *got != *digest) {
			t.Errorf("/jsz%s: digest %+v, want %+v", query, got, digest)
		}
	}
	if code, body := get(t, base+"/jsz?digest=yes"); code != http.StatusBadRequest || !strings.Contains(body, "want true or false") {
		t.Errorf("digest=yes: %d %s", code, body)
	}
}
