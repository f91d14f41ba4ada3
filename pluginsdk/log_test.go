package pluginsdk_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stratadb/strata/internal/testlog"

	"github.com/hashicorp/go-hclog"

	"github.com/stratadb/strata/pluginsdk"
	"github.com/stratadb/strata/pluginsdk/storetest"
)

// TestPluginLogsReachHostAtTheirLevel: a plugin logs to stderr (as JSON,
// through the logger Serve gives it) and the host re-emits the line through
// its own logger at the plugin's level, with the plugin's key/value pairs.
// The plugin runs with the environment the host adds (GOMAXPROCS here).
func TestPluginLogsReachHostAtTheirLevel(t *testing.T) {
	bin := storetest.BuildPlugin(t, "github.com/stratadb/strata/pluginsdk/testdata/inmemplugin")
	var out testlog.Buffer
	logger := hclog.New(&hclog.LoggerOptions{Name: "host", Level: hclog.Info, Output: &out})
	conn, err := pluginsdk.Launch(pluginsdk.LaunchConfig{Name: "inmem", Path: bin, DataDir: "/data/x", Logger: logger,
		Env: []string{"GOMAXPROCS=1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Kill()
	// stderr is copied by its own goroutine: the line may lag the call.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, line := range strings.Split(out.String(), "\n") {
			if !strings.Contains(line, "configured") {
				continue
			}
			if !strings.Contains(line, "[WARN]") || !strings.Contains(line, "data_dir=/data/x") || !strings.Contains(line, "gomaxprocs=1") {
				t.Fatalf("plugin line re-emitted as %q; want it at WARN with data_dir=/data/x gomaxprocs=1", line)
			}
			return
		}
	}
	t.Fatalf("the plugin's log line did not reach the host's logger:\n%s", out.String())
}

// TestPluginLogsAtHostLevel: a plugin logs at its host logger's level, so
// lines the host would drop are never formatted, piped and parsed (Badger
// logs at debug on every write: that cost more than the write).
func TestPluginLogsAtHostLevel(t *testing.T) {
	bin := storetest.BuildPlugin(t, "github.com/stratadb/strata/pluginsdk/testdata/inmemplugin")
	for _, level := range []hclog.Level{hclog.Info, hclog.Debug} {
		t.Run(level.String(), func(t *testing.T) {
			var out testlog.Buffer
			logger := hclog.New(&hclog.LoggerOptions{Name: "host", Level: level, Output: &out})
			conn, err := pluginsdk.Launch(pluginsdk.LaunchConfig{Name: "inmem", Path: bin, DataDir: t.TempDir(), Logger: logger})
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Kill()
			line := waitForLine(t, &out, "configured")
			want := fmt.Sprintf("debug=%v", level == hclog.Debug)
			if !strings.Contains(line, want) {
				t.Fatalf("host at %s: plugin says %q, want %s", level, line, want)
			}
		})
	}
}

// waitForLine returns the first line of out that holds s, waiting for it:
// stderr is copied by its own goroutine.
func waitForLine(t *testing.T, out *testlog.Buffer, s string) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, line := range strings.Split(out.String(), "\n") {
			if strings.Contains(line, s) {
				return line
			}
		}
	}
	t.Fatalf("%q did not reach the host's logger:\n%s", s, out.String())
	return ""
}
