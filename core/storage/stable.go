package storage

import (
	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/pluginsdk"
)

// StableStore is a group's raft.StableStore on a supervised plugin. Every
// operation is idempotent, so one the plugin died in is simply retried,
// for as long as the node runs: raft panics when it cannot save its term.
type StableStore struct {
	p     *process
	group string
}

var _ raft.StableStore = (*StableStore)(nil)

// Set implements raft.StableStore.
func (s *StableStore) Set(key, val []byte) error {
	return s.p.doWait("set", func(c *pluginsdk.Conn) error { return c.StableStore(s.group).Set(key, val) })
}

// Get implements raft.StableStore.
func (s *StableStore) Get(key []byte) (val []byte, err error) {
	err = s.p.doWait("get", func(c *pluginsdk.Conn) error {
		val, err = c.StableStore(s.group).Get(key)
		return err
	})
	return val, err
}

// SetUint64 implements raft.StableStore.
func (s *StableStore) SetUint64(key []byte, val uint64) error {
	return s.p.doWait("set_uint64", func(c *pluginsdk.Conn) error { return c.StableStore(s.group).SetUint64(key, val) })
}

// GetUint64 implements raft.StableStore.
func (s *StableStore) GetUint64(key []byte) (val uint64, err error) {
	err = s.p.doWait("get_uint64", func(c *pluginsdk.Conn) error {
		val, err = c.StableStore(s.group).GetUint64(key)
		return err
	})
	return val, err
}
