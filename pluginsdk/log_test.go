package pluginsdk_test

import (
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
