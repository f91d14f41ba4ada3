package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stratadb/strata/client"
	"github.com/stratadb/strata/internal/clustertest"
	"github.com/stratadb/strata/internal/s3test"
)

// benchMiB is the stream size of BenchmarkSaveRestore:
// STRATA_BACKUP_BENCH_MIB, 256 by default (docs/benchmarks.md: 1024).
func benchMiB() int {
	if n, err := strconv.Atoi(os.Getenv("STRATA_BACKUP_BENCH_MIB")); err == nil && n > 0 {
		return n
	}
	return 256
}

// jsonPayload is a realistic JSON-like event of about 1 KiB: field names
// repeat, values vary.
func jsonPayload(r *rand.Rand, i int) []byte {
	items := ""
	for j := range 1 + r.IntN(8) {
		items += fmt.Sprintf(`{"sku":"SKU-%06d","qty":%d,"price":%d.%02d,"line":%d},`, r.IntN(1_000_000), 1+r.IntN(9), r.IntN(500), r.IntN(100), j)
	}
	return fmt.Appendf(nil, `{"id":"%016x","seq":%d,"customer":{"id":%d,"name":"customer-%d","email":"c%d@example.com","tier":"%s"},`+
		`"items":[%s],"total":%d.%02d,"currency":"EUR","status":"%s","created":"2026-11-26T%02d:%02d:%02d.%03dZ","note":"%x"}`,
		r.Uint64(), i, r.IntN(100_000), r.IntN(100_000), r.IntN(100_000), [...]string{"gold", "silver", "bronze"}[r.IntN(3)],
		items[:len(items)-1], r.IntN(5000), r.IntN(100), [...]string{"new", "paid", "shipped", "cancelled"}[r.IntN(4)],
		r.IntN(24), r.IntN(60), r.IntN(60), r.IntN(1000), r.Uint64())
}

// benchLogStore is the servers' Raft log and stable store plugin:
// STRATA_BACKUP_BENCH_LOG, badger (the default) or file (raft-wal).
func benchLogStore() string {
	if v := os.Getenv("STRATA_BACKUP_BENCH_LOG"); v != "" {
		return v
	}
	return "badger"
}

// BenchmarkSaveRestore saves a stream of JSON-like messages with
// strata-backup to a directory and to versitygw, verifies the directory
// backup, and restores it from each, reporting MiB/s of stream data and
// each process's peak RSS.
func BenchmarkSaveRestore(b *testing.B) {
	if testing.Short() {
		b.Skip("runs a cluster")
	}
	s3 := s3test.Start(b)
	s3.Bucket(b, "backups")
	cluster := clustertest.Start(b, clustertest.Options{BinDir: binDir,
		Extra: fmt.Sprintf("storage {\n  log = %q\n  stable = %q\n}\n", benchLogStore(), benchLogStore())})
	e := &env{cluster: cluster, s3: s3, c: cluster.Connect(b)}
	bytes := fillJSON(b, e.c, benchMiB())
	dir := b.TempDir()
	for b.Loop() {
		for _, tgt := range []struct{ name, url string }{{"dir", dir}, {"s3", "s3://backups/bench"}} {
			wall, rss := e.timed(b, "save", "BENCH", tgt.url, "--no-progress")
			b.ReportMetric(float64(bytes)/(1<<20)/wall.Seconds(), "save-"+tgt.name+"-MiB/s")
			b.ReportMetric(rss, "save-"+tgt.name+"-peak-RSS-MiB")
		}
		vw, _ := e.timed(b, "verify", dir+"/BENCH", "--no-progress")
		b.ReportMetric(float64(bytes)/(1<<20)/vw.Seconds(), "verify-dir-MiB/s")
		for _, tgt := range []struct{ name, url string }{{"dir", dir + "/BENCH"}, {"s3", "s3://backups/bench/BENCH"}} {
			if err := e.c.DeleteStream(context.Background(), "BENCH"); err != nil {
				b.Fatal(err)
			}
			wall, rss := e.timed(b, "restore", tgt.url, "--no-progress")
			b.ReportMetric(float64(bytes)/(1<<20)/wall.Seconds(), "restore-"+tgt.name+"-MiB/s")
			b.ReportMetric(rss, "restore-"+tgt.name+"-peak-RSS-MiB")
		}
	}
	b.ReportMetric(float64(bytes)/(1<<20), "stream-MiB")
	b.ReportMetric(compressionRatio(b, dir), "ratio")
}

// fillJSON creates stream BENCH (R1) holding about mib MiB and returns its
// bytes as the stream counts them.
func fillJSON(b *testing.B, c *client.Client, mib int) uint64 {
	ctx := context.Background()
	if _, err := c.AddStream(ctx, client.StreamConfig{Name: "BENCH", Subjects: []string{"BENCH.>"}}); err != nil {
		b.Fatal(err)
	}
	p, err := c.PublishAsync(ctx, 1024)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	r := rand.New(rand.NewPCG(1, 2))
	for i, total := 0, 0; total < mib<<20; i++ {
		data := jsonPayload(r, i)
		total += len(data)
		if _, err := p.Publish(fmt.Sprintf("BENCH.orders.%d", i%16), data, client.WithHeader("Content-Type", "application/json")); err != nil {
			b.Fatal(err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	info, err := c.StreamInfo(ctx, "BENCH")
	if err != nil {
		b.Fatal(err)
	}
	return info.State.Bytes
}

// timed runs strata-backup and returns its wall time and peak RSS (MiB).
func (e *env) timed(b *testing.B, args ...string) (time.Duration, float64) {
	cmd := e.command(args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		b.Fatalf("strata-backup %v: %v", args, err)
	}
	return time.Since(start), float64(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) / 1024
}

// compressionRatio reads the ratio from the directory backup's manifest.
func compressionRatio(b *testing.B, dir string) float64 {
	out, err := exec.Command(backupBin(), "ls", dir, "--json").Output()
	if err != nil {
		b.Fatal(err)
	}
	var m []struct {
		Manifest struct {
			Bytes      float64 `json:"bytes"`
			Compressed float64 `json:"compressed_bytes"`
		} `json:"Manifest"`
	}
	if err := json.Unmarshal(out, &m); err != nil || len(m) == 0 {
		b.Fatalf("ls --json: %v %s", err, out)
	}
	return m[0].Manifest.Bytes / m[0].Manifest.Compressed
}
