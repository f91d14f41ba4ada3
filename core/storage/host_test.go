package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stratadb/strata/internal/testlog"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/stratadb/strata/pluginsdk"
)

var pluginPkgs = map[string]string{
	"badger": "github.com/stratadb/strata/plugins/badger/cmd/strata-plugin-badger",
	"file":   "github.com/stratadb/strata/plugins/file/cmd/strata-plugin-file",
	"bolt":   "github.com/stratadb/strata/examples/plugin-bolt",
	"slow":   "github.com/stratadb/strata/core/storage/testdata/slowplugin",
}

func testConfig(t *testing.T, log, snap string) Config {
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	for _, name := range []string{log, snap} {
		cfg.Plugins[name] = PluginConfig{Name: name, Path: pluginBins[name]}
	}
	cfg.Log, cfg.Stable, cfg.Snapshot = log, log, snap
	cfg.Logger = testlog.Logger(t, "", hclog.Warn)
	return cfg
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func openHost(t *testing.T, cfg Config) *Host {
	h, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h
}

func batch(first uint64, n int) []*raft.Log {
	logs := make([]*raft.Log, n)
	for i := range logs {
		logs[i] = &raft.Log{Index: first + uint64(i), Term: 1, Type: raft.LogCommand, Data: []byte("entry")}
	}
	return logs
}

// TestPluginKilledUnderLoad kill -9s the log plugin twice while a writer
// stores batches: the host restarts it, the writer's calls wait and go on,
// and every batch whose StoreLogs returned nil is there afterwards. The test
// drives the events it checks: each kill waits until the writer has stored
// batches on the running plugin, and the writer goes on until both restarts
// have been seen and a batch has been stored after the second one.
func TestPluginKilledUnderLoad(t *testing.T) {
	h := openHost(t, testConfig(t, "badger", "file"))
	st := h.Stores("g1")
	restarts := h.metrics.restarts.WithLabelValues("badger")
	var stored atomic.Uint64 // the last index stored
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for next := uint64(1); ; next += 64 {
			select {
			case <-stop:
				return
			default:
			}
			if err := st.Log.StoreLogs(batch(next, 64)); err != nil {
				t.Errorf("StoreLogs(%d): %v", next, err)
				return
			}
			stored.Store(next + 63)
		}
	}()
	stopWriter := sync.OnceFunc(func() { close(stop); <-done })
	defer stopWriter()
	for kill := 1; kill <= 2; kill++ {
		waitStored(t, &stored, stored.Load()+10*64, done)
		pid := runningPID(t, h, "badger")
		t.Logf("kill -9 badger plugin pid %d at index %d", pid, stored.Load())
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		waitFor(t, fmt.Sprintf("restart %d of the badger plugin", kill), func() bool {
			return counterValue(t, restarts) >= float64(kill)
		})
	}
	waitStored(t, &stored, stored.Load()+64, done)
	stopWriter()
	last := stored.Load()
	if n := counterValue(t, h.metrics.calls.WithLabelValues("badger", "store_logs", "ok")); n < float64(last/64) {
		t.Errorf("strata_plugin_calls_total{store_logs,ok} = %v, want >= %d", n, last/64)
	}
	got, err := st.Log.LastIndex()
	if err != nil || got != last {
		t.Fatalf("LastIndex = %d, %v; want %d", got, err, last)
	}
	var l raft.Log
	for i := uint64(1); i <= last; i += 97 {
		if err := st.Log.GetLog(i, &l); err != nil || l.Index != i {
			t.Fatalf("GetLog(%d) = %v, %v", i, l.Index, err)
		}
	}
}

// waitStored waits until the writer has stored index want, failing the test
// if the writer stopped or a minute passes first.
func waitStored(t *testing.T, stored *atomic.Uint64, want uint64, writer <-chan struct{}) {
	t.Helper()
	waitFor(t, fmt.Sprintf("the writer to store index %d", want), func() bool {
		select {
		case <-writer:
			t.Fatalf("the writer stopped at index %d", stored.Load())
		default:
		}
		return stored.Load() >= want
	})
}

// waitFor polls cond until it holds, failing with what it waited for after
// a minute: generous, since the test must not depend on the machine's speed.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after a minute waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestDropStale: after a plugin restart, logs a failed call left at or past
// the batch's first index are dropped before the batch is stored.
func TestDropStale(t *testing.T) {
	s := raft.NewInmemStore()
	if err := s.StoreLogs(batch(1, 10)); err != nil {
		t.Fatal(err)
	}
	if err := dropStale(s, 11); err != nil {
		t.Fatal(err)
	}
	if last, _ := s.LastIndex(); last != 10 {
		t.Fatalf("nothing past the batch: last = %d, want 10", last)
	}
	if err := dropStale(s, 6); err != nil {
		t.Fatal(err)
	}
	if last, _ := s.LastIndex(); last != 5 {
		t.Fatalf("stale suffix from 6: last = %d, want 5", last)
	}
}

