package replica

import (
	"fmt"
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

func TestRetainThrough(t *testing.T) {
	cases := []struct {
		name    string
		ret     stream.Retention
		first   uint64
		cs      []interest
		through uint64
	}{
		{"interest, no consumers: everything", stream.InterestRetention, 1, nil, 10},
		{"interest, one consumer: its floor", stream.InterestRetention, 1, []interest{{4, all}}, 4},
		{"interest, two consumers: the lower floor", stream.InterestRetention, 1, []interest{{7, all}, {3, all}}, 3},
		{"interest, filtered consumer does not hold back others' subjects", stream.InterestRetention, 1,
			[]interest{{9, prefix("a.")}, {2, prefix("b.")}}, 3},
		{"interest, nothing processed", stream.InterestRetention, 1, []interest{{0, all}}, 0},
		{"interest, floor below the first message", stream.InterestRetention, 6, []interest{{3, all}}, 0},
		{"work queue, no consumers: keeps all", stream.WorkQueueRetention, 1, nil, 0},
		{"work queue, one consumer: its floor", stream.WorkQueueRetention, 1, []interest{{6, all}}, 6},
		{"work queue, disjoint filters", stream.WorkQueueRetention, 1, []interest{{9, prefix("a.")}, {4, prefix("b.")}}, 5},
		{"work queue, a subject nobody takes stops it", stream.WorkQueueRetention, 1, []interest{{9, prefix("a.")}}, 1},
		{"work queue, floor past the last", stream.WorkQueueRetention, 3, []interest{{50, all}}, 10},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := retainThrough(c.ret, retentionStore(t, 10, c.first), c.cs); got != c.through {
				t.Fatalf("retainThrough = %d, want %d", got, c.through)
			}
		})
	}
	t.Run("empty stream", func(t *testing.T) {
		if got := retainThrough(stream.InterestRetention, stream.NewMemStore(), nil); got != 0 {
			t.Fatalf("retainThrough on an empty stream = %d", got)
		}
	})
}
