// Package badger is a Strata storage plugin that keeps the raft logs and
// stable state of every Raft group of a node in one Badger v4 database.
// Keys carry the group (see keys.go), so a group's log is one contiguous
// key range and its first and last indexes are a seek away; both are
// cached per group, so FirstIndex and LastIndex cost no I/O. Writes of all
// groups go through one committer that packs concurrent writes into one
// transaction, so they share its fsyncs (see kv.go).
//
// It owns the Badger DB and its value-log GC; the plugin's main in
// cmd/strata-plugin-badger serves it over gRPC with pluginsdk.Serve.
package badger

import (
	"errors"
	"fmt"
	"sync"
	"time"

	bdb "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/internal/badgerrecover"
	"github.com/stratadb/strata/pluginsdk"
)

var (
	_ pluginsdk.Plugin       = (*Plugin)(nil)
	_ pluginsdk.LogStores    = (*Plugin)(nil)
	_ pluginsdk.StableStores = (*Plugin)(nil)
)

var (
	// ErrNotConfigured is returned for a store asked of a Plugin before
	// Configure.
	ErrNotConfigured = errors.New("badger plugin: not configured")

	// ErrClosed is returned for a store asked of a closed Plugin.
	ErrClosed = errors.New("badger plugin: closed")

	// errCorrupt marks a stored value that does not decode.
	errCorrupt = errors.New("corrupt value")
)

const (
	// numMemtables bounds memory: the mutable memtable plus ones being
	// flushed. Badger's default of 5 costs 5 x memtable_size_mb.
	numMemtables = 3

	// numCompactors is Badger's minimum; the node shares its cores.
	numCompactors = 2

	// valueThreshold is the value size from which Badger keeps a value in
	// the value log rather than in the LSM tree. Log batches are cut at
	// half of it, so they stay in the LSM tree: the value log would cost a
	// second fsync per commit. Bigger entries (a batch of large publishes,
	// a restore) are written once to the value log instead of again by
	// every memtable flush and compaction, and the space of deleted ones
	// comes back through value-log GC.
	valueThreshold = 512 << 10
)

// Plugin serves the LogStore and StableStore of every group from one
// Badger DB. It is safe for concurrent use.
type Plugin struct {
	mu      sync.Mutex
	kv      *kv
	logger  hclog.Logger
	closed  bool
	logs    map[string]*LogStore
	stables map[string]*StableStore

	stopGC chan struct{}
	gcDone chan struct{}
}

// New returns an unconfigured Plugin.
func New() *Plugin {
	return &Plugin{
		logs:    make(map[string]*LogStore),
		stables: make(map[string]*StableStore),
	}
}

