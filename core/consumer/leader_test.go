package consumer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/core/raftgroup"
	"github.com/stratadb/strata/core/stream"
)

const group = "consumer"

// testGroup is a consumer group on an in-process raft cluster, every
// node reading the same source, with a Leader on every node.
type testGroup struct {
	t       *testing.T
	c       *raftgroup.Cluster
	src     *testSource
	leaders []*Leader

	mu    sync.Mutex
	acked []uint64 // from OnAcked, on any node
}

func newTestGroup(t *testing.T, nodes int, cfg Config) *testGroup {
	t.Helper()
	return newTestGroupOn(t, nodes, cfg, newTestSource())
}

// newTestGroupOn is newTestGroup reading src, which may hold messages
// already: the start position is resolved against them.
func newTestGroupOn(t *testing.T, nodes int, cfg Config, src *testSource) *testGroup {
	t.Helper()
	g := &testGroup{t: t, src: src}
	g.c = raftgroup.NewCluster(t, raftgroup.ClusterConfig{
		Nodes: nodes, Groups: []string{group}, LogLevel: hclog.Warn,
		NewFSM: func() raft.FSM { return NewFSM(cfg, nil) },
	})
	for i := range nodes {
		g.leaders = append(g.leaders, g.newLeader(i))
	}
	t.Cleanup(func() { // before the cluster's shutdown
		for _, l := range g.leaders {
			l.Close()
		}
	})
	return g
}

func (g *testGroup) newLeader(i int) *Leader {
	return NewLeader(LeaderConfig{
		Raft: g.c.Group(i, group).Raft(), FSM: g.fsm(i), Source: g.src,
		OnAcked: func(seqs []uint64) {
			g.mu.Lock()
			g.acked = append(g.acked, seqs...)
			g.mu.Unlock()
		},
	})
}

func (g *testGroup) fsm(i int) *FSM { return g.c.FSM(i, group).(*FSM) }

// leader returns the current leader's node and Leader.
func (g *testGroup) leader() (int, *Leader) {
	g.t.Helper()
	i := g.c.LeaderNode(group)
	return i, g.leaders[i]
}

func (g *testGroup) ackedSeqs() []uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := slices.Clone(g.acked)
	slices.Sort(out)
	return out
}

// fetch runs one Fetch and returns what it sent.
func fetch(ctx context.Context, l *Leader, req FetchRequest) ([]Delivery, error) {
	var (
		mu  sync.Mutex
		out []Delivery
	)
	err := l.Fetch(ctx, req, func(ds []Delivery) error {
		mu.Lock()
		out = append(out, ds...)
		mu.Unlock()
		return nil
	}, func() error { return nil })
	return out, err
}

func mustFetch(t *testing.T, l *Leader, req FetchRequest) []Delivery {
	t.Helper()
	ds, err := fetch(context.Background(), l, req)
	if err != nil {
		t.Fatalf("fetch: %v", err)
	}
	return ds
}

func streamSeqs(ds []Delivery) []uint64 {
	out := make([]uint64, len(ds))
	for i, d := range ds {
		out[i] = d.Msg.Seq
	}
	return out
}

func acksOf(seqs ...uint64) []Ack {
	out := make([]Ack, len(seqs))
	for i, s := range seqs {
		out[i] = Ack{Seq: s}
	}
	return out
}

func mustAck(t *testing.T, l *Leader, acks ...Ack) AckResult {
	t.Helper()
	res, err := l.Ack(context.Background(), acks)
	if err != nil {
		t.Fatalf("ack: %v", err)
	}
	return res
}

func seqRange(from, to uint64) []uint64 {
	var out []uint64
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
}

