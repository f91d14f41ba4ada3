package storage

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/core/logcheck"
	"github.com/stratadb/strata/internal/damage"
)

// TestCorruptLogEntryIsDetected flips one bit of an entry in each log
// plugin's files while the host is stopped: reading that entry back is an
// ErrCorrupt error, never other data, the host's Corrupt names the group,
// and the other entries read as before. The file plugin's entry is in a
// sealed segment, which raft-wal reads without checking its checksums.
// (The badger plugin does not store an entry's data as it is, so the
// test cannot find it to flip.)
func TestCorruptLogEntryIsDetected(t *testing.T) {
	for _, plugin := range []string{"file", "bolt"} {
		t.Run(plugin, func(t *testing.T) {
			cfg := testConfig(t, plugin, "file")
			cfg.Plugins["file"] = PluginConfig{Name: "file", Path: pluginBins["file"], Config: []byte(`{"segment_size_mb": 1}`)}
			h := openHost(t, cfg)
			logs := h.Stores("g").Log
			for first := 1; first <= 3000; first += 100 {
				entries := make([]*raft.Log, 100)
				for i := range entries {
					entries[i] = &raft.Log{Index: uint64(first + i), Term: 1, Type: raft.LogCommand, Data: entryData(first + i)}
				}
				if err := logs.StoreLogs(entries); err != nil {
					t.Fatal(err)
				}
			}
			h.Close()

			file := damage.FlipBitOf(t, cfg.DataDir, entryData(500))
			t.Logf("flipped a bit of entry 500 in %s", file)

			h = openHost(t, cfg)
			logs = h.Stores("g").Log
			var l raft.Log
			err := logs.GetLog(500, &l)
			if err == nil || bytes.Equal(l.Data, entryData(500)) {
				t.Fatalf("damaged entry 500 read back: %v, data %q", err, l.Data)
			}
			if !errors.Is(err, logcheck.ErrCorrupt) {
				t.Fatalf("damaged entry 500: %v, want ErrCorrupt", err)
			}
			if c := h.Corrupt(); c == nil || !strings.Contains(c.Error(), "group g index 500") {
				t.Fatalf("Corrupt() = %v", c)
			}
			for _, i := range []uint64{1, 499, 501, 3000} {
				if err := logs.GetLog(i, &l); err != nil || !bytes.Equal(l.Data, entryData(int(i))) {
					t.Fatalf("entry %d: %v, data %q", i, err, l.Data)
				}
			}
		})
	}
}

func entryData(i int) []byte {
	return []byte(fmt.Sprintf("entry-%06d-%s", i, strings.Repeat("x", 1000)))
}
