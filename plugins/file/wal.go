package file

import (
	"errors"
	"os"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	wal "github.com/hashicorp/raft-wal"
	"github.com/hashicorp/raft-wal/fs"
	"github.com/hashicorp/raft-wal/metadb"
	"github.com/hashicorp/raft-wal/segment"
	"github.com/hashicorp/raft-wal/types"
)

// groupWAL is one group's raft-wal, which is both its LogStore and its
// StableStore.
//
// wal.WAL.Close does not close its bolt meta database, whose file lock
// would then block a later open of the same directory in this process
// forever. So we hand the WAL a meta store we keep, and close it ourselves.
type groupWAL struct {
	*wal.WAL
	meta *metadb.BoltMetaDB
}

func openWAL(dir string, cfg Config, logger hclog.Logger) (*groupWAL, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var vfs types.VFS = fs.New()
	if cfg.NoSync {
		vfs = noSyncFS{vfs}
	}
	meta := &metadb.BoltMetaDB{}
	w, err := wal.Open(dir,
		wal.WithMetaStore(meta),
		wal.WithSegmentFiler(segment.NewFiler(dir, vfs)),
		wal.WithSegmentSize(cfg.SegmentSizeMB*1024*1024),
		wal.WithLogger(logger),
	)
	if err != nil {
		return nil, errors.Join(err, meta.Close())
	}
	return &groupWAL{WAL: w, meta: meta}, nil
}

// Close closes the WAL, then its meta database.
func (g *groupWAL) Close() error {
	return errors.Join(g.WAL.Close(), g.meta.Close())
}

// logStore is a group's raft-wal as its LogStore. After DeleteRange
// removes a head of the log, raft-wal moves its first index but keeps the
// entries in their segment until the whole segment goes, and its GetLog
// still returns them. raft asks for an index below the first to learn
// that a follower needs a snapshot, and expects raft.ErrLogNotFound, so
// GetLog refuses those indexes here.
type logStore struct{ *wal.WAL }

var (
	_ raft.LogStore          = logStore{}
	_ raft.MonotonicLogStore = logStore{}
)

func (l logStore) GetLog(index uint64, log *raft.Log) error {
	first, err := l.FirstIndex()
	if err != nil {
		return err
	}
	if index < first {
		return raft.ErrLogNotFound
	}
	return l.WAL.GetLog(index, log)
}

// noSyncFS is raft-wal's file system with fsync of segment files turned
// into a no-op (config no_sync, for tests and benchmarks only).
type noSyncFS struct{ types.VFS }

func (f noSyncFS) Create(dir, name string, size uint64) (types.WritableFile, error) {
	wf, err := f.VFS.Create(dir, name, size)
	if err != nil {
		return nil, err
	}
	return noSyncFile{wf}, nil
}

func (f noSyncFS) OpenWriter(dir, name string) (types.WritableFile, error) {
	wf, err := f.VFS.OpenWriter(dir, name)
	if err != nil {
		return nil, err
	}
	return noSyncFile{wf}, nil
}

type noSyncFile struct{ types.WritableFile }

func (noSyncFile) Sync() error { return nil }