func TestLeaderFetchAck(t *testing.T) {
	g := newTestGroup(t, 1, finished())
	_, l := g.leader()
	g.src.publishN(t, "ORDERS.new", 10)
	before := time.Now()

	ds := mustFetch(t, l, FetchRequest{Batch: 4, NoWait: true})
	if got := streamSeqs(ds); !slices.Equal(got, seqRange(1, 4)) {
		t.Fatalf("first fetch %v", got)
	}
	for i, d := range ds {
		if d.ConsumerSeq != uint64(i+1) || d.Count != 1 || d.Pending != uint64(9-i) || string(d.Msg.Data) != "data of ORDERS.new" {
			t.Fatalf("delivery %d: %+v", i, d)
		}
	}
	if res := mustAck(t, l, acksOf(1, 2, 3, 4, 42)...); res != (AckResult{Applied: 4, Ignored: 1}) {
		t.Fatalf("ack result %+v", res)
	}
	if got := streamSeqs(mustFetch(t, l, FetchRequest{Batch: 100, NoWait: true})); !slices.Equal(got, seqRange(5, 10)) {
		t.Fatalf("second fetch %v", got)
	}
	if ds := mustFetch(t, l, FetchRequest{Batch: 100, NoWait: true}); len(ds) != 0 {
		t.Fatalf("fetch of nothing: %v", streamSeqs(ds))
	}
	mustAck(t, l, acksOf(seqRange(5, 10)...)...)
	info := g.fsm(0).Info(g.src)
	want := Info{Delivered: SeqPair{10, 10}, AckFloor: SeqPair{10, 10}, AcksIgnored: 1}
	if info != want {
		t.Fatalf("info %+v, want %+v", info, want)
	}
	waitFor(t, "OnAcked of every message", func() bool { return slices.Equal(g.ackedSeqs(), seqRange(1, 10)) })
	if l.LastActive().Before(before) {
		t.Fatalf("last active %v: before the fetches", l.LastActive())
	}
}

func TestLeaderNoWaitEmpty(t *testing.T) {
	g := newTestGroup(t, 1, finished())
	_, l := g.leader()
	if ds := mustFetch(t, l, FetchRequest{Batch: 10, NoWait: true}); len(ds) != 0 {
		t.Fatalf("fetched %v from an empty stream", streamSeqs(ds))
	}
	if st := g.fsm(0).State(); !st.Started {
		t.Fatalf("a fetch must resolve the start: %+v", st)
	}
}

func TestLeaderLongPoll(t *testing.T) {
	src := newTestSource()
	src.publishN(t, "ORDERS.old", 3)
	g := newTestGroupOn(t, 1, finished(func(c *Config) { c.DeliverPolicy = DeliverNew }), src)
	_, l := g.leader()
	type result struct {
		ds  []Delivery
		err error
	}
	done := make(chan result, 1)
	go func() {
		ds, err := fetch(context.Background(), l, FetchRequest{Batch: 2, Expires: time.Minute})
		done <- result{ds, err}
	}()
	waitFor(t, "the fetch to wait", func() bool {
		select {
		case r := <-done:
			t.Fatalf("fetch returned %v %v", streamSeqs(r.ds), r.err)
		default:
		}
		return l.Waiting() == 1 && g.fsm(0).State().Started
	})
	g.src.publish(t, "ORDERS.new")
	waitFor(t, "the first message to be delivered", func() bool { return g.fsm(0).State().Delivered.Stream == 4 })
	g.src.publish(t, "ORDERS.new")
	r := <-done
	if r.err != nil || !slices.Equal(streamSeqs(r.ds), []uint64{4, 5}) {
		t.Fatalf("long poll: %v %v", streamSeqs(r.ds), r.err)
	}
	if n := l.Waiting(); n != 0 {
		t.Fatalf("%d waiting after the fetch", n)
	}
}

func TestLeaderFetchEnds(t *testing.T) {
	g := newTestGroup(t, 1, finished())
	_, l := g.leader()
	t.Run("expires", func(t *testing.T) {
		ds, err := fetch(context.Background(), l, FetchRequest{Batch: 1, Expires: 20 * time.Millisecond})
		if err != nil || len(ds) != 0 {
			t.Fatalf("expired fetch: %v %v", streamSeqs(ds), err)
		}
	})
	t.Run("context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		beats := 0
		err := l.Fetch(ctx, FetchRequest{Batch: 1, Expires: time.Minute, Heartbeat: time.Millisecond},
			func([]Delivery) error { return nil },
			func() error {
				if beats++; beats == 3 {
					cancel()
				}
				return nil
			})
		if !errors.Is(err, context.Canceled) || beats < 3 {
			t.Fatalf("fetch ended with %v after %d heartbeats", err, beats)
		}
	})
	t.Run("heartbeat error", func(t *testing.T) {
		boom := errors.New("client gone")
		err := l.Fetch(context.Background(), FetchRequest{Batch: 1, Expires: time.Minute, Heartbeat: time.Millisecond},
			func([]Delivery) error { return nil }, func() error { return boom })
		if !errors.Is(err, boom) {
			t.Fatalf("fetch ended with %v", err)
		}
	})
	t.Run("send error", func(t *testing.T) {
		g.src.publish(t, "ORDERS.x")
		boom := errors.New("send failed")
		err := l.Fetch(context.Background(), FetchRequest{Batch: 1, NoWait: true},
			func([]Delivery) error { return boom }, nil)
		if !errors.Is(err, boom) {
			t.Fatalf("fetch ended with %v", err)
		}
	})
}

