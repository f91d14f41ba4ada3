// Package storetest is the conformance kit for Strata storage plugins. It
// owns the store-level cases: what a raft.LogStore, raft.StableStore and
// raft.SnapshotStore must do for hashicorp/raft to run on them, checked
// through the raft interfaces only, so the same cases run in process, over
// gRPC, or against a plugin binary.
//
// A plugin author runs it from their own go test:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t testing.TB, group string) storetest.Stores {
//			return storetest.Stores{Log: ..., Stable: ..., Snapshots: ...}
//		})
//	}
//
// The kit requires exactly what raft relies on, no more: for example a
// missing stable key may be reported as (nil, nil) or as an error whose text
// is "not found", because raft accepts both.
package storetest

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hashicorp/raft"
)

// Stores are the stores of one Raft group; a nil field means the plugin does
// not serve that kind and its cases are skipped.
type Stores struct {
	Log       raft.LogStore
	Stable    raft.StableStore
	Snapshots raft.SnapshotStore
}

// Opener opens the stores of a group. Called with distinct group names for
// isolation; the kit may call it again for the same group to check the data
// is still there (same process). Once the kit has reopened a group it no
// longer uses the stores it got before, so an Opener may close them.
//
// Group names are made of lowercase letters, digits and '-', and are at
// most 64 bytes long. An Opener releases what it opened with t.Cleanup.
type Opener func(t testing.TB, group string) Stores

// Run runs every case as a subtest: Log/..., Stable/..., Snapshot/...,
// Groups/...
func Run(t *testing.T, open Opener) {
	t.Run("Log", func(t *testing.T) { TestLogStore(t, open) })
	t.Run("Stable", func(t *testing.T) { TestStableStore(t, open) })
	t.Run("Snapshot", func(t *testing.T) { TestSnapshotStore(t, open) })
	t.Run("Groups", func(t *testing.T) { TestGroups(t, open) })
}

// groupSeq makes group names unique within the process, so two runs of the
// kit over one long-lived plugin do not see each other's data.
var groupSeq atomic.Uint64

// newGroup returns a fresh group name starting with prefix.
func newGroup(prefix string) string {
	name := fmt.Sprintf("%s-%d", strings.ToLower(prefix), groupSeq.Add(1))
	if len(name) > 64 {
		panic("storetest: group name too long: " + name)
	}
	return name
}

// openLog opens a fresh group and returns its log store, skipping the test
// when the plugin serves no logs.
func openLog(t *testing.T, open Opener, group string) raft.LogStore {
	t.Helper()
	s := open(t, group).Log
	if s == nil {
		t.Skip("plugin serves no LogStore")
	}
	return s
}

// openStable opens a group and returns its stable store, skipping the test
// when the plugin serves no stable stores.
func openStable(t *testing.T, open Opener, group string) raft.StableStore {
	t.Helper()
	s := open(t, group).Stable
	if s == nil {
		t.Skip("plugin serves no StableStore")
	}
	return s
}

// openSnapshots opens a group and returns its snapshot store, skipping the
// test when the plugin serves no snapshot stores.
func openSnapshots(t *testing.T, open Opener, group string) raft.SnapshotStore {
	t.Helper()
	s := open(t, group).Snapshots
	if s == nil {
		t.Skip("plugin serves no SnapshotStore")
	}
	return s
}
