package storetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/pluginsdk"
)

// BuildPlugin builds the Go package pkg (as `go build` names it, relative
// to the test's directory) into a temporary binary and returns its path.
func BuildPlugin(t testing.TB, pkg string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "plugin")
	cmd := exec.Command("go", "build", "-o", out, pkg)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build plugin %s: %v\n%s", pkg, err, b)
	}
	return out
}

// Launch starts the plugin binary on dataDir for the test and stops it at
// cleanup.
func Launch(t testing.TB, binary, dataDir string, config json.RawMessage) *pluginsdk.Conn {
	t.Helper()
	conn, err := pluginsdk.Launch(pluginsdk.LaunchConfig{
		Name: filepath.Base(binary), Path: binary, DataDir: dataDir, Config: config, Logger: testLogger(t),
	})
	if err != nil {
		t.Fatalf("launch: %v", err)
	}
	t.Cleanup(conn.Kill)
	return conn
}

func (s Suite) runBinary(t *testing.T) {
	conn := Launch(t, s.Binary, t.TempDir(), s.Config)
	Run(t, clientOpener(conn.Client, conn.Capabilities))
	s.largeSnapshot(t, conn.Client, conn.Capabilities)
	t.Run("KillDurability", func(t *testing.T) { s.killDurability(t) })
	t.Run("PowerLoss", func(t *testing.T) { s.powerLoss(t) })
	t.Run("UnknownConfigKey", func(t *testing.T) { s.unknownConfigKey(t) })
	t.Run("WrongChecksum", func(t *testing.T) { s.wrongChecksum(t) })
	t.Run("MutualTLS", func(t *testing.T) { s.mutualTLS(t) })
}

// killDurability stores logs, stable values and a snapshot, kill -9s the
// plugin as soon as the calls return, restarts it on the same directory
// and expects everything back.
func (s Suite) killDurability(t *testing.T) {
	dir := t.TempDir()
	conn := Launch(t, s.Binary, dir, s.Config)
	group := newGroup("durable")
	d := writeDurable(t, conn, group)
	killHard(t, conn)
	d.check(t, Launch(t, s.Binary, dir, s.Config), group)
}

// durable is what writeDurable stored and a restarted plugin must give
// back.
type durable struct {
	logs   []*raft.Log
	snapID string
}

func writeDurable(t *testing.T, conn *pluginsdk.Conn, group string) durable {
	t.Helper()
	caps := conn.Capabilities
	d := durable{logs: makeLogs(1, 1000, 3, group)}
	if caps.Log {
		for i := 0; i < len(d.logs); i += 64 {
			storeLogs(t, conn.LogStore(group), d.logs[i:min(i+64, len(d.logs))])
		}
	}
	if caps.Stable {
		failOn(t, "set", conn.StableStore(group).Set([]byte("k"), []byte("v")))
		failOn(t, "set uint64", conn.StableStore(group).SetUint64([]byte("n"), 42))
	}
	if caps.Snapshot {
		d.snapID = writeDurableSnapshot(t, conn.SnapshotStore(group), []byte("durable snapshot"))
	}
	return d
}

func (d durable) check(t *testing.T, conn *pluginsdk.Conn, group string) {
	t.Helper()
	caps := conn.Capabilities
	if caps.Log {
		checkIndexes(t, conn.LogStore(group), 1, uint64(len(d.logs)))
		checkLogs(t, conn.LogStore(group), d.logs)
	}
	if caps.Stable {
		checkDurableStable(t, conn.StableStore(group))
	}
	if caps.Snapshot {
		checkDurableSnapshot(t, conn.SnapshotStore(group), d.snapID, []byte("durable snapshot"))
	}
}

func killHard(t *testing.T, conn *pluginsdk.Conn) {
	t.Helper()
	pid := conn.Pid()
	if pid == 0 {
		t.Fatal("plugin has no pid")
	}
	failOn(t, "kill -9", syscall.Kill(pid, syscall.SIGKILL))
	deadline := time.Now().Add(10 * time.Second)
	for !conn.Exited() {
		if time.Now().After(deadline) {
			t.Fatal("plugin did not exit after kill -9")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func writeDurableSnapshot(t *testing.T, store raft.SnapshotStore, data []byte) string {
	t.Helper()
	sink, err := store.Create(raft.SnapshotVersionMax, 10, 2, raft.Configuration{}, 1, nil)
	failOn(t, "create snapshot", err)
	_, err = sink.Write(data)
	failOn(t, "write snapshot", err)
	failOn(t, "close snapshot", sink.Close())
	return sink.ID()
}

func checkDurableStable(t *testing.T, s raft.StableStore) {
	t.Helper()
	v, err := s.Get([]byte("k"))
	if err != nil || string(v) != "v" {
		t.Fatalf("after kill -9: Get(k) = %q, %v; want v", v, err)
	}
	n, err := s.GetUint64([]byte("n"))
	if err != nil || n != 42 {
		t.Fatalf("after kill -9: GetUint64(n) = %d, %v; want 42", n, err)
	}
}

func checkDurableSnapshot(t *testing.T, s raft.SnapshotStore, id string, want []byte) {
	t.Helper()
	_, rc, err := s.Open(id)
	failOn(t, "open snapshot after kill -9", err)
	defer rc.Close()
	var got bytes.Buffer
	if _, err := got.ReadFrom(rc); err != nil || !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("after kill -9: snapshot %s = %q, %v; want %q", id, got.Bytes(), err, want)
	}
}

// unknownConfigKey: a config key the plugin does not know is refused at
// start with an error naming it.
func (s Suite) unknownConfigKey(t *testing.T) {
	_, err := pluginsdk.Launch(pluginsdk.LaunchConfig{
		Name: "under-test", Path: s.Binary, DataDir: t.TempDir(),
		Config: json.RawMessage(`{"no_such_key_for_storetest": 1}`), Logger: testLogger(t),
	})
	if err == nil || !strings.Contains(err.Error(), "no_such_key_for_storetest") {
		t.Fatalf("launch with unknown config key: err = %v; want an error naming the key", err)
	}
}

// wrongChecksum: a binary that does not match the configured sha256 is
// refused before it runs.
func (s Suite) wrongChecksum(t *testing.T) {
	if _, err := os.Stat(s.Binary); err != nil {
		t.Fatal(err)
	}
	_, err := pluginsdk.Launch(pluginsdk.LaunchConfig{
		Name: "under-test", Path: s.Binary, SHA256: strings.Repeat("ab", 32), DataDir: t.TempDir(), Logger: testLogger(t),
	})
	if err == nil || !strings.Contains(err.Error(), "sha256") {
		t.Fatalf("launch with wrong checksum: err = %v; want a checksum error", err)
	}
}

// BuildBinaries builds Go packages into dir, in parallel: bins maps a
// binary name to its package. It is for a TestMain that builds a node's
// plugins once for all its tests.
func BuildBinaries(dir string, bins map[string]string) error {
	errs := make(chan error, len(bins))
	for name, pkg := range bins {
		go func() {
			out, err := exec.Command("go", "build", "-o", filepath.Join(dir, name), pkg).CombinedOutput()
			if err != nil {
				err = fmt.Errorf("build %s: %w\n%s", pkg, err, out)
			}
			errs <- err
		}()
	}
	var err error
	for range bins {
		err = errors.Join(err, <-errs)
	}
	return err
}