func TestLeaderRedeliveryAfterAckWait(t *testing.T) {
	g := newTestGroup(t, 1, finished(func(c *Config) { c.AckWait = 50 * time.Millisecond }))
	_, l := g.leader()
	g.src.publishN(t, "ORDERS.new", 1)
	first := mustFetch(t, l, FetchRequest{Batch: 1, NoWait: true})
	if len(first) != 1 || first[0].Count != 1 {
		t.Fatalf("first delivery %+v", first)
	}
	// Not acked: a waiting fetch gets it again once the ack wait passed.
	again := mustFetch(t, l, FetchRequest{Batch: 1, Expires: time.Minute})
	if len(again) != 1 || again[0].Msg.Seq != 1 || again[0].Count != 2 || again[0].ConsumerSeq != 2 {
		t.Fatalf("redelivery %+v", again)
	}
	// A nak without delay makes it due at once.
	if res := mustAck(t, l, Ack{Seq: 1, Kind: AckNak}); res.Applied != 1 {
		t.Fatalf("nak %+v", res)
	}
	third := mustFetch(t, l, FetchRequest{Batch: 1, Expires: time.Minute})
	if len(third) != 1 || third[0].Count != 3 {
		t.Fatalf("after nak %+v", third)
	}
	mustAck(t, l, Ack{Seq: 1, Kind: AckTerm})
	if st := g.fsm(0).State(); len(st.Pending) != 0 || st.Redelivered != 2 || st.AckFloor.Stream != 1 {
		t.Fatalf("state %+v", st)
	}
}

func TestLeaderMaxDeliver(t *testing.T) {
	g := newTestGroup(t, 1, finished(func(c *Config) { c.AckWait = 20 * time.Millisecond; c.MaxDeliver = 2 }))
	_, l := g.leader()
	g.src.publishN(t, "ORDERS.new", 1)
	mustFetch(t, l, FetchRequest{Batch: 1, NoWait: true})
	if ds := mustFetch(t, l, FetchRequest{Batch: 1, Expires: time.Minute}); len(ds) != 1 || ds[0].Count != 2 {
		t.Fatalf("redelivery %+v", ds)
	}
	waitFor(t, "the drop after max deliver", func() bool {
		st := g.fsm(0).State()
		return st.MaxDelivered == 1 && len(st.Pending) == 0 && st.AckFloor.Stream == 1
	})
	waitFor(t, "OnAcked of the dropped message", func() bool { return slices.Equal(g.ackedSeqs(), []uint64{1}) })
	if ds := mustFetch(t, l, FetchRequest{Batch: 1, NoWait: true}); len(ds) != 0 {
		t.Fatalf("delivered after max deliver: %+v", ds)
	}
}