// Configure decodes the config block and opens the DB.
func (p *Plugin) Configure(req pluginsdk.ConfigureRequest) error {
	cfg := DefaultConfig()
	if err := pluginsdk.DecodeConfig(req.Config, &cfg); err != nil {
		return err
	}
	if cfg.Dir == "" {
		cfg.Dir = req.DataDir
	}
	if cfg.Dir == "" {
		return fmt.Errorf("config key %q: no directory (and the node gave no data dir)", "dir")
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	logger := req.Logger
	if logger == nil {
		logger = hclog.NewNullLogger()
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrClosed
	}
	if p.kv != nil {
		return errors.New("badger plugin: already configured")
	}
	if _, err := badgerrecover.RemoveEmptyLogs(cfg.Dir, logger); err != nil {
		return err
	}
	kv, err := openKV(badgerOptions(cfg, logger))
	if err != nil {
		return fmt.Errorf("open badger at %s: %w", cfg.Dir, err)
	}
	p.kv, p.logger = kv, logger
	logger.Info("badger store open", "dir", cfg.Dir, "sync_writes", cfg.SyncWrites,
		"value_log_gc_interval", cfg.ValueLogGCInterval.String())
	if cfg.ValueLogGCInterval > 0 {
		p.stopGC, p.gcDone = make(chan struct{}), make(chan struct{})
		go p.runGC(time.Duration(cfg.ValueLogGCInterval), cfg.ValueLogGCDiscardRatio)
	}
	return nil
}

// badgerOptions maps cfg onto Badger's options.
func badgerOptions(cfg Config, logger hclog.Logger) bdb.Options {
	memtable := int64(cfg.MemtableSizeMB) << 20
	// A value must fit in one transaction, which Badger caps at 15% of a
	// memtable.
	threshold := min(int64(valueThreshold), memtable*15/100)
	return bdb.DefaultOptions(cfg.Dir).
		WithSyncWrites(cfg.SyncWrites).
		WithLogger(badgerLogger{l: logger.Named("badger")}).
		WithMemTableSize(memtable).
		WithNumMemtables(numMemtables).
		WithBlockCacheSize(int64(cfg.BlockCacheMB) << 20).
		WithIndexCacheSize(int64(cfg.IndexCacheMB) << 20).
		WithValueLogFileSize(int64(cfg.ValueLogFileSizeMB) << 20).
		WithValueThreshold(threshold).
		WithNumCompactors(numCompactors).
		WithDetectConflicts(false). // no transaction reads what it writes
		WithMetricsEnabled(false).
		// A damaged block or value (a stable store's term or vote, say)
		// is a read error, never other data: Badger checks neither by
		// default.
		WithChecksumVerificationMode(options.OnBlockRead).
		WithVerifyValueChecksum(true)
}

// runGC runs value-log GC every interval until Close.
func (p *Plugin) runGC(interval time.Duration, discardRatio float64) {
	defer close(p.gcDone)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-p.stopGC:
			return
		case <-t.C:
			p.gcOnce(discardRatio)
		}
	}
}

// gcOnce rewrites value-log files until Badger finds none worth it.
func (p *Plugin) gcOnce(discardRatio float64) {
	for n := 0; ; n++ {
		select {
		case <-p.stopGC:
			return
		default:
		}
		err := p.kv.db.RunValueLogGC(discardRatio)
		switch {
		case err == nil:
			continue
		case errors.Is(err, bdb.ErrNoRewrite), errors.Is(err, bdb.ErrRejected):
			if n > 0 {
				p.logger.Debug("value log gc done", "files_rewritten", n)
			}
		default:
			p.logger.Warn("value log gc failed", "error", err)
		}
		return
	}
}

// Close stops GC and closes the DB. Stores handed out fail afterwards.
func (p *Plugin) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	if p.stopGC != nil {
		close(p.stopGC)
		<-p.gcDone
	}
	if p.kv == nil {
		return nil
	}
	if err := p.kv.close(); err != nil {
		return fmt.Errorf("close badger: %w", err)
	}
	p.logger.Info("badger store closed")
	return nil
}

// LogStore returns the raft log of group, the same value on every call.
func (p *Plugin) LogStore(group string) (raft.LogStore, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.openLocked(); err != nil {
		return nil, err
	}
	if s, ok := p.logs[group]; ok {
		return s, nil
	}
	s, err := newLogStore(p.kv, group)
	if err != nil {
		return nil, fmt.Errorf("log store of group %q: %w", group, err)
	}
	p.logs[group] = s
	return s, nil
}

// StableStore returns the stable store of group.
func (p *Plugin) StableStore(group string) (raft.StableStore, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.openLocked(); err != nil {
		return nil, err
	}
	if s, ok := p.stables[group]; ok {
		return s, nil
	}
	s := newStableStore(p.kv, group)
	p.stables[group] = s
	return s, nil
}

// openLocked reports whether stores can be handed out; p.mu is held.
func (p *Plugin) openLocked() error {
	switch {
	case p.closed:
		return ErrClosed
	case p.kv == nil:
		return ErrNotConfigured
	}
	return nil
}
