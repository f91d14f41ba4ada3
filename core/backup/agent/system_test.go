package agent

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/stratadb/strata/client"
	"github.com/stratadb/strata/core/backup"
	"github.com/stratadb/strata/internal/clustertest"
	"github.com/stratadb/strata/internal/objstore"
	"github.com/stratadb/strata/internal/s3test"
	"github.com/stratadb/strata/internal/testnet"
)

// binDir holds strata and its plugins for the system test; empty under
// -short, which skips it.
var binDir string

func TestMain(m *testing.M) {
	flag.Parse()
	if !testing.Short() {
		dir, err := os.MkdirTemp("", "strata-agent-bin-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if err := clustertest.Build(dir); err != nil {
			fmt.Fprintln(os.Stderr, "build strata:", err)
			os.RemoveAll(dir)
			os.Exit(1)
		}
		binDir = dir
	}
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// TestAgentKeepsNewestBackups runs the agent against a 3-node cluster and
// versitygw with a 1s interval and retention 2, while the stream takes
// writes: after at least 4 successful runs exactly the newest 2 backups
// remain, complete; a missing stream's runs fail without retries; the
// metrics count it all.
func TestAgentKeepsNewestBackups(t *testing.T) {
	if binDir == "" {
		t.Skip("system test: needs the cluster binaries (not under -short)")
	}
	s3srv := s3test.Start(t)
	s3srv.Setenv(t)
	target := s3srv.Bucket(t, "backups") + "/strata"
	cluster := clustertest.Start(t, clustertest.Options{BinDir: binDir})
	c := cluster.Connect(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := c.AddStream(ctx, client.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}, Replicas: 3}); err != nil {
		t.Fatal(err)
	}
	published := 0
	publish := func(n int) {
		t.Helper()
		for range n {
			published++
			if _, err := c.Publish(ctx, fmt.Sprintf("orders.%d", published%7), []byte(fmt.Sprintf(`{"order":%d}`, published)),
				client.WithHeader("n", fmt.Sprint(published))); err != nil {
				t.Fatal(err)
			}
		}
	}
	publish(100)

	cfg := DefaultConfig()
	cfg.Metrics = testnet.FreeAddr(t)
	cfg.Retry = &RetryConfig{Attempts: 3, Backoff: "50ms", MaxBackoff: "200ms"}
	cfg.Jobs = []*Job{
		{Name: "orders", Streams: []string{"ORDERS"}, Target: target, Interval: "1s", Jitter: "100ms",
			Retain: &RetainConfig{Count: 2}},
		{Name: "missing", Streams: []string{"MISSING"}, Target: target, Interval: "1s"},
	}
	a, err := New(cfg, c, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	store, err := objstore.Open(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	r := start(t, a)
	successes := func(rs []runResult) []runResult {
		return slices.DeleteFunc(rs, func(r runResult) bool { return r.stream != "ORDERS" || r.err != nil || r.skipped })
	}
	deadline := time.Now().Add(time.Minute)
	for i := 0; ; i++ {
		publish(5) // the stream keeps taking writes between backups
		if len(successes(r.snapshot())) >= 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("fewer than 4 successful backups within a minute: %+v", r.snapshot())
		}
		// At most the retained 2 plus the one just saved (before its prune).
		if all, err := backup.List(ctx, store); err != nil {
			t.Fatal(err)
		} else if n := countStream(all, "ORDERS"); n > 3 {
			t.Fatalf("%d complete backups of ORDERS with retention 2", n)
		}
		r.waitFor(t, time.Minute, "further run", func(rs []runResult) bool { return len(rs) > i })
	}
	metricsURL := "http://" + cfg.Metrics + "/metrics"
	text := scrape(t, metricsURL)
	r.stop(t)

	ok := successes(r.snapshot())
	slices.SortFunc(ok, func(x, y runResult) int { return x.backup.Manifest.Started.Compare(y.backup.Manifest.Started) })
	newest := []string{ok[len(ok)-2].backup.Dir, ok[len(ok)-1].backup.Dir}
	all, err := backup.List(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, b := range all {
		if b.Manifest.Stream == "ORDERS" {
			kept = append(kept, b.Dir)
		}
	}
	if !slices.Equal(kept, newest) {
		t.Fatalf("backups kept: %v, want the newest two of %d: %v", kept, len(ok), newest)
	}
	for _, res := range ok {
		if res.attempts != 1 {
			t.Errorf("backup %s took %d attempts", res.backup.Dir, res.attempts)
		}
		if !slices.Contains(newest, res.backup.Dir) {
			for _, obj := range []string{"manifest.json", "data.zst"} {
				if _, err := store.Open(ctx, path.Join(res.backup.Dir, obj)); !errors.Is(err, objstore.ErrNotFound) {
					t.Errorf("pruned backup %s: %s still there (%v)", res.backup.Dir, obj, err)
				}
			}
		}
	}
	var prev uint64
	for _, b := range all {
		st, err := backup.Verify(ctx, store, b, backup.VerifyOptions{})
		if err != nil {
			t.Fatalf("verify %s: %v", b.Dir, err)
		}
		m := b.Manifest
		if st.Messages != m.Messages || m.FirstSeq != 1 || m.LastSeq != m.Messages || m.Messages < 100 || m.Messages > uint64(published) {
			t.Errorf("backup %s: %d messages verified, manifest %d (seq %d-%d), %d published", b.Dir, st.Messages,
				m.Messages, m.FirstSeq, m.LastSeq, published)
		}
		if m.Messages < prev {
			t.Errorf("backup %s holds %d messages, the one before it %d", b.Dir, m.Messages, prev)
		}
		prev = m.Messages
	}

	// The missing stream failed each run at once, never retried.
	var missing int
	for _, res := range r.snapshot() {
		if res.stream == "MISSING" {
			missing++
			if !errors.Is(res.err, client.ErrStreamNotFound) || res.attempts != 1 {
				t.Errorf("run of MISSING: %d attempts, error %v; want 1, stream not found", res.attempts, res.err)
			}
		}
	}
	if missing == 0 {
		t.Error("the missing stream's job never ran")
	}

	if v := metric(t, text, "strata_backup_runs_total", `result="success",stream="ORDERS"`); v < 4 {
		t.Errorf("runs_total{success,ORDERS} = %v, want at least 4\n%s", v, text)
	}
	if v := metric(t, text, "strata_backup_last_success_timestamp_seconds", `stream="ORDERS"`); v <= 0 {
		t.Errorf("last_success_timestamp_seconds{ORDERS} = %v", v)
	}
	if v := metric(t, text, "strata_backup_bytes_total", `stream="ORDERS"`); v <= 0 {
		t.Errorf("bytes_total{ORDERS} = %v", v)
	}
	if v := metric(t, text, "strata_backup_runs_total", `result="failure",stream="MISSING"`); v < 1 {
		t.Errorf("runs_total{failure,MISSING} = %v", v)
	}
	if v := metric(t, text, "strata_backup_duration_seconds_count", `stream="ORDERS"`); v < 4 {
		t.Errorf("duration_seconds_count{ORDERS} = %v", v)
	}

	// Nothing left half-uploaded.
	ups, err := s3srv.Client().ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("backups")})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range ups.Uploads {
		t.Errorf("multipart upload left: %s", aws.ToString(u.Key))
	}
	if !strings.Contains(text, "go_goroutines") {
		t.Error("no Go runtime metrics")
	}
}

func countStream(all []backup.Backup, stream string) int {
	n := 0
	for _, b := range all {
		if b.Manifest.Stream == stream {
			n++
		}
	}
	return n
}
