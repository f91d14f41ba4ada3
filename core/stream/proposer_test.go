package stream

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

// deadlock bounds every wait in these tests: it only turns a hang into
// a failure, nothing is expected to take nearly this long.
const deadlock = 30 * time.Second

// newTestRaft starts a single-node raft on fsm and logs, and waits until
// it leads.
func newTestRaft(t testing.TB, fsm raft.FSM, logs raft.LogStore) *raft.Raft {
	t.Helper()
	conf := raft.DefaultConfig()
	conf.LocalID = "n1"
	conf.HeartbeatTimeout = 50 * time.Millisecond
	conf.ElectionTimeout = 50 * time.Millisecond
	conf.LeaderLeaseTimeout = 50 * time.Millisecond
	conf.CommitTimeout = 5 * time.Millisecond
	conf.Logger = hclog.NewNullLogger()
	stable, snaps := raft.NewInmemStore(), raft.NewInmemSnapshotStore()
	addr, trans := raft.NewInmemTransport("n1")
	servers := raft.Configuration{Servers: []raft.Server{{ID: conf.LocalID, Address: addr}}}
	if err := raft.BootstrapCluster(conf, logs, stable, snaps, trans, servers); err != nil {
		t.Fatal(err)
	}
	r, err := raft.NewRaft(conf, fsm, logs, stable, snaps, trans)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Shutdown().Error() })
	waitUntil(t, "leader", func() bool { return r.State() == raft.Leader })
	return r
}

// waitUntil polls cond until it holds.
func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(deadlock)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: still not there after %s", what, deadlock)
		}
		time.Sleep(time.Millisecond)
	}
}

// waitGroup waits for wg.
func waitGroup(t testing.TB, what string, wg *sync.WaitGroup) {
	t.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(deadlock):
		t.Fatalf("waiting for %s: still not done after %s", what, deadlock)
	}
}

// proposerSetup is a leader with a memory stream and its proposer.
func proposerSetup(t testing.TB, logs raft.LogStore) (*FSM, *raft.Raft, *Proposer) {
	t.Helper()
	f := newFSM(t, testConfig(t, MemoryStorage), NewMemStore(), nil)
	if logs == nil {
		logs = raft.NewInmemStore()
	}
	r := newTestRaft(t, f, logs)
	p := NewProposer(r)
	t.Cleanup(p.Close)
	return f, r, p
}

func TestProposerConcurrentPublish(t *testing.T) {
	f, _, p := proposerSetup(t, nil)
	const n = 1000
	seqs := make([]uint64, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			res := p.Publish(context.Background(), pub(i, ""))
			if res.Err != nil || res.Duplicate {
				t.Errorf("publish %d: %+v", i, res)
			}
			seqs[i] = res.Seq
		})
	}
	waitGroup(t, "publishes", &wg)
	if t.Failed() {
		t.FailNow()
	}
	sorted := slices.Sorted(slices.Values(seqs))
	for i, seq := range sorted {
		if seq != uint64(i+1) {
			t.Fatalf("sequences are not 1..%d: position %d holds %d", n, i, seq)
		}
	}
	// Each publisher's message is stored at the sequence it was told.
	for i, seq := range seqs {
		m, err := f.Get(seq)
		if err != nil {
			t.Fatal(err)
		}
		if want := pub(i, ""); m.Subject != want.Subject || string(m.Data) != string(want.Data) {
			t.Fatalf("publish %d told sequence %d, which holds %q", i, seq, m.Data)
		}
	}
	if st := f.State(); st.Msgs != n || st.LastSeq != n {
		t.Fatalf("state %+v", st)
	}
}

