package storage

import (
	"sync/atomic"

	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/pluginsdk"
)

// LogStore is a group's raft.LogStore on a supervised plugin.
type LogStore struct {
	p     *process
	group string
	// full, if set, refuses a write while the disk is almost full.
	full func() error
	// checked is the plugin connection this group last wrote through; a
	// different one means the plugin restarted since.
	checked atomic.Pointer[pluginsdk.Conn]
}

var _ raft.LogStore = (*LogStore)(nil)

// FirstIndex implements raft.LogStore.
func (s *LogStore) FirstIndex() (idx uint64, err error) {
	err = s.p.do("first_index", func(c *pluginsdk.Conn) error {
		idx, err = c.LogStore(s.group).FirstIndex()
		return err
	})
	return idx, err
}

// LastIndex implements raft.LogStore.
func (s *LogStore) LastIndex() (idx uint64, err error) {
	err = s.p.do("last_index", func(c *pluginsdk.Conn) error {
		idx, err = c.LogStore(s.group).LastIndex()
		return err
	})
	return idx, err
}

// GetLog implements raft.LogStore; a missing index is raft.ErrLogNotFound.
// It waits for a dead plugin as long as the node runs: raft panics when it
// cannot read a committed log to apply it.
func (s *LogStore) GetLog(index uint64, log *raft.Log) error {
	return s.p.doWait("get_log", func(c *pluginsdk.Conn) error {
		return c.LogStore(s.group).GetLog(index, log)
	})
}

// StoreLog implements raft.LogStore.
func (s *LogStore) StoreLog(log *raft.Log) error { return s.StoreLogs([]*raft.Log{log}) }

// StoreLogs implements raft.LogStore. It returns nil only once the plugin
// has said the logs are stored. A call the plugin died in is retried on
// the restarted plugin. After any restart, the first write first drops
// what the store holds from the batch's first index on: raft only stores
// past what it believes is the last index, so anything there was written
// by a call that failed (and was never acknowledged), possibly in an
// older term. While the disk is almost full (Config.MinFreeBytes) it
// fails with ErrDiskFull and writes nothing.
func (s *LogStore) StoreLogs(logs []*raft.Log) error {
	if len(logs) == 0 {
		return nil
	}
	if s.full != nil {
		if err := s.full(); err != nil {
			return err
		}
	}
	return s.p.do("store_logs", func(c *pluginsdk.Conn) error {
		store := c.LogStore(s.group)
		if s.checked.Load() != c {
			if err := dropStale(store, logs[0].Index); err != nil {
				return err
			}
		}
		if err := store.StoreLogs(logs); err != nil {
			return err
		}
		s.checked.Store(c)
		return nil
	})
}

// dropStale deletes the logs at and after first, if the store holds any.
func dropStale(store raft.LogStore, first uint64) error {
	last, err := store.LastIndex()
	if err != nil || last < first {
		return err
	}
	return store.DeleteRange(first, last)
}

// DeleteRange implements raft.LogStore.
func (s *LogStore) DeleteRange(min, max uint64) error {
	return s.p.do("delete_range", func(c *pluginsdk.Conn) error {
		return c.LogStore(s.group).DeleteRange(min, max)
	})
}

var _ raft.MonotonicLogStore = (*LogStore)(nil)

// IsMonotonic implements raft.MonotonicLogStore through the plugin; see
// pluginsdk.LogStore.IsMonotonic.
func (s *LogStore) IsMonotonic() bool {
	monotonic := true
	_ = s.p.do("is_monotonic", func(c *pluginsdk.Conn) error {
		monotonic = c.LogStore(s.group).IsMonotonic()
		return nil
	})
	return monotonic
}
