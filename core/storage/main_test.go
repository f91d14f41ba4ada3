package storage

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// pluginBins are the plugin binaries, built once for this test binary.
var pluginBins = map[string]string{}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "strata-plugins-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := buildPlugins(dir)
	if code == 0 {
		code = m.Run()
	}
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

func buildPlugins(dir string) int {
	for name, pkg := range pluginPkgs {
		out := filepath.Join(dir, name)
		if b, err := exec.Command("go", "build", "-o", out, pkg).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build %s: %v\n%s", pkg, err, b)
			return 1
		}
		pluginBins[name] = out
	}
	return 0
}
