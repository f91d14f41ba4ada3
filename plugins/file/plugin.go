// Package file is Strata's storage plugin on local files. Each Raft group
// gets its own directory under the base dir, holding a hashicorp/raft-wal
// write-ahead log (the group's LogStore and StableStore) and a
// SnapshotStore of fsync'd, checksummed snapshot directories:
//
//	<dir>/<escaped group>/wal/
//	<dir>/<escaped group>/snapshots/<term>-<index>-<msec>/{state.bin,meta.json}
//
// The plugin binary is cmd/strata-plugin-file.
package file

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/pluginsdk"
)

var (
	_ pluginsdk.Plugin         = (*Plugin)(nil)
	_ pluginsdk.LogStores      = (*Plugin)(nil)
	_ pluginsdk.StableStores   = (*Plugin)(nil)
	_ pluginsdk.SnapshotStores = (*Plugin)(nil)
)

var (
	// ErrNotConfigured is returned for a store asked of a plugin before
	// Configure succeeded.
	ErrNotConfigured = errors.New("file plugin: not configured")
	// ErrClosed is returned for a store asked of a closed plugin.
	ErrClosed = errors.New("file plugin: closed")
	// ErrBadGroup is returned for a group name that cannot be stored.
	ErrBadGroup = errors.New("file plugin: invalid group name")
	// ErrSnapshotCorrupt is wrapped by errors about a snapshot whose data
	// or meta does not check out. It is pluginsdk.ErrSnapshotCorrupt, which
	// the snapshot reader (a pluginsdk.CheckedReader) wraps.
	ErrSnapshotCorrupt = pluginsdk.ErrSnapshotCorrupt
	// ErrBadSnapshotID is returned by Open for an ID that cannot be one of
	// this store's snapshots.
	ErrBadSnapshotID = errors.New("invalid snapshot id")
	// ErrSinkClosed is returned by a Write after Close or Cancel.
	ErrSinkClosed = errors.New("snapshot sink already closed")
)

// Plugin serves every group's stores from one base directory. Stores are
// opened on first use and kept until Close.
type Plugin struct {
	mu     sync.Mutex
	cfg    Config
	dir    string
	logger hclog.Logger
	wals   map[string]*groupWAL
	snaps  map[string]*SnapshotStore
	closed bool
}

// New returns a plugin to hand to pluginsdk.Serve.
func New() *Plugin {
	return &Plugin{
		wals:  make(map[string]*groupWAL),
		snaps: make(map[string]*SnapshotStore),
	}
}

// Configure decodes and checks the config and creates the base directory.
func (p *Plugin) Configure(req pluginsdk.ConfigureRequest) error {
	cfg := DefaultConfig()
	if err := pluginsdk.DecodeConfig(req.Config, &cfg); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	dir := cfg.Dir
	if dir == "" {
		dir = req.DataDir
	}
	if dir == "" {
		return errors.New("config key \"dir\": not set, and the node gave no data dir")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("config key \"dir\": %w", err)
	}
	logger := req.Logger
	if logger == nil {
		logger = hclog.NewNullLogger()
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	p.cfg, p.dir, p.logger = cfg, dir, logger
	p.logger.Info("file plugin configured", "dir", dir, "retain", cfg.Retain,
		"segment_size_mb", cfg.SegmentSizeMB, "no_sync", cfg.NoSync)
	return nil
}

// LogStore returns the group's raft-wal. It implements
// raft.MonotonicLogStore: raft-wal refuses a gap in log indexes.
func (p *Plugin) LogStore(group string) (raft.LogStore, error) {
	w, err := p.wal(group)
	if err != nil {
		return nil, err
	}
	return logStore{w.WAL}, nil
}

// StableStore returns the group's raft-wal, the same one as its
// LogStore. As raft documents for StableStore, a key never set reads as
// an empty value (Get) or 0 (GetUint64), with no error.
func (p *Plugin) StableStore(group string) (raft.StableStore, error) {
	w, err := p.wal(group)
	if err != nil {
		return nil, err
	}
	return w.WAL, nil
}

// SnapshotStore returns the group's snapshot store.
func (p *Plugin) SnapshotStore(group string) (raft.SnapshotStore, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s, ok := p.snaps[group]; ok {
		return s, nil
	}
	dir, err := p.groupDir(group)
	if err != nil {
		return nil, err
	}
	s, err := NewSnapshotStore(filepath.Join(dir, "snapshots"), p.cfg.Retain,
		p.logger.Named("snapshots").With("group", group))
	if err != nil {
		return nil, fmt.Errorf("group %q: %w", group, err)
	}
	s.noSync = p.cfg.NoSync
	p.snaps[group] = s
	return s, nil
}

func (p *Plugin) wal(group string) (*groupWAL, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if w, ok := p.wals[group]; ok {
		return w, nil
	}
	dir, err := p.groupDir(group)
	if err != nil {
		return nil, err
	}
	w, err := openWAL(filepath.Join(dir, "wal"), p.cfg, p.logger.Named("wal").With("group", group))
	if err != nil {
		return nil, fmt.Errorf("group %q: opening wal: %w", group, err)
	}
	p.wals[group] = w
	return w, nil
}

// groupDir returns the group's directory. p.mu must be held.
func (p *Plugin) groupDir(group string) (string, error) {
	switch {
	case p.closed:
		return "", ErrClosed
	case p.dir == "":
		return "", ErrNotConfigured
	}
	name, err := groupDirName(group)
	if err != nil {
		return "", err
	}
	return filepath.Join(p.dir, name), nil
}

// Close closes every open WAL. Stores handed out must not be used after.
func (p *Plugin) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	var errs []error
	for group, w := range p.wals {
		if err := w.Close(); err != nil {
			errs = append(errs, fmt.Errorf("group %q: closing wal: %w", group, err))
		}
	}
	clear(p.wals)
	clear(p.snaps)
	return errors.Join(errs...)
}
