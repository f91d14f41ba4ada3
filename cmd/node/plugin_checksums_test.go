package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stratadb/strata/client"
	"github.com/stratadb/strata/internal/clustertest"
	"github.com/stratadb/strata/internal/testnet"
)

// TestRequirePluginChecksums runs the binary with require_plugin_checksums:
// a plugin with no pinned sha256 is refused before anything starts, one
// whose binary does not match its sha256 is refused at launch, and a
// server whose plugins are all pinned to their binaries serves.
func TestRequirePluginChecksums(t *testing.T) {
	needBinaries(t)
	fileSum := sha256File(t, filepath.Join(binDir, "strata-plugin-file"))
	badgerSum := sha256File(t, filepath.Join(binDir, "strata-plugin-badger"))
	pinned := func(badger string) string {
		return fmt.Sprintf("require_plugin_checksums = true\nplugin \"badger\" { sha256 = %q }\nplugin \"file\" { sha256 = %q }\n",
			badger, fileSum)
	}
	refused := []struct{ name, extra, want string }{
		{"unpinned", "require_plugin_checksums = true\n", `strata: config: plugin "badger": sha256: required by require_plugin_checksums`},
		{"mismatch", pinned(strings.Repeat("ab", 32)), `plugin "badger": binary does not match the configured sha256`},
	}
	for _, r := range refused {
		out, err := serveOnce(t, r.extra)
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() == 0 || !strings.Contains(out, r.want) {
			t.Errorf("%s: exit %v, output %q; want a non-zero exit and %q", r.name, err, out, r.want)
		}
	}
	cluster := clustertest.Start(t, clustertest.Options{BinDir: binDir, Servers: 1, Extra: pinned(badgerSum)})
	c := cluster.Connect(t)
	ctx := context.Background()
	if _, err := c.AddStream(ctx, client.StreamConfig{Name: "P", Subjects: []string{"P.>"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Publish(ctx, "P.x", []byte("pinned")); err != nil {
		t.Fatalf("publish on a server with pinned plugins: %v", err)
	}
}

// serveOnce runs `strata serve` on a config of one server plus extra and
// returns its output once it exits (within a minute).
func serveOnce(t *testing.T, extra string) (string, error) {
	t.Helper()
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "n1", fmt.Sprintf("server_name = \"n1\"\nlisten = %q\nhttp = %q\ndata_dir = %q\ncluster { listen = %q }\n%s",
		testnet.FreeAddr(t), testnet.FreeAddr(t), filepath.Join(dir, "data"), testnet.FreeAddr(t), extra))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, filepath.Join(binDir, "strata"), "serve", "--config", cfg).CombinedOutput()
	return string(out), err
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
