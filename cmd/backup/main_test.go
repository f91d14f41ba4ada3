package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stratadb/strata/internal/clustertest"
	"github.com/stratadb/strata/pluginsdk/storetest"
)

// binDir holds strata, its plugins and strata-backup, built once by
// TestMain unless -short.
var binDir string

func TestMain(m *testing.M) {
	flag.Parse()
	code := 0
	if testing.Short() {
		code = m.Run()
	} else {
		code = runWithBinaries(m)
	}
	os.Exit(code)
}

func runWithBinaries(m *testing.M) int {
	dir, err := os.MkdirTemp("", "strata-backup-cmd-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	err = clustertest.Build(dir)
	if err == nil {
		err = storetest.BuildBinaries(dir, map[string]string{"strata-backup": "."})
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	binDir = dir
	return m.Run()
}

func needBinaries(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs strata and strata-backup processes")
	}
}

func backupBin() string { return filepath.Join(binDir, "strata-backup") }