func TestOpenBadInput(t *testing.T) {
	t.Run("plugin lacks the store kind", func(t *testing.T) {
		_, err := Open(testConfig(t, "bolt", "bolt"))
		if err == nil || !strings.Contains(err.Error(), `plugin "bolt" does not serve a snapshot store`) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("unknown plugin config key", func(t *testing.T) {
		cfg := testConfig(t, "badger", "file")
		pc := cfg.Plugins["badger"]
		pc.Config = json.RawMessage(`{"sync_writez": true}`)
		cfg.Plugins["badger"] = pc
		_, err := Open(cfg)
		if err == nil || !strings.Contains(err.Error(), `plugin "badger"`) || !strings.Contains(err.Error(), "sync_writez") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("store kind names no plugin", func(t *testing.T) {
		cfg := testConfig(t, "badger", "file")
		cfg.Snapshot = "s3"
		if _, err := Open(cfg); err == nil || !strings.Contains(err.Error(), `no plugin "s3"`) {
			t.Fatalf("err = %v", err)
		}
	})
}

// runningPID waits for the named plugin to be running and returns its pid.
// It never returns 0: kill(0) would signal the test's own process group.
func runningPID(t *testing.T, h *Host, name string) int {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if pid := h.PluginPIDs()[name]; pid > 0 {
			return pid
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("plugin %s is not running", name)
	return 0
}

// TestPluginGoneForGood: while the plugin cannot be restarted, a StoreLogs
// fails with ErrPluginUnavailable after UnavailableTimeout (raft does not
// acknowledge the write), while a SetUint64 (which raft panics on) waits,
// and completes once the plugin is back.
func TestPluginGoneForGood(t *testing.T) {
	cfg := testConfig(t, "badger", "file")
	bin := filepath.Join(t.TempDir(), "strata-plugin-badger")
	copyFile(t, pluginBins["badger"], bin)
	pc := cfg.Plugins["badger"]
	pc.Path = bin
	cfg.Plugins["badger"] = pc
	cfg.UnavailableTimeout = 300 * time.Millisecond
	h := openHost(t, cfg)
	st := h.Stores("g1")
	if err := st.Log.StoreLogs(batch(1, 10)); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(bin, bin+".away"); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(runningPID(t, h, "badger"), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := st.Log.StoreLogs(batch(11, 10))
	if down := h.Down(); down == nil || !strings.Contains(down.Error(), "badger") {
		t.Errorf("Down() = %v while the plugin cannot start; want it to name badger", down)
	}
	if !errors.Is(err, pluginsdk.ErrPluginUnavailable) || !strings.Contains(err.Error(), `plugin "badger"`) {
		t.Fatalf("StoreLogs with the plugin gone = %v; want ErrPluginUnavailable naming the plugin", err)
	}
	done := make(chan error, 1)
	go func() { done <- st.Stable.SetUint64([]byte("term"), 7) }()
	select {
	case err := <-done:
		t.Fatalf("SetUint64 returned %v while the plugin was gone; want it to wait", err)
	case <-time.After(time.Second):
	}
	if err := os.Rename(bin+".away", bin); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("SetUint64 after the plugin came back: %v", err)
	}
	if last, err := st.Log.LastIndex(); err != nil || last != 10 {
		t.Fatalf("LastIndex = %d, %v; want 10: the failed batch must not be there", last, err)
	}
	if err := st.Log.StoreLogs(batch(11, 10)); err != nil {
		t.Fatalf("StoreLogs once the plugin is back: %v", err)
	}
}

func copyFile(t *testing.T, from, to string) {
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// TestPluginHung: a plugin that stops answering (SIGSTOP) fails a
// StoreLogs after CallTimeout with ErrPluginUnavailable, never hangs it,
// and is killed and restarted: the next StoreLogs is served.
func TestPluginHung(t *testing.T) {
	cfg := testConfig(t, "badger", "file")
	cfg.CallTimeout = 500 * time.Millisecond
	h := openHost(t, cfg)
	st := h.Stores("g1")
	if err := st.Log.StoreLogs(batch(1, 10)); err != nil {
		t.Fatal(err)
	}
	pid := runningPID(t, h, "badger")
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(pid, syscall.SIGCONT)
	err := st.Log.StoreLogs(batch(11, 10))
	if !errors.Is(err, pluginsdk.ErrPluginUnavailable) || !strings.Contains(err.Error(), "did not answer within 500ms") {
		t.Fatalf("StoreLogs on a hung plugin = %v; want ErrPluginUnavailable saying it did not answer", err)
	}
	if err := st.Log.StoreLogs(batch(11, 10)); err != nil {
		t.Fatalf("StoreLogs after the hung plugin was restarted: %v", err)
	}
	if now := runningPID(t, h, "badger"); now == pid {
		t.Fatalf("the hung plugin (pid %d) still serves", pid)
	}
	if last, err := st.Log.LastIndex(); err != nil || last != 20 {
		t.Fatalf("LastIndex = %d, %v; want 20", last, err)
	}
}

// TestCloseWithHungPlugin: a node stops even when its plugin no longer
// answers: the graceful stop gives way to a kill.
func TestCloseWithHungPlugin(t *testing.T) {
	cfg := testConfig(t, "badger", "file")
	h, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	pid := runningPID(t, h, "badger")
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(pid, syscall.SIGCONT)
	done := make(chan struct{})
	go func() {
		h.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("Close still waits on the stopped plugin after a minute")
	}
	if err := syscall.Kill(pid, 0); err == nil {
		t.Fatalf("the stopped plugin (pid %d) is still there", pid)
	}
}
