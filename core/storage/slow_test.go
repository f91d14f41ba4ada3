package storage

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stratadb/strata/pluginsdk"
)

// TestPluginSlow runs a plugin whose every call is slowed by a delay
// (storetest.Slow): within the call timeout it is only slow, and is not
// restarted; past it, each call fails as the calls of a hung plugin do,
// and the plugin is restarted.
func TestPluginSlow(t *testing.T) {
	slow := func(t *testing.T, delay string, timeout time.Duration) (*Host, Stores) {
		cfg := testConfig(t, "slow", "file")
		cfg.Plugins["slow"] = PluginConfig{Name: "slow", Path: pluginBins["slow"], Config: []byte(`{"delay": "` + delay + `"}`)}
		cfg.CallTimeout = timeout
		h := openHost(t, cfg)
		return h, h.Stores("g1")
	}
	t.Run("within the call timeout", func(t *testing.T) {
		h, st := slow(t, "100ms", 5*time.Second)
		pid := runningPID(t, h, "slow")
		if err := st.Log.StoreLogs(batch(1, 10)); err != nil {
			t.Fatal(err)
		}
		if last, err := st.Log.LastIndex(); err != nil || last != 10 {
			t.Fatalf("LastIndex = %d, %v; want 10", last, err)
		}
		if now := runningPID(t, h, "slow"); now != pid {
			t.Fatalf("a slow plugin was restarted (pid %d, now %d)", pid, now)
		}
	})
	t.Run("past the call timeout", func(t *testing.T) {
		h, st := slow(t, "2s", 300*time.Millisecond)
		pid := runningPID(t, h, "slow")
		err := st.Log.StoreLogs(batch(1, 10))
		if !errors.Is(err, pluginsdk.ErrPluginUnavailable) || !strings.Contains(err.Error(), "did not answer within 300ms") {
			t.Fatalf("StoreLogs on a plugin slower than the call timeout = %v; want ErrPluginUnavailable", err)
		}
		if now := runningPID(t, h, "slow"); now == pid {
			t.Fatalf("the plugin slower than the call timeout (pid %d) still serves", pid)
		}
	})
}