func TestProposerPublishAsync(t *testing.T) {
	f, _, p := proposerSetup(t, nil)
	const n, ids = 2000, 1000 // every message id twice
	calls := make([]atomic.Int32, n)
	results := make([]Result, n)
	var wg sync.WaitGroup
	wg.Add(n)
	var senders sync.WaitGroup
	for g := range 4 {
		senders.Go(func() {
			for i := g; i < n; i += 4 {
				p.PublishAsync(context.Background(), pub(i, fmt.Sprint("id-", i%ids)), func(r Result) {
					if calls[i].Add(1) == 1 {
						results[i] = r
						wg.Done()
					}
				})
			}
		})
	}
	waitGroup(t, "senders", &senders)
	waitGroup(t, "callbacks", &wg)
	p.Close() // every callback that will ever run has run
	for i := range calls {
		if c := calls[i].Load(); c != 1 {
			t.Fatalf("callback %d called %d times", i, c)
		}
	}
	var stored []uint64
	for i := range ids {
		a, b := results[i], results[i+ids]
		if a.Err != nil || b.Err != nil || a.Seq != b.Seq || a.Duplicate == b.Duplicate {
			t.Fatalf("id-%d answered %+v and %+v: want one stored, one its duplicate", i, a, b)
		}
		stored = append(stored, a.Seq)
	}
	slices.Sort(stored)
	if stored[0] != 1 || stored[ids-1] != ids || len(slices.Compact(stored)) != ids {
		t.Fatalf("stored sequences are not 1..%d", ids)
	}
	if st := f.State(); st.Msgs != ids {
		t.Fatalf("state %+v", st)
	}
}

// gatedLogs is a raft log store whose writes can be held, which stalls
// the leader's loop and so every raft.Apply after the one it is writing.
type gatedLogs struct {
	*raft.InmemStore
	gate    atomic.Pointer[chan struct{}]
	waiting atomic.Int32 // writes being held
}

// hold makes writes wait until the returned release is called.
func (g *gatedLogs) hold() (release func()) {
	ch := make(chan struct{})
	g.gate.Store(&ch)
	var once sync.Once
	return func() { once.Do(func() { g.gate.Store(nil); close(ch) }) }
}

func (g *gatedLogs) wait() {
	if ch := g.gate.Load(); ch != nil {
		g.waiting.Add(1)
		defer g.waiting.Add(-1)
		<-*ch
	}
}

func (g *gatedLogs) StoreLog(l *raft.Log) error { g.wait(); return g.InmemStore.StoreLog(l) }

func (g *gatedLogs) StoreLogs(ls []*raft.Log) error { g.wait(); return g.InmemStore.StoreLogs(ls) }

// commandsAfter counts the command entries after index.
func (g *gatedLogs) commandsAfter(t testing.TB, index uint64) int {
	t.Helper()
	last, err := g.LastIndex()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for i := index + 1; i <= last; i++ {
		var l raft.Log
		if err := g.GetLog(i, &l); err != nil {
			t.Fatal(err)
		}
		if l.Type == raft.LogCommand {
			n++
		}
	}
	return n
}

// TestProposerCloseFailsQueued closes a proposer whose queue is full
// while raft cannot take entries: what is queued fails with
// ErrProposerClosed, no entry goes to raft after Close begins, and the
// entries raft had are stored and answered.
func TestProposerCloseFailsQueued(t *testing.T) {
	logs := &gatedLogs{InmemStore: raft.NewInmemStore()}
	f, _, p := proposerSetup(t, logs)
	if res := p.Publish(context.Background(), pub(0, "")); res != (Result{Seq: 1}) {
		t.Fatalf("first publish: %+v", res)
	}
	start, err := logs.LastIndex()
	if err != nil {
		t.Fatal(err)
	}

	release := logs.hold()
	defer release()
	var (
		mu      sync.Mutex
		calls   = map[int]int{}
		results = map[int]Result{}
		wg      sync.WaitGroup
	)
	publish := func(i int) {
		wg.Add(1)
		p.PublishAsync(context.Background(), pub(i, ""), func(r Result) {
			mu.Lock()
			defer mu.Unlock()
			if calls[i]++; calls[i] == 1 {
				results[i] = r
				wg.Done()
			}
		})
	}
	// Entry 1 gets to the leader, which then cannot write its log; the
	// proposer's next raft.Apply waits, and its queue fills. The queue
	// only ever shrinks under this loop, so no PublishAsync blocks.
	publish(0)
	waitUntil(t, "the leader to write its log", func() bool { return logs.waiting.Load() > 0 })
	issued := 1
	for ; len(p.in) < cap(p.in); issued++ {
		publish(issued)
	}

	closed := make(chan struct{})
	go func() { p.Close(); close(closed) }()
	waitUntil(t, "Close to begin", func() bool {
		select {
		case <-p.stop:
			return true
		default:
			return false
		}
	})
	release()
	waitGroup(t, "callbacks", &wg)
	select {
	case <-closed:
	case <-time.After(deadlock):
		t.Fatal("Close does not return")
	}

	mu.Lock()
	defer mu.Unlock()
	var seqs []uint64
	failed := 0
	for i := range issued {
		if calls[i] != 1 {
			t.Fatalf("callback %d called %d times", i, calls[i])
		}
		switch r := results[i]; {
		case r.Err == nil && !r.Duplicate && r.Seq > 0:
			seqs = append(seqs, r.Seq)
		case errors.Is(r.Err, ErrProposerClosed):
			failed++
		default:
			t.Fatalf("publish %d: %+v", i, r)
		}
	}
	t.Logf("%d publishes: %d stored, %d failed", issued, len(seqs), failed)
	// Two entries were in raft when Close began: the one the leader was
	// writing and the one the proposer was handing it.
	if n := logs.commandsAfter(t, start); n > 2 {
		t.Fatalf("%d entries went to raft after the hold, want at most 2: queued publishes were proposed after Close", n)
	}
	if failed == 0 {
		t.Fatal("no queued publish failed")
	}
	slices.Sort(seqs)
	for i, seq := range seqs {
		if seq != uint64(i+2) {
			t.Fatalf("stored sequences are not 2..%d", len(seqs)+1)
		}
	}
	if st := f.State(); st.LastSeq != uint64(len(seqs)+1) {
		t.Fatalf("state %+v with %d stored", st, len(seqs))
	}
}

