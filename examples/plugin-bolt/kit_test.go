package main

import (
	"testing"

	"github.com/stratadb/strata/pluginsdk"
	"github.com/stratadb/strata/pluginsdk/storetest"
)

// TestConformance runs Strata's conformance kit against the plugin: in
// process, over gRPC, and as a built binary the test starts, kills with
// -9 and restarts.
func TestConformance(t *testing.T) {
	storetest.Suite{
		New:    func() pluginsdk.Plugin { return New() },
		Binary: storetest.BuildPlugin(t, "github.com/stratadb/strata/examples/plugin-bolt"),
	}.Run(t)
}
