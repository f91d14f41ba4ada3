package stream

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// appendBench appends messages next, next+1, ... in n updates of batch
// messages of data, and returns the next sequence.
func appendBench(b *testing.B, s Store, next uint64, n, batch int, data []byte) uint64 {
	for range n {
		msgs := make([]Message, batch)
		for i := range msgs {
			msgs[i] = Message{Seq: next, Subject: "ORDERS.new", Data: data, Time: int64(next)}
			next++
		}
		if err := s.Update(Update{Append: msgs, Applied: next}); err != nil {
			b.Fatal(err)
		}
	}
	return next
}

func benchStore(b *testing.B, kind string) Store {
	if kind == "mem" {
		return NewMemStore()
	}
	return openStore(b, openTestDB(b, b.TempDir()), "BENCH-1")
}

// BenchmarkStoreAppend appends batches of 1, 100 and 1000 messages of
// 128 bytes.
func BenchmarkStoreAppend(b *testing.B) {
	for _, kind := range []string{"mem", "badger"} {
		for _, batch := range []int{1, 100, 1000} {
			b.Run(fmt.Sprintf("%s/batch=%d", kind, batch), func(b *testing.B) {
				s := benchStore(b, kind)
				data := make([]byte, 128)
				b.SetBytes(int64(batch * len(data)))
				next := uint64(1)
				for b.Loop() {
					next = appendBench(b, s, next, 1, batch, data)
				}
				b.ReportMetric(float64(next-1)/b.Elapsed().Seconds(), "msgs/s")
			})
		}
	}
}

// BenchmarkStoreAppendRemove appends batches of 100 messages of 128
// bytes and removes the oldest ones past 10,000, as a stream at its
// message limit does.
func BenchmarkStoreAppendRemove(b *testing.B) {
	const batch, keep = 100, 10_000
	for _, kind := range []string{"mem", "badger"} {
		b.Run(kind, func(b *testing.B) {
			s := benchStore(b, kind)
			data := make([]byte, 128)
			b.SetBytes(batch * int64(len(data)))
			next := appendBench(b, s, 1, keep/batch, batch, data)
			for b.Loop() {
				msgs := make([]Message, batch)
				for i := range msgs {
					msgs[i] = Message{Seq: next, Subject: "ORDERS.new", Data: data, Time: int64(next)}
					next++
				}
				if err := s.Update(Update{Append: msgs, RemoveThrough: next - 1 - keep, Applied: next}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkStoreGet reads random messages of a stream of 100,000
// messages of 128 bytes, appended in batches of 1 or 100.
func BenchmarkStoreGet(b *testing.B) {
	const n = 100_000
	for _, kind := range []string{"mem", "badger"} {
		for _, batch := range []int{1, 100} {
			b.Run(fmt.Sprintf("%s/batch=%d", kind, batch), func(b *testing.B) {
				s := benchStore(b, kind)
				appendBench(b, s, 1, n/batch, batch, make([]byte, 128))
				rng := rand.New(rand.NewPCG(1, 2))
				for b.Loop() {
					seq := 1 + rng.Uint64N(n)
					if m, err := s.Get(seq); err != nil || m.Seq != seq {
						b.Fatalf("Get(%d) = %d, %v", seq, m.Seq, err)
					}
				}
			})
		}
	}
}