func TestProposerPublishAfterClose(t *testing.T) {
	_, _, p := proposerSetup(t, nil)
	p.Close()
	p.Close() // twice is fine
	ctx, cancel := context.WithTimeout(context.Background(), deadlock)
	defer cancel()
	for i := range 200 {
		if res := p.Publish(ctx, pub(i, "")); !errors.Is(res.Err, ErrProposerClosed) {
			t.Fatalf("publish %d after Close: %+v", i, res)
		}
	}
	calls := 0
	p.PublishAsync(ctx, pub(0, ""), func(r Result) {
		calls++
		if !errors.Is(r.Err, ErrProposerClosed) {
			t.Errorf("async publish after Close: %+v", r)
		}
	})
	if calls != 1 {
		t.Fatalf("callback called %d times", calls)
	}
}

func TestProposerPurgeAndConfig(t *testing.T) {
	f, r, p := proposerSetup(t, nil)
	ctx := context.Background()
	for i := range 10 {
		if res := p.Publish(ctx, pub(i, "")); res.Err != nil {
			t.Fatal(res.Err)
		}
	}
	n, err := Purge(r, deadlock)
	if err != nil || n != 10 {
		t.Fatalf("Purge = %d, %v", n, err)
	}
	if st := f.State(); st.Msgs != 0 || st.FirstSeq != 11 {
		t.Fatalf("state after purge %+v", st)
	}

	c := testConfig(t, MemoryStorage, func(c *Config) { c.MaxMsgs = 3 })
	if err := ApplyConfig(r, c, deadlock); err != nil {
		t.Fatal(err)
	}
	if got := f.Config(); got.MaxMsgs != 3 {
		t.Fatalf("config %+v", got)
	}
	for i := range 5 {
		if res := p.Publish(ctx, pub(i, "")); res.Seq != uint64(11+i) {
			t.Fatalf("publish %d: %+v", i, res)
		}
	}
	if st := f.State(); st.Msgs != 3 || st.FirstSeq != 13 || st.LastSeq != 15 {
		t.Fatalf("state %+v", st)
	}

	// Without a leader every helper reports raft's error.
	if err := r.Shutdown().Error(); err != nil {
		t.Fatal(err)
	}
	if _, err := Purge(r, time.Second); !errors.Is(err, raft.ErrRaftShutdown) {
		t.Fatalf("Purge on a shut down raft: %v", err)
	}
	if err := ApplyConfig(r, c, time.Second); !errors.Is(err, raft.ErrRaftShutdown) {
		t.Fatalf("ApplyConfig on a shut down raft: %v", err)
	}
	if res := p.Publish(ctx, pub(0, "")); !errors.Is(res.Err, raft.ErrRaftShutdown) {
		t.Fatalf("Publish on a shut down raft: %+v", res)
	}
}
