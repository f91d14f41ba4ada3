package backup_test

import (
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/stratadb/strata/internal/clustertest"
)

// binDir holds strata and its plugins, built once by TestMain unless -short.
var binDir string

func TestMain(m *testing.M) {
	flag.Parse()
	if !testing.Short() {
		dir, err := os.MkdirTemp("", "strata-backup-test")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if err := clustertest.Build(dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.RemoveAll(dir)
			os.Exit(1)
		}
		binDir = dir
		code := m.Run()
		os.RemoveAll(dir)
		os.Exit(code)
	}
	os.Exit(m.Run())
}

func needCluster(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs a cluster of strata processes")
	}
}
