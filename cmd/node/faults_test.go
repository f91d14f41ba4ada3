//go:build faults

package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/stratadb/strata/client"
	"github.com/stratadb/strata/core/monitor"
)

// The fault-injection suite (`make test-faults`): scenarios on real
// server processes, each under concurrent publishes with ids and reads,
// then a check that every acknowledged message is in the stream once with
// its sequence and that the history is linearizable.

const (
	faultPublishers = 3
	faultLoadBefore = 1500 * time.Millisecond
	faultLoadAfter  = 1500 * time.Millisecond
)

// pubIn/pubOut and getIn/getOut are the operations of the stream model.
type pubIn struct{ id string }
type pubOut struct{ seq uint64 }
type getIn struct{ seq uint64 }
type getOut struct {
	id    string
	found bool
}

// streamModel is a stream as a sequential object: a list of ids; a
// publish of a new id appends it, of a known id answers its sequence; a
// get answers the id at a sequence, or not found past the end.
var streamModel = porcupine.Model{
	Init: func() any { return []string{} },
	Step: func(state, input, output any) (bool, any) {
		ids := state.([]string)
		switch in := input.(type) {
		case pubIn:
			out := output.(pubOut)
			for i, id := range ids {
				if id == in.id {
					return out.seq == uint64(i+1), ids
				}
			}
			return out.seq == uint64(len(ids)+1), append(ids[:len(ids):len(ids)], in.id)
		case getIn:
			out := output.(getOut)
			if in.seq == 0 || in.seq > uint64(len(ids)) {
				return !out.found, ids
			}
			return out.found && out.id == ids[in.seq-1], ids
		}
		return false, ids
	},
	Equal: func(a, b any) bool {
		x, y := a.([]string), b.([]string)
		if len(x) != len(y) {
			return false
		}
		for i := range x {
			if x[i] != y[i] {
				return false
			}
		}
		return true
	},
}

// history records operations from several clients.
type history struct {
	mu    sync.Mutex
	start time.Time
	ops   []porcupine.Operation
	acked map[string]uint64
}

func (h *history) add(client int, in, out any, call, ret time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ops = append(h.ops, porcupine.Operation{ClientId: client, Input: in, Output: out,
		Call: call.Sub(h.start).Nanoseconds(), Return: ret.Sub(h.start).Nanoseconds()})
}

// workload runs publishers (each id retried until acknowledged) and a
// reader until stop is closed.
type workload struct {
	c       *client.Client
	stream  string
	h       *history
	stop    chan struct{}
	wg      sync.WaitGroup
	mu      sync.Mutex
	maxSeq  uint64
	failing int // publish attempts that failed and were retried
}

func startWorkload(c *client.Client, stream string) *workload {
	w := &workload{c: c, stream: stream, stop: make(chan struct{}),
		h: &history{start: time.Now(), acked: map[string]uint64{}}}
	for p := range faultPublishers {
		w.wg.Add(1)
		go w.publisher(p)
	}
	w.wg.Add(1)
	go w.reader(faultPublishers)
	return w
}

func (w *workload) stopped() bool {
	select {
	case <-w.stop:
		return true
	default:
		return false
	}
}

