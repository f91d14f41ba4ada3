package badger

import (
	"sync"
	"testing"

	"github.com/stratadb/strata/pluginsdk/storetest"
)

// TestConformance runs the pluginsdk conformance kit in process. Every
// test gets one Plugin, whose DB all its groups share, so the kit's
// isolation cases exercise the key layout. Opening a group a second time
// closes the Plugin and opens a new one on the same dir, so reopen cases
// read from disk and rebuild the bounds cache.
func TestConformance(t *testing.T) {
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
