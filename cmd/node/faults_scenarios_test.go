//go:build faults

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stratadb/strata/client"
)

// faultCluster is the three server processes the scenarios share.
type faultCluster struct {
	t       *testing.T
	servers []*server
	proxies []*linkProxy // by server number - 1
	c       *client.Client
	run     int
}

// partition cuts every cluster link of server s (on), or heals them.
func (fc *faultCluster) partition(s *server, on bool) {
	i := int(s.name[1]-'0') - 1
	for j, p := range fc.proxies {
		if j == i {
			p.isolate(on, "*")
		} else {
			p.isolate(on, fc.proxies[i].addr())
		}
	}
}

func (fc *faultCluster) restart(s *server) {
	fc.run++
	s.start(fc.t, fc.run)
}

// killAndRestart kills s with SIGKILL and starts it again once the
// fault has lasted past the election timeout.
func killAndRestart(fc *faultCluster, s *server) {
	fc.t.Logf("kill -9 %s", s.name)
	s.kill()
	time.Sleep(2 * time.Second) // the fault lasts past the election timeout
	fc.restart(s)
}

func (fc *faultCluster) streamLeader(name string) *server {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	info, err := fc.c.StreamInfo(ctx, name)
	if err != nil {
		fc.t.Fatalf("%s: info: %v", name, err)
	}
	return byName(fc.t, fc.servers, info.Cluster.Leader)
}

func (fc *faultCluster) metaLeader() *server {
	docs := waitFormed(fc.t, fc.servers)
	return byName(fc.t, fc.servers, docs[0].Meta.Leader)
}

func (fc *faultCluster) follower(name string) *server {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	info, err := fc.c.StreamInfo(ctx, name)
	if err != nil {
		fc.t.Fatalf("%s: info: %v", name, err)
	}
	for _, p := range info.Peers {
		if p != info.Cluster.Leader {
			return byName(fc.t, fc.servers, p)
		}
	}
	fc.t.Fatalf("%s has no follower: %v", name, info.Peers)
	return nil
}

// scenario injects a fault (and heals it) while the workload runs.
type scenario struct {
	name  string
	fault func(fc *faultCluster, stream string)
}

var scenarios = []scenario{
	{"kill -9 the stream leader", func(fc *faultCluster, st string) {
		killAndRestart(fc, fc.streamLeader(st))
	}},
	{"kill -9 a follower", func(fc *faultCluster, st string) {
		killAndRestart(fc, fc.follower(st))
	}},
	{"kill -9 the meta leader", func(fc *faultCluster, st string) {
		killAndRestart(fc, fc.metaLeader())
	}},
	{"kill -9 the stream leader's plugins", func(fc *faultCluster, st string) {
		s := fc.streamLeader(st)
		for _, pid := range pluginPIDs(fc.t, s) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}},
	{"SIGSTOP the stream leader past the election timeout", func(fc *faultCluster, st string) {
		s := fc.streamLeader(st)
		_ = s.cmd.Process.Signal(syscall.SIGSTOP)
		time.Sleep(3 * time.Second)
		_ = s.cmd.Process.Signal(syscall.SIGCONT)
	}},
	{"partition isolating the stream leader for 3 s, then heal", func(fc *faultCluster, st string) {
		s := fc.streamLeader(st)
		fc.partition(s, true)
		time.Sleep(3 * time.Second)
		var others []*server
		for _, o := range fc.servers {
			if o != s {
				others = append(others, o)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		info, err := connectAll(fc.t, others).StreamInfo(ctx, st)
		cancel()
		if err != nil || info.Cluster.Leader == s.name {
			fc.t.Errorf("the majority did not elect a new leader while %s was cut off: %+v %v", s.name, info, err)
		}
		fc.partition(s, false)
	}},
	{"restart the whole cluster at once (kill -9)", func(fc *faultCluster, _ string) {
		for _, s := range fc.servers {
			s.kill()
		}
		for _, s := range fc.servers {
			fc.restart(s)
		}
	}},
	{"rolling restart (SIGTERM, one at a time)", func(fc *faultCluster, _ string) {
		for _, s := range fc.servers {
			s.stop(fc.t)
			fc.restart(s)
			waitFormed(fc.t, fc.servers)
		}
	}},
	{"stream peer-remove (a spare server takes the replica)", func(fc *faultCluster, st string) {
		peer := fc.follower(st)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := fc.c.RemoveStreamPeer(ctx, st, peer.name); err != nil {
			fc.t.Fatalf("peer-remove %s: %v", peer.name, err)
		}
		fc.waitCurrent(st, peer.name)
	}},
	{"a follower dies for good; server raft peer-remove", func(fc *faultCluster, st string) {
		gone := fc.follower(st)
		gone.kill()
		var rest []*server
		for _, s := range fc.servers {
			if s != gone {
				rest = append(rest, s)
			}
		}
		fc.servers = rest
		// The operator talks to a live server and, as peer-remove is not
		// retried by the client, retries while the meta group elects a
		// new leader (the dead server may have led it).
		c := connectAll(fc.t, rest)
		for attempt := 0; ; attempt++ {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_, err := c.RemoveServer(ctx, gone.name)
			cancel()
			if err == nil {
				break
			}
			if !errors.Is(err, client.ErrUnavailable) || attempt == 10 {
				fc.t.Fatalf("server peer-remove %s: %v", gone.name, err)
			}
			time.Sleep(time.Second)
		}
		fc.waitCurrent(st, gone.name)
	}},
	{"SIGSTOP the stream leader's plugins past the call timeout", func(fc *faultCluster, st string) {
		s := fc.streamLeader(st)
		term := fc.streamTerm(st)
		pids := pluginPIDs(fc.t, s)
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGSTOP)
		}
		// Its log writes fail after plugin_call_timeout (10 s): it steps
		// down and restarts the hung plugins, and a new term begins (led
		// by another server, or by s again with its new plugins).
		fc.waitNewTerm(st, term, 40*time.Second)
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGCONT)
		}
	}},
}

