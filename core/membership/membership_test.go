package membership

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stratadb/strata/internal/testlog"

	"github.com/hashicorp/go-hclog"

	"github.com/stratadb/strata/core/raftgroup"
)

type instance struct {
	*Membership
	log *testlog.Buffer
}

// start runs a Membership named name in cluster on its own mux on
// 127.0.0.1, seeded with routes.
func start(t *testing.T, name, cluster string, routes ...string) *instance {
	t.Helper()
	log := &testlog.Buffer{}
	logger := hclog.New(&hclog.LoggerOptions{Name: name, Level: hclog.Debug, Output: log})
	mux, err := raftgroup.Listen("127.0.0.1:0", raftgroup.MuxConfig{Logger: logger.Named("mux")})
	if err != nil {
		t.Fatal(err)
	}
	layer, err := mux.StreamLayer(StreamID)
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Self = Member{Name: name, Cluster: mux.Addr().String(), Client: "127.0.0.1:4222",
		HTTP: "127.0.0.1:8222", Tags: []string{"az:" + name}, ClusterName: cluster}
	cfg.Routes, cfg.Layer, cfg.Logger = routes, layer, logger
	cfg.Interval, cfg.DialTimeout, cfg.IOTimeout = 50*time.Millisecond, 200*time.Millisecond, time.Second
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m.Start()
	t.Cleanup(func() {
		m.Stop()
		_ = mux.Close()
		if t.Failed() {
			t.Logf("%s log:\n%s", name, log)
		}
	})
	return &instance{Membership: m, log: log}
}

func names(ms []Member) string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Name)
	}
	return strings.Join(out, ",")
}

// waitFor polls cond until it holds or 5 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestChainOfSeedsLearnsAll(t *testing.T) {
	n1 := start(t, "n1", "C1")
	n2 := start(t, "n2", "C1", n1.cfg.Self.Cluster)
	n3 := start(t, "n3", "C1", n2.cfg.Self.Cluster)
	for _, n := range []*instance{n1, n2, n3} {
		waitFor(t, n.cfg.Self.Name+" to know all", func() bool { return names(n.Members()) == "n1,n2,n3" })
	}
	got := n1.Members()[2]
	want := n3.cfg.Self
	if !got.equal(want) {
		t.Fatalf("n1's view of n3 = %+v; want %+v", got, want)
	}
	select {
	case <-n1.Changes():
	default:
		t.Fatal("no change notification on n1")
	}
}

func TestUpdateSelfSpreads(t *testing.T) {
	n1 := start(t, "n1", "C1")
	n2 := start(t, "n2", "C1", n1.cfg.Self.Cluster)
	waitFor(t, "n1 to know n2", func() bool { return len(n1.Members()) == 2 })
	n2.UpdateSelf(func(m *Member) { m.Bootstrapped = true; m.Name = "renamed" })
	if s := n2.Self(); s.Name != "n2" || !s.Bootstrapped {
		t.Fatalf("n2 self = %+v", s)
	}
	waitFor(t, "n1 to see n2 bootstrapped", func() bool { return n1.Members()[1].Bootstrapped })
}

func TestOtherClusterRefused(t *testing.T) {
	n1 := start(t, "n1", "C1")
	x := start(t, "x1", "C2", n1.cfg.Self.Cluster)
	waitFor(t, "the refusal to be logged on both sides", func() bool {
		return strings.Contains(n1.log.String(), `[ERROR] n1: refusing member: error="member \"x1\"`) &&
			strings.Contains(x.log.String(), "[ERROR] x1: refused by peer")
	})
	if got := names(n1.Members()); got != "n1" {
		t.Fatalf("n1 members = %s", got)
	}
	if got := names(x.Members()); got != "x1" {
		t.Fatalf("x1 members = %s", got)
	}
}

func TestDuplicateNameRefused(t *testing.T) {
	n1 := start(t, "n1", "C1")
	n2 := start(t, "n2", "C1", n1.cfg.Self.Cluster)
	waitFor(t, "n1 to know n2", func() bool { return len(n1.Members()) == 2 })
	dup := start(t, "n2", "C1", n1.cfg.Self.Cluster)
	want := fmt.Sprintf(`the name is already taken by the member at %s`, n2.cfg.Self.Cluster)
	waitFor(t, "n1 to log the name conflict", func() bool { return strings.Contains(n1.log.String(), want) })
	for _, m := range n1.Members() {
		if m.Name == "n2" && m.Cluster != n2.cfg.Self.Cluster {
			t.Fatalf("n1 took the impostor: %+v", m)
		}
	}
	if got := names(dup.Members()); got != "n2" {
		t.Fatalf("impostor learned members: %s", got)
	}
}

func TestConfigValidate(t *testing.T) {
	cfg := DefaultConfig()
	if _, err := New(cfg); err != ErrNoLayer {
		t.Fatalf("err = %v; want ErrNoLayer", err)
	}
}
