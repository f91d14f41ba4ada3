package main

import (
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/stratadb/strata/pluginsdk/storetest"
)

// binDir holds the strata binary and the built-in plugins beside it, as
// `make build` lays them out; TestMain builds them unless -short.
var binDir string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	flag.Parse()
	if !testing.Short() {
		dir, err := os.MkdirTemp("", "strata-cmd-test")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		if err := buildBinaries(dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		binDir = dir
	}
	return m.Run()
}

// buildBinaries builds strata, strata-backup and the badger and file
// plugins into dir.
func buildBinaries(dir string) error {
	return storetest.BuildBinaries(dir, map[string]string{
		"strata":               ".",
		"strata-backup":        "../backup",
		"strata-plugin-badger": "../../plugins/badger/cmd/strata-plugin-badger",
		"strata-plugin-file":   "../../plugins/file/cmd/strata-plugin-file",
	})
}

func needBinaries(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs strata and its plugins")
	}
}
