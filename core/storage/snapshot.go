package storage

import (
	"io"

	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/pluginsdk"
)

// SnapshotStore is a group's raft.SnapshotStore on a supervised plugin.
// Starting, listing and opening wait for a live plugin; a snapshot whose
// stream the plugin dies in fails, and raft takes another later.
type SnapshotStore struct {
	p     *process
	group string
}

var _ raft.SnapshotStore = (*SnapshotStore)(nil)

// Create implements raft.SnapshotStore.
func (s *SnapshotStore) Create(version raft.SnapshotVersion, index, term uint64, configuration raft.Configuration,
	configurationIndex uint64, trans raft.Transport) (sink raft.SnapshotSink, err error) {
	err = s.p.do("create_snapshot", func(c *pluginsdk.Conn) error {
		sink, err = c.SnapshotStore(s.group).Create(version, index, term, configuration, configurationIndex, trans)
		return err
	})
	return sink, err
}

// List implements raft.SnapshotStore.
func (s *SnapshotStore) List() (metas []*raft.SnapshotMeta, err error) {
	err = s.p.do("list_snapshots", func(c *pluginsdk.Conn) error {
		metas, err = c.SnapshotStore(s.group).List()
		return err
	})
	return metas, err
}

// Open implements raft.SnapshotStore.
func (s *SnapshotStore) Open(id string) (meta *raft.SnapshotMeta, rc io.ReadCloser, err error) {
	err = s.p.do("open_snapshot", func(c *pluginsdk.Conn) error {
		meta, rc, err = c.SnapshotStore(s.group).Open(id)
		return err
	})
	return meta, rc, err
}
