package pluginsdk_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stratadb/strata/pluginsdk"
	"github.com/stratadb/strata/pluginsdk/storetest"
)

// TestLaunchBadInput: each way a plugin can fail to start is one clear
// error naming the plugin and the cause.
func TestLaunchBadInput(t *testing.T) {
	dir := t.TempDir()
	notExec := filepath.Join(dir, "not-exec")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	exitsAtStart := filepath.Join(dir, "exits")
	if err := os.WriteFile(exitsAtStart, []byte("#!/bin/sh\necho dying >&2\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	newer := storetest.BuildPlugin(t, "github.com/stratadb/strata/pluginsdk/testdata/newerplugin")
	cases := []struct {
		name, path, sha string
		want            []string
		is              error
	}{
		{name: "missing path", path: filepath.Join(dir, "nope"), want: []string{`plugin "p"`, "no such file"}},
		{name: "not executable", path: notExec, want: []string{`plugin "p"`, "not an executable"}},
		{name: "directory", path: dir, want: []string{`plugin "p"`, "not an executable"}},
		{name: "bad sha256", path: newer, sha: "xyz", want: []string{`plugin "p"`, "sha256 must be 64 hex digits"}},
		{name: "exits at start", path: exitsAtStart, want: []string{`plugin "p"`, "start"}},
		{name: "incompatible protocol", path: newer, want: []string{`plugin "p"`, "incompatible"}, is: pluginsdk.ErrIncompatibleProtocol},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := pluginsdk.Launch(pluginsdk.LaunchConfig{Name: "p", Path: tc.path, SHA256: tc.sha, DataDir: t.TempDir()})
			if err == nil {
				conn.Kill()
				t.Fatal("launch succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v; want it to contain %q", err, w)
				}
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("err = %v; want errors.Is %v", err, tc.is)
			}
		})
	}
}
