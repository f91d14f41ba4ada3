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
	linearizable                   string
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
	return r
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
