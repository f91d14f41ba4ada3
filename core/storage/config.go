package storage

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"
)

// PluginConfig is one `plugin "NAME" { path, sha256, config {} }` block.
type PluginConfig struct {
	Name   string
	Path   string
	SHA256 string
	// Config is the plugin's config block as a JSON object.
	Config json.RawMessage
	// GoMaxProcs, when above 0, caps the Go scheduler's threads in the
	// plugin process (GOMAXPROCS).
	GoMaxProcs int
}

// Config is the node's storage: which plugin serves which store kind.
type Config struct {
	// DataDir is the node's data directory; each plugin gets
	// DataDir/plugins/NAME.
	DataDir string
	// Plugins by name.
	Plugins map[string]PluginConfig
	// Log, Stable and Snapshot name the plugin serving each store kind.
	Log, Stable, Snapshot string

	// UnavailableTimeout bounds how long an operation waits for a dead
	// plugin to come back before it fails.
	UnavailableTimeout time.Duration
	// CallTimeout bounds one call to a plugin: a plugin that does not
	// answer within it is taken as hung, killed and restarted, and the
	// call fails (a Raft leader whose log write fails steps down).
	CallTimeout time.Duration
	// RestartBackoff is the first wait before restarting a dead plugin;
	// it doubles up to MaxRestartBackoff.
	RestartBackoff, MaxRestartBackoff time.Duration
	// WatchInterval is how often a plugin process is checked.
	WatchInterval time.Duration
	// MinFreeBytes is the free space DataDir's file system must keep: a
	// Raft log write that finds less fails with ErrDiskFull (0: no
	// reserve). The reserve leaves room for what the log already holds
	// to be applied: Badger writes its memtables through a mapping, and
	// such a write finding the disk full kills the process (SIGBUS)
	// instead of failing.
	MinFreeBytes uint64

	Logger hclog.Logger
}

// DefaultConfig returns a Config with the timing defaults set.
func DefaultConfig() Config {
	return Config{
		Plugins:            map[string]PluginConfig{},
		UnavailableTimeout: 30 * time.Second,
		CallTimeout:        10 * time.Second,
		RestartBackoff:     100 * time.Millisecond,
		MaxRestartBackoff:  5 * time.Second,
		WatchInterval:      100 * time.Millisecond,
		MinFreeBytes:       DefaultMinFreeBytes,
	}
}

// DefaultMinFreeBytes is the default free space reserve, above the
// memtables the message store and the badger plugin map (3 × 16 MiB and
// 2 × 64 MiB).
const DefaultMinFreeBytes = 256 << 20

// Validate checks that every store kind names a configured plugin.
func (c Config) Validate() error {
	if c.DataDir == "" {
		return fmt.Errorf("storage: data_dir is required")
	}
	for kind, name := range map[string]string{"log": c.Log, "stable": c.Stable, "snapshot": c.Snapshot} {
		if name == "" {
			return fmt.Errorf("storage: %s: no plugin named", kind)
		}
		if _, ok := c.Plugins[name]; !ok {
			return fmt.Errorf("storage: %s: no plugin %q is configured", kind, name)
		}
	}
	if c.UnavailableTimeout <= 0 || c.CallTimeout <= 0 || c.RestartBackoff <= 0 || c.MaxRestartBackoff < c.RestartBackoff || c.WatchInterval <= 0 {
		return fmt.Errorf("storage: timeouts must be positive and max_restart_backoff >= restart_backoff")
	}
	return nil
}
