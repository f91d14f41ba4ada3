package storetest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// brokenEnv names the broken store TestBrokenStore runs the kit against.
const brokenEnv = "STORETEST_BROKEN_STORE"

// brokenStores are stores with one defect each that raft cannot live with,
// the part of the kit that must catch it, and a line of its report.
var brokenStores = map[string]struct {
	run  func(*testing.T)
	want string
}{
	"wrapped-log-not-found": {
		run: func(t *testing.T) {
			TestLogStore(t, inmemOpener(func(s Stores) Stores {
				s.Log = wrappedNotFound{s.Log}
				return s
			}))
		},
		want: "want raft.ErrLogNotFound itself",
	},
	"zero-appended-at-lost": {
		run: func(t *testing.T) {
			TestLogStore(t, inmemOpener(func(s Stores) Stores {
				s.Log = epochAppendedAt{s.Log}
				return s
			}))
		},
		want: "want the zero time",
	},
	"stable-missing-text": {
		run: func(t *testing.T) {
			TestStableStore(t, inmemOpener(func(s Stores) Stores {
				s.Stable = keyNotFoundText{s.Stable}
				return s
			}))
		},
		want: `exactly "not found"`,
	},
	"snapshots-oldest-first": {
		run: func(t *testing.T) {
			TestSnapshotStore(t, inmemOpener(func(s Stores) Stores {
				s.Snapshots = oldestFirst{s.Snapshots}
				return s
			}))
		},
		want: "List is not newest first",
	},
	"snapshot-version-lost": {
		run: func(t *testing.T) {
			TestSnapshotStore(t, inmemOpener(func(s Stores) Stores {
				s.Snapshots = versionLost{s.Snapshots}
				return s
			}))
		},
		want: "Version 0, want 1",
	},
	"groups-shared": {
		run: func(t *testing.T) {
			shared := raft.NewInmemStore()
			TestGroups(t, func(t testing.TB, group string) Stores {
				return Stores{Log: shared, Stable: shared}
			})
		},
		want: "FirstIndex = 1, want 0",
	},
}

// TestKitCatches runs the kit against each broken store in a child process
// and checks that it fails, with the expected complaint.
func TestKitCatches(t *testing.T) {
	if os.Getenv(brokenEnv) != "" {
		t.Skip("child process")
	}
	names := make([]string, 0, len(brokenStores))
	for name := range brokenStores {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestBrokenStore$", "-test.short", "-test.timeout=60s")
			cmd.Env = append(os.Environ(), brokenEnv+"="+name)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) {
				t.Fatalf("kit passed the broken store %q (err %v):\n%s", name, err, out)
			}
			if want := brokenStores[name].want; !strings.Contains(string(out), want) {
				t.Fatalf("kit failed the broken store %q, but without %q:\n%s", name, want, out)
			}
		})
	}
}

// TestBrokenStore is the child process of TestKitCatches.
func TestBrokenStore(t *testing.T) {
	name := os.Getenv(brokenEnv)
	if name == "" {
		t.Skip("run by TestKitCatches")
	}
	b, ok := brokenStores[name]
	if !ok {
		t.Fatalf("unknown broken store %q", name)
	}
	b.run(t)
}

// wrappedNotFound wraps raft.ErrLogNotFound, which errors.Is would accept
// and raft's == does not.
type wrappedNotFound struct{ raft.LogStore }

func (w wrappedNotFound) GetLog(index uint64, l *raft.Log) error {
	if err := w.LogStore.GetLog(index, l); err != nil {
		return fmt.Errorf("log %d: %w", index, err)
	}
	return nil
}

// epochAppendedAt stores an unset AppendedAt as the Unix epoch, as a naive
// UnixNano encoding would.
type epochAppendedAt struct{ raft.LogStore }

func (e epochAppendedAt) StoreLog(l *raft.Log) error { return e.StoreLogs([]*raft.Log{l}) }

func (e epochAppendedAt) StoreLogs(logs []*raft.Log) error {
	out := make([]*raft.Log, len(logs))
	for i, l := range logs {
		c := *l
		if c.AppendedAt.IsZero() {
			c.AppendedAt = time.Unix(0, 0)
		}
		out[i] = &c
	}
	return e.LogStore.StoreLogs(out)
}

// keyNotFoundText reports a missing key with text raft does not match.
type keyNotFoundText struct{ raft.StableStore }

func (k keyNotFoundText) Get(key []byte) ([]byte, error) {
	v, err := k.StableStore.Get(key)
	if err != nil {
		return nil, fmt.Errorf("key %q not found", key)
	}
	return v, nil
}

// oldestFirst lists snapshots in the wrong order.
type oldestFirst struct{ raft.SnapshotStore }

func (o oldestFirst) List() ([]*raft.SnapshotMeta, error) {
	metas, err := o.SnapshotStore.List()
	slices.Reverse(metas)
	return metas, err
}

// versionLost drops the snapshot version, as a transport that forgets the
// field would.
type versionLost struct{ raft.SnapshotStore }

func (v versionLost) List() ([]*raft.SnapshotMeta, error) {
	metas, err := v.SnapshotStore.List()
	for i, m := range metas {
		c := *m
		c.Version = 0
		metas[i] = &c
	}
	return metas, err
}
