package badger

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stratadb/strata/pluginsdk"
)

func TestConfigDecode(t *testing.T) {
	cfg := DefaultConfig()
	raw := `{"dir": "/x", "sync_writes": false, "value_log_gc_interval": "90s",
		"value_log_gc_discard_ratio": 0.7, "memtable_size_mb": 16, "block_cache_mb": 8,
		"index_cache_mb": 4, "value_log_file_size_mb": 128}`
	if err := pluginsdk.DecodeConfig(json.RawMessage(raw), &cfg); err != nil {
		t.Fatal(err)
	}
	want := Config{Dir: "/x", ValueLogGCInterval: Duration(90 * time.Second), ValueLogGCDiscardRatio: 0.7,
		MemtableSizeMB: 16, BlockCacheMB: 8, IndexCacheMB: 4, ValueLogFileSizeMB: 128}
	if cfg != want {
		t.Errorf("decoded %+v, want %+v", cfg, want)
	}
	if err := cfg.Validate(); err != nil {
		t.Error(err)
	}

	// Keys left out keep their defaults; "0" and 0 disable GC.
	for _, raw := range []string{`{"value_log_gc_interval": "0"}`, `{"value_log_gc_interval": 0}`} {
		cfg = DefaultConfig()
		if err := pluginsdk.DecodeConfig(json.RawMessage(raw), &cfg); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		want := DefaultConfig()
		want.ValueLogGCInterval = 0
		if cfg != want {
			t.Errorf("%s: decoded %+v, want %+v", raw, cfg, want)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	cases := []struct{ raw, key string }{
		{`{"sync_write": true}`, "sync_write"},
		{`{"value_log_gc_interval": "5x"}`, "value_log_gc_interval"},
		{`{"value_log_gc_interval": 300}`, "value_log_gc_interval"},
		{`{"value_log_gc_interval": "-1m"}`, "value_log_gc_interval"},
		{`{"memtable_size_mb": "64"}`, "memtable_size_mb"},
		{`{"memtable_size_mb": 0}`, "memtable_size_mb"},
		{`{"value_log_gc_discard_ratio": 1}`, "value_log_gc_discard_ratio"},
		{`{"block_cache_mb": -1}`, "block_cache_mb"},
		{`{"index_cache_mb": 0}`, "index_cache_mb"},
		{`{"value_log_file_size_mb": 4096}`, "value_log_file_size_mb"},
	}
	for _, c := range cases {
		p := New()
		err := p.Configure(pluginsdk.ConfigureRequest{DataDir: t.TempDir(), Config: json.RawMessage(c.raw)})
		if err == nil {
			p.Close()
			t.Errorf("%s: Configure succeeded", c.raw)
			continue
		}
		if !contains(err, c.key) {
			t.Errorf("%s: error %q does not name %q", c.raw, err, c.key)
		}
	}
}

func TestConfigDirAndGC(t *testing.T) {
	dataDir, dir := t.TempDir(), filepath.Join(t.TempDir(), "db")
	p := openPlugin(t, dataDir, `{"dir": `+quote(dir)+`, "value_log_gc_interval": "5ms"}`)
	if p.stopGC == nil {
		t.Error("GC not started")
	}
	mustStore(t, logStore(t, p, "g"), entries("g", 1, 10, 1))
	time.Sleep(20 * time.Millisecond) // let a few GC rounds run under -race
	if _, err := os.Stat(filepath.Join(dir, "MANIFEST")); err != nil {
		t.Errorf("no DB in the configured dir: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "MANIFEST")); err == nil {
		t.Error("DB opened in DataDir although dir was set")
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}

	p = openPlugin(t, dataDir, `{"value_log_gc_interval": "0"}`)
	if p.stopGC != nil {
		t.Error("GC started with interval 0")
	}
	if _, err := os.Stat(filepath.Join(dataDir, "MANIFEST")); err != nil {
		t.Errorf("no DB in DataDir: %v", err)
	}
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
