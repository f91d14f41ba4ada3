package badger

import (
	"sync"
	"testing"

	"github.com/stratadb/strata/pluginsdk"
	"github.com/stratadb/strata/pluginsdk/storetest"
)

// TestConformance runs the pluginsdk conformance kit in process, over
// gRPC and against the built plugin binary (with kill -9 durability).
func TestConformance(t *testing.T) {
	storetest.Suite{
		New:               func() pluginsdk.Plugin { return New() },
		Binary:            storetest.BuildPlugin(t, "./cmd/strata-plugin-badger"),
		LargeSnapshotSize: 1 << 20, // no snapshots here: keep the skip cheap
	}.Run(t)
}

// TestConformanceReopen runs the kit's cases with one Plugin per test,
// whose DB all the test's groups share, so the isolation cases exercise
// the key layout. Opening a group a second time closes the Plugin and
// opens a new one on the same dir, so the reopen cases read from disk and
// rebuild the bounds cache.
func TestConformanceReopen(t *testing.T) {
	var (
		mu    sync.Mutex
		tests = make(map[testing.TB]*kitState)
	)
	storetest.Run(t, func(t testing.TB, group string) storetest.Stores {
		mu.Lock()
		st, ok := tests[t]
		if !ok {
			st = &kitState{dir: t.TempDir(), opened: make(map[string]bool)}
			tests[t] = st
			t.Cleanup(func() {
				mu.Lock()
				delete(tests, t)
				mu.Unlock()
			})
		}
		mu.Unlock()
		return st.open(t, group)
	})
}

// kitState is the Plugin of one kit test.
type kitState struct {
	mu     sync.Mutex
	dir    string
	p      *Plugin
	opened map[string]bool
}

func (s *kitState) open(t testing.TB, group string) storetest.Stores {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.p == nil || s.opened[group] {
		if s.p != nil {
			if err := s.p.Close(); err != nil {
				t.Fatalf("Close before reopen: %v", err)
			}
		}
		s.p = openPlugin(t, s.dir, "")
		clear(s.opened)
	}
	s.opened[group] = true
	return storetest.Stores{Log: logStore(t, s.p, group), Stable: stableStore(t, s.p, group)}
}
