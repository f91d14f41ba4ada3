// Package s3snap is Strata's snapshot storage plugin on S3: each Raft
// group's snapshots are zstd-compressed and streamed up by multipart upload
// as raft writes them, nothing staged on local disk, so a node that loses
// its disk restores its groups from S3. Keys, under the configured
// s3://bucket/prefix (one prefix per node):
//
//	<prefix>/<escaped group>/<term>-<index>-<msec>/state.zst
//	<prefix>/<escaped group>/<term>-<index>-<msec>/meta.json
//
// meta.json (raft's SnapshotMeta plus the SHA-256 and sizes of the state)
// is written only after state.zst is complete, and only snapshots with
// both are listed, so an interrupted upload is never listed. Reads check
// the SHA-256. The newest `retain` snapshots of a group are kept.
// Credentials come from the AWS environment (AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL_S3).
//
// The plugin binary is cmd/strata-plugin-s3snap.
package s3snap

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/internal/objstore"
	"github.com/stratadb/strata/pluginsdk"
)

var (
	_ pluginsdk.Plugin         = (*Plugin)(nil)
	_ pluginsdk.SnapshotStores = (*Plugin)(nil)
	_ pluginsdk.GroupDroppers  = (*Plugin)(nil)
)

var (
	// ErrNotConfigured is returned for a store asked of a plugin before
	// Configure succeeded.
	ErrNotConfigured = errors.New("s3snap plugin: not configured")
	// ErrClosed is returned for a store asked of a closed plugin.
	ErrClosed = errors.New("s3snap plugin: closed")
	// ErrBadGroup is returned for a group name that cannot be stored.
	ErrBadGroup = errors.New("s3snap plugin: invalid group name")
	// ErrSnapshotCorrupt is wrapped by errors about a snapshot whose data
	// or meta does not check out. It is pluginsdk.ErrSnapshotCorrupt, which
	// the snapshot reader (a pluginsdk.CheckedReader) wraps.
	ErrSnapshotCorrupt = pluginsdk.ErrSnapshotCorrupt
	// ErrBadSnapshotID is returned by Open for an ID that cannot be one of
	// this store's snapshots.
	ErrBadSnapshotID = errors.New("invalid snapshot id")
	// ErrUnsupportedSnapshot is wrapped by errors about a snapshot of a
	// version or encoding this plugin cannot read.
	ErrUnsupportedSnapshot = errors.New("unsupported snapshot")
	// ErrSnapshotNotFound is returned by Open for an ID with no complete
	// snapshot.
	ErrSnapshotNotFound = errors.New("snapshot not found")
	// ErrSinkClosed is returned by a Write after Close or Cancel.
	ErrSinkClosed = errors.New("snapshot sink already closed")
)

// configureTimeout bounds the check that the bucket is reachable.
const configureTimeout = 30 * time.Second

// Plugin serves every group's snapshot store from one bucket prefix.
type Plugin struct {
	mu     sync.Mutex
	cfg    Config
	store  objstore.Store
	logger hclog.Logger
	snaps  map[string]*SnapshotStore
	ctx    context.Context // ends at Close: stops uploads in flight
	cancel context.CancelFunc
	closed bool
}

// New returns a plugin to hand to pluginsdk.Serve.
func New() *Plugin {
	ctx, cancel := context.WithCancel(context.Background())
	return &Plugin{snaps: make(map[string]*SnapshotStore), ctx: ctx, cancel: cancel}
}

// Configure decodes and checks the config, opens the bucket and checks
// that it is reachable with the credentials at hand.
func (p *Plugin) Configure(req pluginsdk.ConfigureRequest) error {
	cfg := DefaultConfig()
	if err := pluginsdk.DecodeConfig(req.Config, &cfg); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	logger := req.Logger
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	ctx, cancel := context.WithTimeout(p.ctx, configureTimeout)
	defer cancel()
	store, err := objstore.Open(ctx, cfg.URL,
		objstore.WithEndpoint(cfg.Endpoint), objstore.WithRegion(cfg.Region),
		objstore.WithPartSize(int64(cfg.PartSizeMB)<<20), objstore.WithConcurrency(cfg.Concurrency),
		objstore.WithLogger(logger.Named("s3")))
	if err != nil {
		return fmt.Errorf("config key \"url\": %w", err)
	}
	if c, ok := store.(objstore.Checker); ok {
		if err := c.Check(ctx); err != nil {
			return fmt.Errorf("config key \"url\": %s: %w", store, err)
		}
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	p.cfg, p.store, p.logger = cfg, store, logger
	p.logger.Info("s3snap plugin configured", "url", store.String(), "retain", cfg.Retain,
		"part_size_mb", cfg.PartSizeMB, "concurrency", cfg.Concurrency, "compression", cfg.Compression)
	return nil
}

// SnapshotStore returns the group's snapshot store. The first time a
// group is opened, what an earlier process of this node left unfinished
// under its prefix is removed.
func (p *Plugin) SnapshotStore(group string) (raft.SnapshotStore, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s, ok := p.snaps[group]; ok {
		return s, nil
	}
	switch {
	case p.closed:
		return nil, ErrClosed
	case p.store == nil:
		return nil, ErrNotConfigured
	}
	key, err := groupKey(group)
	if err != nil {
		return nil, err
	}
	level, _ := p.cfg.level()
	s := newSnapshotStore(p.ctx, p.store, key, p.cfg.Retain, level, p.logger.Named("snapshots").With("group", group))
	s.removeUnfinished()
	p.snaps[group] = s
	return s, nil
}

// Close stops uploads in flight (their multipart uploads are aborted).
// Stores handed out must not be used after.
func (p *Plugin) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	p.cancel()
	clear(p.snaps)
	return nil
}
