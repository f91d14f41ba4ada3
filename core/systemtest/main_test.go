package systemtest

import (
	"fmt"
	"os"
	"testing"
)

// TestMain runs a node instead of the tests when the test started this
// binary as one.
func TestMain(m *testing.M) {
	spec, isNode, err := specFromEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bad node spec:", err)
		os.Exit(2)
	}
	if isNode {
		if err := runNode(spec); err != nil {
			fmt.Fprintln(os.Stderr, "node:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}
