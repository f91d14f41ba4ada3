package s3snap

import (
	"fmt"
	"strings"

	"github.com/klauspost/compress/zstd"
)

// Config is the plugin's `config { ... }` block.
type Config struct {
	// URL is where the node's snapshots go: "s3://bucket/prefix". Every
	// node needs a prefix of its own (e.g. "s3://bucket/snapshots/n1"):
	// snapshots are per node, and each node prunes its own. A local
	// directory (a path or file:///path) works too, for tests.
	URL string `json:"url"`
	// Endpoint overrides AWS_ENDPOINT_URL_S3 (e.g. an S3-compatible
	// server); with an endpoint, addressing is path-style.
	Endpoint string `json:"endpoint"`
	// Region overrides AWS_REGION (default us-east-1).
	Region string `json:"region"`
	// Retain is how many complete snapshots to keep per group.
	Retain int `json:"retain"`
	// PartSizeMB is the multipart upload part size (at least 5).
	PartSizeMB int `json:"part_size_mb"`
	// Concurrency is how many parts of one snapshot upload at once.
	Concurrency int `json:"concurrency"`
	// Compression is the zstd level: fastest, default, better or best.
	Compression string `json:"compression"`
}

// DefaultConfig returns the configuration used for keys the node's config
// leaves out.
func DefaultConfig() Config {
	return Config{
		Retain:      2,
		PartSizeMB:  8,
		Concurrency: 2,
		Compression: "default",
	}
}

// Validate reports the first invalid setting, naming its config key.
func (c Config) Validate() error {
	switch {
	case c.URL == "":
		return fmt.Errorf("config key \"url\": required (s3://bucket/prefix)")
	case strings.Contains(c.URL, "://") && !strings.HasPrefix(c.URL, "s3://") && !strings.HasPrefix(c.URL, "file://"):
		return fmt.Errorf("config key \"url\": %q is not s3://bucket/prefix", c.URL)
	case strings.HasPrefix(c.URL, "s3://") && strings.TrimPrefix(c.URL, "s3://") == "":
		return fmt.Errorf("config key \"url\": %q has no bucket", c.URL)
	case c.Retain < 1:
		return fmt.Errorf("config key \"retain\": must be at least 1, got %d", c.Retain)
	case c.PartSizeMB < 5:
		return fmt.Errorf("config key \"part_size_mb\": must be at least 5 (S3's minimum), got %d", c.PartSizeMB)
	case c.Concurrency < 1:
		return fmt.Errorf("config key \"concurrency\": must be at least 1, got %d", c.Concurrency)
	}
	if _, err := c.level(); err != nil {
		return err
	}
	return nil
}

// level returns the zstd encoder level Compression names.
func (c Config) level() (zstd.EncoderLevel, error) {
	switch c.Compression {
	case "fastest":
		return zstd.SpeedFastest, nil
	case "default", "":
		return zstd.SpeedDefault, nil
	case "better":
		return zstd.SpeedBetterCompression, nil
	case "best":
		return zstd.SpeedBestCompression, nil
	}
	return 0, fmt.Errorf("config key \"compression\": %q is not one of fastest, default, better, best", c.Compression)
}
