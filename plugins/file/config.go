package file

import (
	"fmt"
)

// maxSegmentSizeMB bounds segment_size_mb: raft-wal stores a segment's size
// limit as a uint32, and segments far past a gigabyte only slow recovery.
const maxSegmentSizeMB = 1024

// Config is the plugin's `config { ... }` block.
type Config struct {
	// Dir is the base directory; each Raft group gets a subdirectory.
	// Empty means the node's plugin data dir.
	Dir string `json:"dir"`

	// Retain is how many complete snapshots to keep per group.
	Retain int `json:"retain"`

	// NoSync skips every fsync (WAL segments and snapshots). It trades
	// crash safety for speed and is only for tests and benchmarks.
	NoSync bool `json:"no_sync"`

	// SegmentSizeMB is the size at which raft-wal seals a log segment
	// file and starts a new one. raft-wal preallocates each segment file
	// to this size, and every group has an open one, so the default is
	// well below raft-wal's own 64 MB: a node runs many groups.
	SegmentSizeMB int `json:"segment_size_mb"`
}

// DefaultConfig returns the configuration used for keys the node's config
// leaves out.
func DefaultConfig() Config {
	return Config{
		Retain:        2,
		SegmentSizeMB: 8,
	}
}

// Validate reports the first invalid setting, naming its config key.
func (c Config) Validate() error {
	if c.Retain < 1 {
		return fmt.Errorf("config key \"retain\": must be at least 1, got %d", c.Retain)
	}
	if c.SegmentSizeMB < 1 || c.SegmentSizeMB > maxSegmentSizeMB {
		return fmt.Errorf("config key \"segment_size_mb\": must be between 1 and %d, got %d",
			maxSegmentSizeMB, c.SegmentSizeMB)
	}
	return nil
}
