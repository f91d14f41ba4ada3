package replica

import (
	"errors"
	"testing"

	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/core/logcheck"
	"github.com/stratadb/strata/core/raftgroup"
)

func TestCheckLog(t *testing.T) {
	for _, tc := range []struct {
		name     string
		entries  uint64 // entries 1..entries in the log
		snapshot uint64 // a snapshot at this index, if not 0
		compact  uint64 // entries up to this index compacted away
		damage   uint64 // this entry's data flipped, if not 0
		applied  uint64
		damaged  bool
	}{
		{name: "store behind the log", entries: 10, applied: 7},
		{name: "store at the log's end", entries: 10, applied: 10},
		{name: "log compacted behind a snapshot", entries: 10, snapshot: 8, compact: 8, applied: 9},
		{name: "empty log after a snapshot install", snapshot: 10, applied: 10},
		{name: "log cut before what the store applied", entries: 7, applied: 10, damaged: true},
		{name: "corrupt entry after the snapshot", entries: 10, snapshot: 4, damage: 6, applied: 10, damaged: true},
		{name: "corrupt entry inside the snapshot", entries: 10, snapshot: 8, damage: 6, applied: 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			under := raft.NewInmemStore()
			logs := logcheck.New(under, "g")
			for i := uint64(1); i <= tc.entries; i++ {
				if err := logs.StoreLog(&raft.Log{Index: i, Term: 1, Type: raft.LogCommand, Data: []byte("entry")}); err != nil {
					t.Fatal(err)
				}
			}
			if tc.damage != 0 {
				var l raft.Log
				if err := under.GetLog(tc.damage, &l); err != nil {
					t.Fatal(err)
				}
				l.Data = []byte("entrx")
				if err := under.StoreLog(&l); err != nil {
					t.Fatal(err)
				}
			}
			if tc.compact != 0 {
				if err := under.DeleteRange(1, tc.compact); err != nil {
					t.Fatal(err)
				}
			}
			snaps := raft.NewInmemSnapshotStore()
			if tc.snapshot != 0 {
				sink, err := snaps.Create(raft.SnapshotVersionMax, tc.snapshot, 1, raft.Configuration{}, 1, nil)
				if err != nil {
					t.Fatal(err)
				}
				if err := sink.Close(); err != nil {
					t.Fatal(err)
				}
			}
			err := checkLog(raftgroup.Stores{Log: logs, Stable: under, Snapshots: snaps}, tc.applied)
			if tc.damaged != errors.Is(err, errLogDamaged) || !tc.damaged && err != nil {
				t.Fatalf("checkLog: %v, want damaged %v", err, tc.damaged)
			}
			t.Log(err)
		})
	}
}