// streamTerm is the stream's Raft term now.
func (fc *faultCluster) streamTerm(st string) uint64 {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	info, err := fc.c.StreamInfo(ctx, st)
	if err != nil {
		fc.t.Fatalf("stream info %s: %v", st, err)
	}
	return info.Cluster.RaftTerm
}

// waitNewTerm waits until the stream has a leader in a term after term.
func (fc *faultCluster) waitNewTerm(st string, term uint64, within time.Duration) {
	deadline := time.Now().Add(within)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		info, err := fc.c.StreamInfo(ctx, st)
		cancel()
		if err == nil && info.Cluster.Leader != "" && info.Cluster.RaftTerm > term {
			return
		}
		if time.Now().After(deadline) {
			fc.t.Errorf("%s: no new term after %s with its leader's plugins stopped: %+v %v", st, within, info, err)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitCurrent waits until the stream has three current replicas, none of
// them gone.
func (fc *faultCluster) waitCurrent(st, gone string) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		info, err := fc.c.StreamInfo(ctx, st)
		cancel()
		if err == nil && len(info.Peers) == 3 && !slices.Contains(info.Peers, gone) && replicasCurrent(info.Cluster, 2) {
			return
		}
		if time.Now().After(deadline) {
			fc.t.Fatalf("%s never had three current replicas without %s: %+v %v", st, gone, info, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestFaults runs every scenario on one three-server cluster, each on a
// stream of its own, and prints the summary table of docs/reliability.md.
func TestFaults(t *testing.T) {
	needBinaries(t)
	servers, proxies := newProxiedCluster(t, 4) // n4: a spare for peer-remove
	for _, s := range servers {
		s.start(t, 1)
	}
	waitFormed(t, servers)
	fc := &faultCluster{t: t, servers: servers, proxies: proxies, c: connectAll(t, servers), run: 1}
	var rows []faultResult
	for i, sc := range scenarios {
		name := fmt.Sprintf("F%d", i+1)
		r := fc.underLoad(name, func() { sc.fault(fc, name) })
		r.scenario = sc.name
		rows = append(rows, r)
		logResult(t, r)
	}
	printSummary(rows)
}

// underLoad creates stream name (three replicas), runs the workload on
// it, injects fault while it runs, and checks what the stream holds
// afterwards on every replica.
func (fc *faultCluster) underLoad(name string, fault func()) faultResult {
	t := fc.t
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	_, err := fc.c.AddStream(ctx, client.StreamConfig{Name: name, Subjects: []string{name + ".>"}, Replicas: 3})
	cancel()
	if err != nil {
		t.Fatalf("add stream %s: %v", name, err)
	}
	w := startWorkload(fc.c, name)
	time.Sleep(faultLoadBefore)
	fault()
	waitFormed(t, fc.servers)
	time.Sleep(faultLoadAfter)
	w.finish()
	r := verify(t, fc.c, name, w)
	r.diverged = diverged(t, fc.servers, name)
	return r
}

// logResult logs a scenario's row and fails the test unless nothing
// acknowledged was lost or duplicated, no replica diverged and the
// history is linearizable.
func logResult(t *testing.T, r faultResult) {
	t.Helper()
	t.Logf("%s: %d ops, %d acked, %d lost, %d duplicated, %d retried attempts, %d diverged replicas, linearizable %s",
		r.scenario, r.ops, r.acked, r.lost, r.dup, r.retries, r.diverged, r.linearizable)
	if r.lost > 0 || r.dup > 0 || r.diverged > 0 || r.linearizable != "yes" {
		t.Errorf("%s: lost %d, duplicated %d, diverged replicas %d, linearizable %s", r.scenario, r.lost, r.dup, r.diverged, r.linearizable)
	}
}

func printSummary(rows []faultResult) {
	var b strings.Builder
	b.WriteString("\n| scenario | operations | acked | lost | duplicated | retried attempts | diverged replicas | linearizable |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d | %d | %s |\n", r.scenario, r.ops, r.acked, r.lost, r.dup, r.retries, r.diverged, r.linearizable)
	}
	fmt.Fprint(os.Stdout, b.String())
}
