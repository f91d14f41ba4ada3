package storetest

import (
	"errors"
	"testing"

	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/pluginsdk"
)

// dropGroup checks DropGroup over gRPC: the dropped group's log, stable
// keys and snapshots are gone, another group's are not. A plugin without
// GroupDroppers must answer ErrNoSuchCapability.
func dropGroup(t *testing.T, c *pluginsdk.Client, caps pluginsdk.Capabilities) {
	t.Run("DropGroup", func(t *testing.T) {
		for _, g := range []string{"drop-me", "keep-me"} {
			fillGroup(t, c, caps, g)
		}
		err := c.DropGroup("drop-me")
		if errors.Is(err, pluginsdk.ErrNoSuchCapability) {
			t.Skip("the plugin does not drop groups")
		}
		failOn(t, "drop group", err)
		checkGroup(t, c, caps, "drop-me", false)
		checkGroup(t, c, caps, "keep-me", true)
		failOn(t, "drop an unknown group", c.DropGroup("never-seen"))
	})
}

func fillGroup(t *testing.T, c *pluginsdk.Client, caps pluginsdk.Capabilities, group string) {
	if caps.Log {
		failOn(t, "store logs", c.LogStore(group).StoreLogs([]*raft.Log{{Index: 1, Term: 1, Data: []byte("x")}}))
	}
	if caps.Stable {
		failOn(t, "set", c.StableStore(group).SetUint64([]byte("CurrentTerm"), 7))
	}
	if caps.Snapshot {
		sink, err := c.SnapshotStore(group).Create(raft.SnapshotVersionMax, 1, 1, raft.Configuration{}, 1, nil)
		failOn(t, "create snapshot", err)
		_, err = sink.Write([]byte("state"))
		failOn(t, "write snapshot", err)
		failOn(t, "close snapshot", sink.Close())
	}
}

// checkGroup checks the group holds what fillGroup wrote (present) or
// nothing.
func checkGroup(t *testing.T, c *pluginsdk.Client, caps pluginsdk.Capabilities, group string, present bool) {
	if caps.Log {
		last, err := c.LogStore(group).LastIndex()
		failOn(t, "last index", err)
		if (last == 1) != present {
			t.Errorf("group %s: last index %d after dropping drop-me", group, last)
		}
	}
	if caps.Stable {
		v, err := c.StableStore(group).GetUint64([]byte("CurrentTerm"))
		if present && (err != nil || v != 7) || !present && v != 0 {
			t.Errorf("group %s: CurrentTerm %d, %v after dropping drop-me", group, v, err)
		}
	}
	if caps.Snapshot {
		list, err := c.SnapshotStore(group).List()
		failOn(t, "list snapshots", err)
		if (len(list) == 1) != present {
			t.Errorf("group %s: %d snapshots after dropping drop-me", group, len(list))
		}
	}
}
