package badger

import (
	"encoding/json"
	"fmt"
	"reflect"
	"time"
)

// Config is the plugin's `config { ... }` block. Sizes are in MiB. Every
// key is optional:
//
//	config {
//	  dir                        = "/var/lib/strata/badger" # default: the node's plugin data dir
//	  sync_writes                = true
//	  value_log_gc_interval      = "5m" # "0" disables
//	  value_log_gc_discard_ratio = 0.5
//	  memtable_size_mb           = 64   # Badger keeps up to 3
//	  block_cache_mb             = 64
//	  index_cache_mb             = 32
//	  value_log_file_size_mb     = 256
//	}
type Config struct {
	// Dir is where the Badger DB lives. Empty means the node's DataDir for
	// this plugin.
	Dir string `json:"dir"`

	// SyncWrites makes every write fsync before it returns. Without it a
	// write survives a crash of the plugin process but not of the machine.
	SyncWrites bool `json:"sync_writes"`

	// ValueLogGCInterval is how often value-log garbage collection runs.
	// Zero disables it.
	ValueLogGCInterval Duration `json:"value_log_gc_interval"`

	// ValueLogGCDiscardRatio is the share of a value-log file that must be
	// garbage before GC rewrites it; in (0, 1).
	ValueLogGCDiscardRatio float64 `json:"value_log_gc_discard_ratio"`

	// MemtableSizeMB is the size of one memtable. Badger keeps up to
	// numMemtables of them, and one transaction may use 15% of one.
	MemtableSizeMB int `json:"memtable_size_mb"`

	// BlockCacheMB bounds the cache of (decompressed) table blocks.
	BlockCacheMB int `json:"block_cache_mb"`

	// IndexCacheMB bounds the cache of table indexes and bloom filters.
	IndexCacheMB int `json:"index_cache_mb"`

	// ValueLogFileSizeMB is the size at which a value-log file is rotated;
	// GC reclaims space one whole file at a time.
	ValueLogFileSizeMB int `json:"value_log_file_size_mb"`
}

// DefaultConfig returns the configuration used for keys the node's config
// does not set.
func DefaultConfig() Config {
	return Config{
		SyncWrites:             true,
		ValueLogGCInterval:     Duration(5 * time.Minute),
		ValueLogGCDiscardRatio: 0.5,
		MemtableSizeMB:         64,
		BlockCacheMB:           64,
		IndexCacheMB:           32,
		ValueLogFileSizeMB:     256,
	}
}

// Validate reports the first bad setting, naming its config key.
func (c Config) Validate() error {
	switch {
	case c.ValueLogGCInterval < 0:
		return fmt.Errorf("config key %q: must not be negative", "value_log_gc_interval")
	case !(c.ValueLogGCDiscardRatio > 0 && c.ValueLogGCDiscardRatio < 1):
		return fmt.Errorf("config key %q: must be between 0 and 1 (exclusive), got %v",
			"value_log_gc_discard_ratio", c.ValueLogGCDiscardRatio)
	case c.MemtableSizeMB < 1 || c.MemtableSizeMB > 1024:
		return fmt.Errorf("config key %q: must be in [1, 1024], got %d", "memtable_size_mb", c.MemtableSizeMB)
	case c.BlockCacheMB < 1:
		return fmt.Errorf("config key %q: must be at least 1, got %d", "block_cache_mb", c.BlockCacheMB)
	case c.IndexCacheMB < 1:
		return fmt.Errorf("config key %q: must be at least 1, got %d", "index_cache_mb", c.IndexCacheMB)
	case c.ValueLogFileSizeMB < 1 || c.ValueLogFileSizeMB > 2047:
		// Badger's own bounds: [1 MiB, 2 GiB).
		return fmt.Errorf("config key %q: must be in [1, 2047], got %d",
			"value_log_file_size_mb", c.ValueLogFileSizeMB)
	}
	return nil
}

// Duration is a time.Duration written in config as a Go duration string,
// such as "5m" or "0".
type Duration time.Duration

// UnmarshalJSON accepts a duration string (or the number 0). A bad value is
// reported as a *json.UnmarshalTypeError, which encoding/json completes with
// the key it was decoding, so config errors name the key.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		if string(b) == "0" {
			*d = 0
			return nil
		}
		return durationError(string(b))
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return durationError(fmt.Sprintf("%q", s))
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes the duration as a string, the form UnmarshalJSON reads.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// String formats the duration as time.Duration does.
func (d Duration) String() string { return time.Duration(d).String() }

func durationError(got string) error {
	return &json.UnmarshalTypeError{
		Value: got + ` (want a duration such as "30s" or "5m"; "0" disables)`,
		Type:  reflect.TypeFor[time.Duration](),
	}
}
