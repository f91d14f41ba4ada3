package storage

import (
	"fmt"

	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/pluginsdk"
)

// LogStore is a group's raft.LogStore on a supervised plugin.
type LogStore struct {
	p     *process
	group string
}

var _ raft.LogStore = (*LogStore)(nil)

// FirstIndex implements raft.LogStore.
func (s *LogStore) FirstIndex() (idx uint64, err error) {
	err = s.p.do(func(c *pluginsdk.Conn) error {
		idx, err = c.LogStore(s.group).FirstIndex()
		return err
	})
	return idx, err
}

// LastIndex implements raft.LogStore.
func (s *LogStore) LastIndex() (idx uint64, err error) {
	err = s.p.do(func(c *pluginsdk.Conn) error {
		idx, err = c.LogStore(s.group).LastIndex()
		return err
	})
	return idx, err
}

// GetLog implements raft.LogStore; a missing index is raft.ErrLogNotFound.
func (s *LogStore) GetLog(index uint64, log *raft.Log) error {
	return s.p.do(func(c *pluginsdk.Conn) error {
		return c.LogStore(s.group).GetLog(index, log)
	})
}

// StoreLog implements raft.LogStore.
func (s *LogStore) StoreLog(log *raft.Log) error { return s.StoreLogs([]*raft.Log{log}) }

// StoreLogs implements raft.LogStore. It returns nil only once the plugin
// has said the logs are stored. If the plugin died during a call, the
// retry first asks the restarted plugin what it already holds, so a batch
// that was stored before the crash is not written twice.
func (s *LogStore) StoreLogs(logs []*raft.Log) error {
	if len(logs) == 0 {
		return nil
	}
	attempt := 0
	return s.p.do(func(c *pluginsdk.Conn) error {
		attempt++
		store := c.LogStore(s.group)
		rest := logs
		if attempt > 1 {
			var err error
			if rest, err = unstored(store, logs); err != nil {
				return err
			}
		}
		if len(rest) == 0 {
			return nil
		}
		return store.StoreLogs(rest)
	})
}

// unstored returns the suffix of logs the store does not hold yet. Raft
// stores a batch only past the store's last index, so anything at or below
// the last index after a crash came from the interrupted call; its term is
// checked to be sure.
func unstored(store raft.LogStore, logs []*raft.Log) ([]*raft.Log, error) {
	last, err := store.LastIndex()
	if err != nil {
		return nil, err
	}
	first := logs[0].Index
	if last < first {
		return logs, nil
	}
	held := min(int(last-first+1), len(logs))
	var got raft.Log
	if err := store.GetLog(logs[held-1].Index, &got); err != nil {
		return nil, err
	}
	if got.Term != logs[held-1].Term {
		return nil, fmt.Errorf("store logs: index %d holds term %d after plugin restart, want %d",
			got.Index, got.Term, logs[held-1].Term)
	}
	return logs[held:], nil
}

// DeleteRange implements raft.LogStore.
func (s *LogStore) DeleteRange(min, max uint64) error {
	return s.p.do(func(c *pluginsdk.Conn) error {
		return c.LogStore(s.group).DeleteRange(min, max)
	})
}

var _ raft.MonotonicLogStore = (*LogStore)(nil)

// IsMonotonic implements raft.MonotonicLogStore through the plugin; see
// pluginsdk.LogStore.IsMonotonic.
func (s *LogStore) IsMonotonic() bool {
	monotonic := true
	_ = s.p.do(func(c *pluginsdk.Conn) error {
		monotonic = c.LogStore(s.group).IsMonotonic()
		return nil
	})
	return monotonic
}
