package agent

import (
	"bufio"
	"context"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/stratadb/strata/client"
	"github.com/stratadb/strata/client/clienttest"
	"github.com/stratadb/strata/core/backup"
	"github.com/stratadb/strata/internal/objstore"
)

// testLogger logs to t until the test ends.
func testLogger(t *testing.T) hclog.Logger {
	w := &testWriter{t: t}
	t.Cleanup(w.stop)
	return hclog.New(&hclog.LoggerOptions{Name: "agent", Output: w, Level: hclog.Debug})
}

type testWriter struct {
	mu      sync.Mutex
	t       *testing.T
	stopped bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.stopped {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func (w *testWriter) stop() {
	w.mu.Lock()
	w.stopped = true
	w.mu.Unlock()
}

// running is an agent running in the background, its run results
// collected.
type running struct {
	a       *Agent
	cancel  context.CancelFunc
	done    chan error
	mu      sync.Mutex
	results []runResult
	more    chan struct{} // signalled on each result
}

func start(t *testing.T, a *Agent) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{a: a, cancel: cancel, done: make(chan error, 1), more: make(chan struct{}, 1)}
	a.onRun = func(res runResult) {
		r.mu.Lock()
		r.results = append(r.results, res)
		r.mu.Unlock()
		select {
		case r.more <- struct{}{}:
		default:
		}
	}
	go func() { r.done <- a.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// waitFor waits until cond holds over the results so far, or fails the
// test after timeout.
func (r *running) waitFor(t *testing.T, timeout time.Duration, what string, cond func([]runResult) bool) []runResult {
	t.Helper()
	deadline := time.After(timeout)
	for {
		if res := r.snapshot(); cond(res) {
			return res
		}
		select {
		case <-r.more:
		case err := <-r.done:
			r.done <- err
			t.Fatalf("agent stopped (%v) before %s", err, what)
		case <-deadline:
			t.Fatalf("no %s within %v; results: %+v", what, timeout, r.snapshot())
		}
	}
}

func (r *running) snapshot() []runResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]runResult(nil), r.results...)
}

// stop cancels the agent and waits for Run to return.
func (r *running) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
		r.done <- err
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return within 30s of its context's end")
	}
}

// scrape returns the agent's /metrics text.
func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return string(body)
}

// metric returns the value of the sample named name{labels} (labels as
// Prometheus writes them, sorted by name), or -1 when missing.
func metric(t *testing.T, text, name, labels string) float64 {
	t.Helper()
	prefix := name + "{" + labels + "} "
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), prefix); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", sc.Text(), err)
			}
			return f
		}
	}
	return -1
}

// fakeAgent is an agent of a fake cluster holding stream S, backing up
// into a directory every hour (so once, at start) with fast retries.
func fakeAgent(t *testing.T, streams ...string) (*Agent, *clienttest.Server, string) {
	t.Helper()
	srv := clienttest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Connect(ctx, srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if _, err := c.AddStream(ctx, client.StreamConfig{Name: "S", Subjects: []string{"s.>"}}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := DefaultConfig()
	cfg.Retry = &RetryConfig{Attempts: 3, Backoff: "1ms", MaxBackoff: "4ms"}
	cfg.Jobs = []*Job{{Name: "j", Streams: streams, Target: dir, Interval: "1h", Retain: &RetainConfig{Count: 1}}}
	a, err := New(cfg, c, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	return a, srv, dir
}

func TestNewRefuses(t *testing.T) {
	if _, err := New(DefaultConfig(), nil, nil); err != ErrNoClient {
		t.Errorf("New without a client: %v, want ErrNoClient", err)
	}
	a, _, _ := fakeAgent(t, "S")
	if _, err := New(DefaultConfig(), a.client, nil); err == nil || !strings.Contains(err.Error(), "no backup block") {
		t.Errorf("New with an empty config: %v", err)
	}
}

func TestRetriesThenFails(t *testing.T) {
	a, srv, dir := fakeAgent(t, "S")
	const attempts = 3
	for range attempts {
		srv.FailNext("StreamBackup", status.Error(codes.Internal, "disk on fire"))
	}
	r := start(t, a)
	res := r.waitFor(t, 30*time.Second, "run", func(rs []runResult) bool { return len(rs) > 0 })
	r.stop(t)
	if got := res[0]; got.err == nil || got.attempts != attempts || got.skipped {
		t.Fatalf("run = %+v, want a failure after %d attempts", got, attempts)
	}
	if n := srv.Calls("StreamBackup"); n != attempts {
		t.Errorf("%d backup calls, want %d", n, attempts)
	}
	text := scrapeHandler(t, a)
	if v := metric(t, text, "strata_backup_failures_total", `stream="S"`); v != attempts {
		t.Errorf("failures_total = %v, want %d", v, attempts)
	}
	if v := metric(t, text, "strata_backup_runs_total", `result="failure",stream="S"`); v != 1 {
		t.Errorf("runs_total{failure} = %v, want 1", v)
	}
	if v := metric(t, text, "strata_backup_runs_total", `result="success",stream="S"`); v != -1 {
		t.Errorf("runs_total{success} = %v, want none", v)
	}
	// The failed saves left nothing behind, not even partial files.
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			t.Errorf("a failed save left %s", path)
		}
		return err
	})
}

func TestMissingStreamIsNotRetried(t *testing.T) {
	a, srv, _ := fakeAgent(t, "MISSING")
	r := start(t, a)
	res := r.waitFor(t, 30*time.Second, "run", func(rs []runResult) bool { return len(rs) > 0 })
	r.stop(t)
	if got := res[0]; got.err == nil || got.attempts != 1 {
		t.Fatalf("run = %+v, want one failed attempt", got)
	}
	if n := srv.Calls("StreamBackup"); n != 0 {
		t.Errorf("%d backup calls for a missing stream", n)
	}
	text := scrapeHandler(t, a)
	if v := metric(t, text, "strata_backup_runs_total", `result="failure",stream="MISSING"`); v != 1 {
		t.Errorf("runs_total{failure} = %v, want 1", v)
	}
}

func TestBusyStreamIsSkipped(t *testing.T) {
	a, srv, dir := fakeAgent(t, "S")
	if !a.acquire("S") { // as if the previous backup of S still ran
		t.Fatal("S is busy")
	}
	r := start(t, a)
	res := r.waitFor(t, 30*time.Second, "run", func(rs []runResult) bool { return len(rs) > 0 })
	r.stop(t)
	if !res[0].skipped || res[0].err != nil {
		t.Fatalf("run = %+v, want skipped", res[0])
	}
	if n := srv.Calls("StreamBackup"); n != 0 {
		t.Errorf("%d backup calls while S was busy", n)
	}
	if v := metric(t, scrapeHandler(t, a), "strata_backup_runs_total", `result="skipped",stream="S"`); v != 1 {
		t.Errorf("runs_total{skipped} = %v, want 1", v)
	}
	store, err := objstore.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if all, err := backup.List(context.Background(), store); err != nil || len(all) != 0 {
		t.Errorf("backups after a skipped run: %v, %v", all, err)
	}
}

func scrapeHandler(t *testing.T, a *Agent) string {
	t.Helper()
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	return scrape(t, srv.URL)
}
