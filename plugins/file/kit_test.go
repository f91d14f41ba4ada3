package file_test

import (
	"testing"
	"time"

	"github.com/stratadb/strata/plugins/file"
	"github.com/stratadb/strata/pluginsdk"
	"github.com/stratadb/strata/pluginsdk/storetest"
)

// TestConformance runs the storage conformance kit in process, over gRPC
// and against the built plugin binary (with kill -9 durability). fsync
// stays on: that is the configuration the kit's durability case is about.
func TestConformance(t *testing.T) {
	storetest.Suite{
		New:               func() pluginsdk.Plugin { return file.New() },
		Binary:            storetest.BuildPlugin(t, "./cmd/strata-plugin-file"),
		LargeSnapshotSize: 16 << 20,
	}.Run(t)
}

// TestConformanceSlow runs the kit in process and over gRPC with every
// store call a millisecond slower (storetest.Slow): a slow store is only
// slow, and the decorator changes nothing else.
func TestConformanceSlow(t *testing.T) {
	storetest.Suite{
		New: func() pluginsdk.Plugin { return &storetest.Slow{Plugin: file.New(), Delay: time.Millisecond} },
	}.Run(t)
}

// TestLargeSnapshotThroughPlugin streams a 1 GiB snapshot into the plugin
// binary and back, compared by SHA-256: neither side holds it in memory and
// no gRPC message limit is hit.
func TestLargeSnapshotThroughPlugin(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 1 GiB")
	}
	bin := storetest.BuildPlugin(t, "./cmd/strata-plugin-file")
	conn := storetest.Launch(t, bin, t.TempDir(), nil)
	storetest.LargeSnapshot(t, conn.SnapshotStore("large"), 1<<30)
}