func (w *workload) publisher(p int) {
	defer w.wg.Done()
	for n := 0; !w.stopped(); n++ {
		id := fmt.Sprintf("p%d-%d", p, n)
		call := time.Now()
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			ack, err := w.c.Publish(ctx, w.stream+".x", []byte(id), client.WithMsgID(id))
			cancel()
			if err == nil {
				w.h.add(p, pubIn{id}, pubOut{ack.Seq}, call, time.Now())
				w.h.mu.Lock()
				w.h.acked[id] = ack.Seq
				w.h.mu.Unlock()
				w.mu.Lock()
				w.maxSeq = max(w.maxSeq, ack.Seq)
				w.mu.Unlock()
				break
			}
			w.mu.Lock()
			w.failing++
			w.mu.Unlock()
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func (w *workload) reader(id int) {
	defer w.wg.Done()
	for !w.stopped() {
		w.mu.Lock()
		seq := uint64(rand.IntN(int(w.maxSeq)+2)) + 1
		w.mu.Unlock()
		call := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		m, err := w.c.GetMsg(ctx, w.stream, seq)
		cancel()
		switch {
		case err == nil:
			w.h.add(id, getIn{seq}, getOut{id: m.MsgID, found: true}, call, time.Now())
		case strings.Contains(err.Error(), "not found"):
			w.h.add(id, getIn{seq}, getOut{}, call, time.Now())
		} // other failures say nothing of the state
		time.Sleep(5 * time.Millisecond)
	}
}

func (w *workload) finish() {
	close(w.stop)
	w.wg.Wait()
}

// faultResult is one row of the summary table.
type faultResult struct {
	scenario                       string
	ops, acked, lost, dup, retries int
	diverged                       int // replicas whose messages differ from the leader's
	linearizable                   string
}

// diverged waits, at most 30 s, until every replica of the stream on the
// running servers holds the same messages as its leader (the same
// /jsz digest), and returns how many do not.
func diverged(t *testing.T, servers []*server, name string) int {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		n, why := divergedNow(servers, name)
		if why == "" && n == 0 {
			return 0
		}
		if time.Now().After(deadline) {
			t.Logf("%s: %d replicas differ from the leader's: %s", name, n, why)
			return n
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// divergedNow compares the digests of the stream's replicas with the
// leader's; why says what kept it from comparing them all.
func divergedNow(servers []*server, name string) (n int, why string) {
	var leader *monitor.StreamReplica
	var replicas []monitor.StreamReplica
	for _, s := range servers {
		if !s.running() {
			continue
		}
		j, err := s.jszQuery("?digest=true", 20*time.Second)
		if err != nil {
			return 0, fmt.Sprintf("%s /jsz: %v", s.name, err)
		}
		for _, r := range j.Streams {
			if r.Name != name {
				continue
			}
			if r.Digest == nil {
				return 0, fmt.Sprintf("%s: no digest: %s", s.name, r.DigestError)
			}
			replicas = append(replicas, r)
			if r.RaftDoc.State == "Leader" {
				leader = &replicas[len(replicas)-1]
			}
		}
	}
	if leader == nil {
		return 0, "no leader among the replicas"
	}
	want := *leader.Digest
	var differ []string
	for _, r := range replicas {
		if *r.Digest != want {
			differ = append(differ, fmt.Sprintf("%+v", *r.Digest))
		}
	}
	if len(differ) > 0 {
		why = fmt.Sprintf("leader %+v, others %s", want, strings.Join(differ, ", "))
	}
	return len(differ), why
}

// verify reads the whole stream back and checks the history.
func verify(t *testing.T, c *client.Client, name string, w *workload) faultResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	info, err := c.StreamInfo(ctx, name)
	if err != nil {
		t.Fatalf("%s: info: %v", name, err)
	}
	stored := map[string]uint64{}
	r := faultResult{ops: len(w.h.ops), acked: len(w.h.acked), retries: w.failing}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		m, err := c.GetMsg(ctx, name, seq)
		if err != nil {
			t.Fatalf("%s: get %d: %v", name, seq, err)
		}
		if _, dup := stored[m.MsgID]; dup {
			r.dup++
		}
		stored[m.MsgID] = seq
	}
	for id, seq := range w.h.acked {
		if stored[id] != seq {
			r.lost++
		}
	}
	res := porcupine.CheckOperationsTimeout(streamModel, w.h.ops, 60*time.Second)
	r.linearizable = map[porcupine.CheckResult]string{porcupine.Ok: "yes", porcupine.Illegal: "NO", porcupine.Unknown: "timeout"}[res]
	if res == porcupine.Illegal {
		for _, why := range staleReads(w.h.ops) {
			t.Logf("%s: %s", name, why)
		}
	}
	return r
}

// staleReads names the reads of a history that no order can explain:
// "not found" for a sequence acknowledged before the read began, or
// another message than the one acknowledged at that sequence. (Porcupine
// says only that the history is not linearizable; these say where.)
func staleReads(ops []porcupine.Operation) []string {
	type ack struct {
		id  string
		ret int64
	}
	acked := map[uint64]ack{}
	for _, op := range ops {
		if in, ok := op.Input.(pubIn); ok {
			acked[op.Output.(pubOut).seq] = ack{in.id, op.Return}
		}
	}
	var out []string
	for _, op := range ops {
		in, ok := op.Input.(getIn)
		if !ok {
			continue
		}
		got, a := op.Output.(getOut), acked[in.seq]
		switch {
		case !got.found && a.id != "" && a.ret < op.Call:
			out = append(out, fmt.Sprintf("get %d at %v: not found, but %s was acknowledged at %d at %v",
				in.seq, time.Duration(op.Call), a.id, in.seq, time.Duration(a.ret)))
		case got.found && a.id != "" && got.id != a.id:
			out = append(out, fmt.Sprintf("get %d at %v: %s, but %s was acknowledged at %d", in.seq, time.Duration(op.Call), got.id, a.id, in.seq))
		}
	}
	return out
}

// pluginPIDs returns the pids of a server's plugin processes: its
// children, read from /proc.
func pluginPIDs(t *testing.T, s *server) []int {
	parent := strconv.Itoa(s.cmd.Process.Pid)
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so cut after ')'.
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(fields) > 1 && fields[1] == parent {
			pids = append(pids, pid)
		}
	}
	if len(pids) == 0 {
		t.Fatalf("%s has no plugin processes", s.name)
	}
	return pids
}

// TestStreamModelRejects proves the checker can fail: histories no stream
// could produce are not linearizable.
func TestStreamModelRejects(t *testing.T) {
	op := func(in, out any, call, ret int64) porcupine.Operation {
		return porcupine.Operation{Input: in, Output: out, Call: call, Return: ret}
	}
	bad := map[string][]porcupine.Operation{
		"two ids, one sequence":   {op(pubIn{"a"}, pubOut{1}, 0, 1), op(pubIn{"b"}, pubOut{1}, 2, 3)},
		"a read before the write": {op(getIn{1}, getOut{id: "a", found: true}, 0, 1), op(pubIn{"a"}, pubOut{1}, 2, 3)},
		"a lost message":          {op(pubIn{"a"}, pubOut{1}, 0, 1), op(getIn{1}, getOut{}, 2, 3)},
		"a gap":                   {op(pubIn{"a"}, pubOut{2}, 0, 1)},
	}
	for name, h := range bad {
		if porcupine.CheckOperations(streamModel, h) {
			t.Errorf("%s: accepted", name)
		}
	}
	good := []porcupine.Operation{op(pubIn{"a"}, pubOut{1}, 0, 10), op(getIn{1}, getOut{id: "a", found: true}, 5, 6),
		op(pubIn{"a"}, pubOut{1}, 11, 12)}
	if !porcupine.CheckOperations(streamModel, good) {
		t.Error("a concurrent read and a duplicate: rejected")
	}
}
