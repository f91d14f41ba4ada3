package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
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

// buildBinaries builds strata and the badger and file plugins into dir,
// in parallel.
func buildBinaries(dir string) error {
	pkgs := map[string]string{
		"strata":               ".",
		"strata-plugin-badger": "../../plugins/badger/cmd/strata-plugin-badger",
		"strata-plugin-file":   "../../plugins/file/cmd/strata-plugin-file",
	}
	errs := make(chan error, len(pkgs))
	for name, pkg := range pkgs {
		go func() {
			out, err := exec.Command("go", "build", "-o", filepath.Join(dir, name), pkg).CombinedOutput()
			if err != nil {
				err = fmt.Errorf("build %s: %w\n%s", pkg, err, out)
			}
			errs <- err
		}()
	}
	var err error
	for range pkgs {
		err = errors.Join(err, <-errs)
	}
	return err
}

func needBinaries(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs strata and its plugins")
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