func TestLeaderMaxAckPendingConcurrent(t *testing.T) {
	const (
		maxPending = 5
		msgs       = 60
		fetchers   = 6
	)
	g := newTestGroup(t, 1, finished(func(c *Config) { c.MaxAckPending = maxPending }))
	_, l := g.leader()
	g.src.publishN(t, "ORDERS.new", msgs)

	var (
		mu          sync.Mutex
		outstanding = map[uint64]bool{}
		seen        = map[uint64]int{}
		worst       int
	)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, fetchers)
	for range fetchers {
		wg.Go(func() {
			for ctx.Err() == nil {
				mu.Lock()
				finished := len(seen) == msgs && len(outstanding) == 0
				mu.Unlock()
				if finished {
					return
				}
				var got []uint64
				err := l.Fetch(ctx, FetchRequest{Batch: 3, Expires: 20 * time.Millisecond}, func(ds []Delivery) error {
					mu.Lock()
					defer mu.Unlock()
					for _, d := range ds {
						outstanding[d.Msg.Seq] = true
						seen[d.Msg.Seq]++
						got = append(got, d.Msg.Seq)
					}
					worst = max(worst, len(outstanding))
					return nil
				}, nil)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				for _, s := range got {
					delete(outstanding, s) // forgotten before the ack commits: never more than the FSM's pending
				}
				mu.Unlock()
				if _, err := l.Ack(ctx, acksOf(got...)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if worst > maxPending {
		t.Fatalf("%d deliveries outstanding at once, max ack pending %d", worst, maxPending)
	}
	for s := uint64(1); s <= msgs; s++ {
		if seen[s] != 1 {
			t.Fatalf("message %d delivered %d times", s, seen[s])
		}
	}
	if st := g.fsm(0).State(); len(st.Pending) != 0 || st.AckFloor.Stream != msgs || st.Delivered.Consumer != msgs {
		t.Fatalf("final state %+v", st)
	}
}

func TestLeaderFetchLimits(t *testing.T) {
	cases := []struct {
		name string
		edit func(*Config)
		req  FetchRequest
		want []uint64
	}{
		{"batch", func(*Config) {}, FetchRequest{Batch: 2, NoWait: true}, []uint64{1, 2}},
		{"max bytes below one message", func(*Config) {}, FetchRequest{Batch: 5, MaxBytes: 1, NoWait: true}, []uint64{1}},
		{"max bytes of two messages", func(*Config) {}, FetchRequest{Batch: 5, MaxBytes: 90, NoWait: true}, []uint64{1, 2}},
		{"max ack pending", func(c *Config) { c.MaxAckPending = 3 }, FetchRequest{Batch: 5, NoWait: true}, []uint64{1, 2, 3}},
		{"ack none ignores max ack pending", func(c *Config) { c.AckPolicy, c.MaxAckPending = AckNone, 1 }, FetchRequest{Batch: 5, NoWait: true}, []uint64{1, 2, 3, 4, 5}},
		{"filter", func(c *Config) { c.FilterSubjects = []string{"ORDERS.b"} }, FetchRequest{Batch: 5, NoWait: true}, []uint64{2, 4, 6}},
		{"last per subject", func(c *Config) { c.DeliverPolicy = DeliverLastPerSubject }, FetchRequest{Batch: 5, NoWait: true}, []uint64{5, 6}},
		{"by start sequence", func(c *Config) { c.DeliverPolicy, c.OptStartSeq = DeliverByStartSequence, 5 }, FetchRequest{Batch: 5, NoWait: true}, []uint64{5, 6}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := newTestSource()
			// Each message is 40 bytes as Size counts it.
			src.publish(t, "ORDERS.a", "ORDERS.b", "ORDERS.a", "ORDERS.b", "ORDERS.a", "ORDERS.b")
			g := newTestGroupOn(t, 1, finished(tc.edit), src)
			_, l := g.leader()
			if got := streamSeqs(mustFetch(t, l, tc.req)); !slices.Equal(got, tc.want) {
				t.Fatalf("fetched %v, want %v", got, tc.want)
			}
		})
	}
}

func TestLeaderMaxBytesEnds(t *testing.T) {
	g := newTestGroup(t, 1, finished())
	_, l := g.leader()
	g.src.publish(t, "ORDERS.a")
	// The one message spends the bytes: the fetch returns without waiting
	// for the hour.
	ds := mustFetch(t, l, FetchRequest{Batch: 5, MaxBytes: 10, Expires: time.Hour})
	if got := streamSeqs(ds); !slices.Equal(got, []uint64{1}) {
		t.Fatalf("fetched %v", got)
	}
}

func TestLeaderAckNone(t *testing.T) {
	g := newTestGroup(t, 1, finished(func(c *Config) { c.AckPolicy = AckNone }))
	_, l := g.leader()
	g.src.publishN(t, "ORDERS.a", 3)
	if got := streamSeqs(mustFetch(t, l, FetchRequest{Batch: 5, NoWait: true})); !slices.Equal(got, seqRange(1, 3)) {
		t.Fatalf("fetched %v", got)
	}
	if st := g.fsm(0).State(); st.AckFloor != (SeqPair{3, 3}) || len(st.Pending) != 0 {
		t.Fatalf("state %+v", st)
	}
	waitFor(t, "OnAcked of the deliveries", func() bool { return slices.Equal(g.ackedSeqs(), seqRange(1, 3)) })
	if res := mustAck(t, l, acksOf(1)...); res != (AckResult{Ignored: 1}) {
		t.Fatalf("ack with ack policy none: %+v", res)
	}
}

func TestLeaderHeadersOnly(t *testing.T) {
	g := newTestGroup(t, 1, finished(func(c *Config) { c.HeadersOnly = true }))
	_, l := g.leader()
	g.src.publish(t, "ORDERS.a")
	ds := mustFetch(t, l, FetchRequest{Batch: 1, NoWait: true})
	want := []stream.Header{{Key: MsgSizeHeader, Value: strconv.Itoa(len("data of ORDERS.a"))}}
	if len(ds) != 1 || ds[0].Msg.Data != nil || !slices.Equal(ds[0].Msg.Header, want) {
		t.Fatalf("headers only delivery %+v", ds)
	}
}

func TestLeaderMaxWaiting(t *testing.T) {
	g := newTestGroup(t, 1, finished(func(c *Config) { c.MaxWaiting = 1 }))
	_, l := g.leader()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := fetch(ctx, l, FetchRequest{Batch: 1, Expires: time.Minute})
		done <- err
	}()
	waitFor(t, "the first fetch to wait", func() bool { return l.Waiting() == 1 })
	if _, err := fetch(context.Background(), l, FetchRequest{Batch: 1, NoWait: true}); !errors.Is(err, ErrMaxWaiting) {
		t.Fatalf("second fetch: %v, want ErrMaxWaiting", err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("first fetch: %v", err)
	}
}

func TestLeaderBadAck(t *testing.T) {
	g := newTestGroup(t, 1, finished())
	_, l := g.leader()
	for _, a := range []Ack{{Seq: 1, Kind: 9}, {Seq: 1, Kind: AckNak, Delay: -time.Second}} {
		if _, err := l.Ack(context.Background(), []Ack{a}); !errors.Is(err, ErrBadAck) {
			t.Fatalf("ack %+v: %v, want ErrBadAck", a, err)
		}
	}
}

func TestLeaderSkipsRemoved(t *testing.T) {
	g := newTestGroup(t, 1, finished())
	_, l := g.leader()
	g.src.publishN(t, "ORDERS.new", 6)
	if got := streamSeqs(mustFetch(t, l, FetchRequest{Batch: 4, NoWait: true})); !slices.Equal(got, seqRange(1, 4)) {
		t.Fatalf("fetched %v", got)
	}
	g.src.removeThrough(t, 3) // limits or max_age
	waitFor(t, "the skip of removed messages", func() bool {
		st := g.fsm(0).State()
		return slices.Equal(pendingSeqs(st), []uint64{4}) && st.AckFloor.Stream == 3
	})
	g.src.removeThrough(t, 6) // a purge
	waitFor(t, "the skip of the purge", func() bool {
		st := g.fsm(0).State()
		return len(st.Pending) == 0 && st.AckFloor.Stream == 6 && st.Delivered.Stream == 6
	})
	g.src.publish(t, "ORDERS.new")
	if got := streamSeqs(mustFetch(t, l, FetchRequest{Batch: 4, NoWait: true})); !slices.Equal(got, []uint64{7}) {
		t.Fatalf("after the purge: %v", got)
	}
	if info := g.fsm(0).Info(g.src); info.AckPending != 1 || info.Unprocessed != 0 {
		t.Fatalf("info %+v", info)
	}
}

// A leader whose stream replica lags (rebuilt from peers, or catching up
// after a restart) keeps the pending messages it does not hold yet and
// redelivers them once they arrive: absent is not removed.
func TestLeaderKeepsWhatItsReplicaLacks(t *testing.T) {
	g := newTestGroup(t, 1, finished(func(c *Config) { c.AckWait = 20 * time.Millisecond }))
	_, l := g.leader()
	g.src.publishN(t, "ORDERS.new", 6)
	if got := streamSeqs(mustFetch(t, l, FetchRequest{Batch: 4, NoWait: true})); !slices.Equal(got, seqRange(1, 4)) {
		t.Fatalf("fetched %v", got)
	}
	g.src.lag(2)
	time.Sleep(40 * time.Millisecond) // past the ack wait: 1-4 are due
	if got := streamSeqs(mustFetch(t, l, FetchRequest{Batch: 4, NoWait: true})); !slices.Equal(got, seqRange(1, 2)) {
		t.Fatalf("redelivered %v from a replica holding 1-2, want 1 2", got)
	}
	if st := g.fsm(0).State(); !slices.Equal(pendingSeqs(st), seqRange(1, 4)) || st.AckFloor.Stream != 0 {
		t.Fatalf("pending %v, ack floor %d: the lagging replica dropped messages", pendingSeqs(st), st.AckFloor.Stream)
	}
	g.src.catchUp()
	got := streamSeqs(mustFetch(t, l, FetchRequest{Batch: 4, Expires: time.Minute}))
	if !slices.Contains(got, 3) || !slices.Contains(got, 4) {
		t.Fatalf("after catching up fetched %v, want 3 and 4 again", got)
	}
}

// Purges, limits and removals of single messages clean pending state
// through the consumer's own log: every replica ends in the same state.
func TestRemovalsCleanEveryReplica(t *testing.T) {
	g := newTestGroup(t, 3, finished(func(c *Config) { c.AckWait = 20 * time.Millisecond }))
	_, l := g.leader()
	g.src.publishN(t, "ORDERS.new", 8)
	if got := streamSeqs(mustFetch(t, l, FetchRequest{Batch: 6, NoWait: true})); !slices.Equal(got, seqRange(1, 6)) {
		t.Fatalf("fetched %v", got)
	}
	g.src.removeThrough(t, 2) // limits
	g.src.hide(4)             // a message removed on its own
	// The leader finds 4 gone when it comes due again.
	if got := streamSeqs(mustFetch(t, l, FetchRequest{Batch: 8, Expires: time.Minute})); slices.Contains(got, 4) {
		t.Fatalf("fetched %v: the removed message 4 again", got)
	}
	want := []uint64{3, 5, 6, 7, 8}
	waitFor(t, "every replica without the removed messages", func() bool {
		for i := range 3 {
			if !slices.Equal(pendingSeqs(g.fsm(i).State()), want) {
				return false
			}
		}
		return true
	})
	g.src.removeThrough(t, 8) // a purge
	waitFor(t, "every replica empty after the purge", func() bool {
		for i := range 3 {
			if st := g.fsm(i).State(); len(st.Pending) != 0 || st.AckFloor.Stream != 8 {
				return false
			}
		}
		return true
	})
}

func TestLeaderDropsInteriorRemovals(t *testing.T) {
	src := newTestSource()
	src.publish(t, "ORDERS.a", "ORDERS.b", "ORDERS.c", "ORDERS.a", "ORDERS.b", "ORDERS.c")
	cfg := finished(func(c *Config) { c.DeliverPolicy = DeliverLastPerSubject; c.AckWait = 20 * time.Millisecond })
	g := newTestGroupOn(t, 1, cfg, src)
	_, l := g.leader()
	waitFor(t, "the start", func() bool { return slices.Equal(g.fsm(0).State().Initial, []uint64{4, 5, 6}) })
	src.hide(4) // the head of Initial
	if got := streamSeqs(mustFetch(t, l, FetchRequest{Batch: 1, NoWait: true})); !slices.Equal(got, []uint64{5}) {
		t.Fatalf("fetched %v, want 5", got)
	}
	src.hide(5) // pending: its redelivery finds it gone
	if got := streamSeqs(mustFetch(t, l, FetchRequest{Batch: 1, Expires: time.Minute})); !slices.Equal(got, []uint64{6}) {
		t.Fatalf("fetched %v, want 6", got)
	}
	waitFor(t, "the drop of 5", func() bool {
		st := g.fsm(0).State()
		return len(st.Initial) == 0 && slices.Equal(pendingSeqs(st), []uint64{6})
	})
	if st := g.fsm(0).State(); st.MaxDelivered != 0 || st.AckFloor.Stream != 5 {
		t.Fatalf("state %+v", st)
	}
}

func TestLeaderFollower(t *testing.T) {
	g := newTestGroup(t, 3, finished())
	leader, _ := g.leader()
	follower := (leader + 1) % 3
	l := g.leaders[follower]
	if _, err := fetch(context.Background(), l, FetchRequest{Batch: 1, NoWait: true}); !errors.Is(err, ErrNotLeader) || !errors.Is(err, raft.ErrNotLeader) {
		t.Fatalf("fetch on a follower: %v", err)
	}
	if _, err := l.Ack(context.Background(), acksOf(1)); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("ack on a follower: %v", err)
	}
	if n := l.Waiting(); n != 0 {
		t.Fatalf("follower waiting %d", n)
	}
	if err := ApplyConfig(g.c.Group(follower, group).Raft(), finished(), time.Second); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("config on a follower: %v", err)
	}
}

func TestApplyConfig(t *testing.T) {
	g := newTestGroup(t, 3, finished())
	i, _ := g.leader()
	r := g.c.Group(i, group).Raft()
	edit := finished(func(c *Config) { c.AckWait = time.Minute; c.Description = "edited" })
	if err := ApplyConfig(r, edit, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	for n := range 3 {
		waitFor(t, fmt.Sprintf("the edit on node %d", n), func() bool { return g.fsm(n).Config().Equal(edit) })
	}
	if err := ApplyConfig(r, finished(func(c *Config) { c.AckPolicy = AckAll }), 5*time.Second); !errors.Is(err, ErrBadConfig) {
		t.Fatalf("forbidden edit: %v", err)
	}
}

func TestLeaderClose(t *testing.T) {
	g := newTestGroup(t, 1, finished())
	_, l := g.leader()
	done := make(chan error, 1)
	go func() {
		_, err := fetch(context.Background(), l, FetchRequest{Batch: 1, Expires: time.Minute})
		done <- err
	}()
	waitFor(t, "the fetch to wait", func() bool { return l.Waiting() == 1 })
	l.Close()
	if err := <-done; !errors.Is(err, ErrClosed) || !errors.Is(err, ErrNotLeader) {
		t.Fatalf("fetch at close: %v", err)
	}
	if _, err := l.Ack(context.Background(), acksOf(1)); !errors.Is(err, ErrClosed) {
		t.Fatalf("ack after close: %v", err)
	}
	l.Close() // twice is fine
}

func TestLeaderChange(t *testing.T) {
	const msgs = 20
	g := newTestGroup(t, 3, finished(func(c *Config) { c.AckWait = 300 * time.Millisecond }))
	old, l := g.leader()
	g.src.publishN(t, "ORDERS.new", msgs)

	first := mustFetch(t, l, FetchRequest{Batch: 5, NoWait: true})
	if got := streamSeqs(first); !slices.Equal(got, seqRange(1, 5)) {
		t.Fatalf("first fetch %v", got)
	}
	mustAck(t, l, acksOf(1, 2, 3)...) // 4 and 5 are handed out, never acked
	for n := range 3 {                // every replica has the deliveries and acks
		waitFor(t, fmt.Sprintf("node %d to apply the acks", n), func() bool {
			st := g.fsm(n).State()
			return st.AckFloor.Stream == 3 && len(st.Pending) == 2
		})
	}

	g.leaders[old].Close()
	g.c.StopGroup(old, group)
	next := old
	waitFor(t, "a new leader", func() bool {
		for i := range 3 {
			if i != old && g.c.Group(i, group).Raft().State() == raft.Leader {
				next = i
				return true
			}
		}
		return false
	})
	nl := g.leaders[next]

	// Fetch exactly what is left: 4 and 5 once due again, 6 to 20 at once.
	// A batch of just that completes before any of 6..20 could be due (they
	// were delivered after 4 and 5, and due redeliveries go in sequence
	// order), so each message is received once.
	received := map[uint64][]Delivery{}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for left := msgs - 3; left > 0; {
		ds, err := fetch(ctx, nl, FetchRequest{Batch: left, Expires: 5 * time.Second})
		if err != nil {
			t.Fatalf("fetch on the new leader: %v", err)
		}
		for _, d := range ds {
			received[d.Msg.Seq] = append(received[d.Msg.Seq], d)
		}
		if len(ds) > 0 {
			mustAck(t, nl, acksOf(streamSeqs(ds)...)...)
		}
		left -= len(ds)
	}
	for s := uint64(4); s <= msgs; s++ {
		ds := received[s]
		want := uint64(1)
		if s <= 5 {
			want = 2 // handed out by the old leader: redelivered after the ack wait
		}
		if len(ds) != 1 || ds[0].Count != want {
			t.Fatalf("message %d: deliveries %+v, want one with count %d", s, ds, want)
		}
	}
	if len(received[1])+len(received[2])+len(received[3]) != 0 {
		t.Fatal("acked messages delivered again")
	}
	for n := range 3 {
		if n == old {
			continue
		}
		waitFor(t, fmt.Sprintf("node %d to apply every ack", n), func() bool {
			st := g.fsm(n).State()
			return st.AckFloor.Stream == msgs && len(st.Pending) == 0 && st.Delivered.Stream == msgs
		})
	}
}
