package replica

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stratadb/strata/core/stream"
)

// retentionStore holds messages 1..n on subjects a.1, b.2, a.3, ...
// (odd sequences on a.*, even on b.*), the first removed through first-1.
func retentionStore(t *testing.T, n, first uint64) *stream.MemStore {
	t.Helper()
	s := stream.NewMemStore()
	var msgs []stream.Message
	for seq := uint64(1); seq <= n; seq++ {
		subj := fmt.Sprintf("a.%d", seq)
		if seq%2 == 0 {
			subj = fmt.Sprintf("b.%d", seq)
		}
		msgs = append(msgs, stream.Message{Seq: seq, Subject: subj, Data: []byte("x"), Time: 1})
	}
	if err := s.Update(stream.Update{Append: msgs, RemoveThrough: first - 1}); err != nil {
		t.Fatal(err)
	}
	return s
}

func prefix(p string) func(string) bool {
	return func(s string) bool { return strings.HasPrefix(s, p) }
}

func all(string) bool { return true }

// in says whether a sequence is one of seqs.
func in(seqs ...uint64) func(uint64) bool {
	return func(seq uint64) bool { return slices.Contains(seqs, seq) }
}

func TestToRemove(t *testing.T) {
	cases := []struct {
		name    string
		ret     stream.Retention
		first   uint64
		cs      []interest
		through uint64
		msgs    []uint64 // removed one by one
	}{
		{"interest, no consumers: everything", stream.InterestRetention, 1, nil, 10, nil},
		{"interest, one consumer: its floor", stream.InterestRetention, 1, []interest{{floor: 4, matches: all}}, 4, nil},
		{"interest, two consumers: the lower floor", stream.InterestRetention, 1, []interest{{floor: 7, matches: all}, {floor: 3, matches: all}}, 3, nil},
		{"interest, filtered consumer does not hold back others' subjects", stream.InterestRetention, 1,
			[]interest{{floor: 9, matches: prefix("a.")}, {floor: 2, matches: prefix("b.")}}, 3, []uint64{5, 7, 9}},
		{"interest, nothing processed", stream.InterestRetention, 1, []interest{{floor: 0, matches: all}}, 0, nil},
		{"interest, floor below the first message", stream.InterestRetention, 6, []interest{{floor: 3, matches: all}}, 0, nil},
		{"work queue, no consumers: keeps all", stream.WorkQueueRetention, 1, nil, 0, nil},
		{"work queue, one consumer: its floor", stream.WorkQueueRetention, 1, []interest{{floor: 6, matches: all}}, 6, nil},
		{"work queue, disjoint filters", stream.WorkQueueRetention, 1, []interest{{floor: 9, matches: prefix("a.")}, {floor: 4, matches: prefix("b.")}}, 5, []uint64{7, 9}},
		{"work queue, a subject nobody takes stays; the rest goes one by one", stream.WorkQueueRetention, 1,
			[]interest{{floor: 9, matches: prefix("a.")}}, 1, []uint64{3, 5, 7, 9}},
		{"work queue, acked past the floor go one by one", stream.WorkQueueRetention, 1,
			[]interest{{floor: 2, matches: all, acked: in(4, 5, 7)}}, 2, []uint64{4, 5, 7}},
		{"interest, acked by every consumer past the lower floor", stream.InterestRetention, 1,
			[]interest{{floor: 6, matches: all}, {floor: 2, matches: all, acked: in(5, 8)}}, 2, []uint64{5}},
		{"work queue, floor past the last", stream.WorkQueueRetention, 3, []interest{{floor: 50, matches: all}}, 10, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := toRemove(c.ret, retentionStore(t, 10, c.first), c.cs)
			if got.through != c.through || !slices.Equal(got.msgs, c.msgs) {
				t.Fatalf("toRemove = through %d and %v, want through %d and %v", got.through, got.msgs, c.through, c.msgs)
			}
		})
	}
	t.Run("holes do not count against the scan", func(t *testing.T) {
		// Message 1 stays; 2..retentionScan+2 are holes; the last one is processed.
		n := uint64(retentionScan + 3)
		s := retentionStore(t, n, 1)
		var holes []uint64
		for seq := uint64(2); seq < n; seq++ {
			holes = append(holes, seq)
		}
		for len(holes) > 0 {
			k := min(len(holes), stream.MaxRemove)
			if err := s.Update(stream.Update{Remove: holes[:k]}); err != nil {
				t.Fatal(err)
			}
			holes = holes[k:]
		}
		got := toRemove(stream.WorkQueueRetention, s, []interest{{floor: 0, matches: all, acked: in(n)}})
		if got.through != 0 || !slices.Equal(got.msgs, []uint64{n}) {
			t.Fatalf("toRemove = %+v, want message %d alone", got, n)
		}
	})
	t.Run("empty stream", func(t *testing.T) {
		if got := toRemove(stream.InterestRetention, stream.NewMemStore(), nil); got.through != 0 || got.msgs != nil {
			t.Fatalf("toRemove on an empty stream = %+v", got)
		}
	})
}
