package storage

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stratadb/strata/pluginsdk/storetest"
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
	if err := storetest.BuildBinaries(dir, pluginPkgs); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for name := range pluginPkgs {
		pluginBins[name] = filepath.Join(dir, name)
	}
	return 0
}
