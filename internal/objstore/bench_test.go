package objstore

import (
	"context"
	"fmt"
	"testing"

	"github.com/stratadb/strata/internal/s3test"
)

const benchObjectSize = 256 << 20

// BenchmarkWrite writes a 256 MiB object in 1 MiB writes to each kind of
// store with the default part size and concurrency.
func BenchmarkWrite(b *testing.B) {
	b.Run("dir", func(b *testing.B) {
		d, err := NewDir(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		benchWrite(b, d)
	})
	b.Run("s3", func(b *testing.B) {
		srv := s3test.Start(b)
		srv.Bucket(b, "bench")
		o, err := newOptions(nil)
		if err != nil {
			b.Fatal(err)
		}
		benchWrite(b, newS3Client(srv.Client(), "bench", "", o))
	})
}

func benchWrite(b *testing.B, s Store) {
	ctx := context.Background()
	chunk := randBytes(1<<20, 9)
	b.SetBytes(benchObjectSize)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		key := fmt.Sprintf("obj-%d", i)
		i++
		w, err := s.Create(ctx, key)
		if err != nil {
			b.Fatal(err)
		}
		for range benchObjectSize / len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := s.Delete(ctx, key); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
