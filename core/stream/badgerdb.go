package stream

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/hashicorp/go-hclog"

	"github.com/stratadb/strata/internal/badgerrecover"
)

// Badger settings of the node's message database. Memory stays modest
// (a few memtables and small caches) because a node also runs its Raft
// log store and everything else.
const (
	dbMemTableSize  = 16 << 20
	dbNumMemtables  = 3
	dbBlockCache    = 16 << 20
	dbIndexCache    = 8 << 20
	dbNumCompactors = 2 // Badger's minimum
	// dbValueThreshold keeps small batches in the LSM tree and writes
	// bigger ones (most, under load) once to the value log, so that
	// compactions move only pointers to them; value-log GC takes back
	// the space of removed ones.
	dbValueThreshold = 1 << 10
	dbValueLogFile   = 256 << 20

	// A batch key holds at most batchMsgs messages and batchBytes of
	// message bodies (or one bigger message): an Update's appends take
	// one key per Raft entry under load (the FSM batches up to 1024
	// messages in one), and a big one is split. Values of this size go to
	// the value log and weigh little in a transaction, so an Update still
	// takes one transaction unless it appends gigabytes.
	batchMsgs  = 1024
	batchBytes = 1 << 20

	gcInterval     = 5 * time.Minute
	gcDiscardRatio = 0.5

	// dropPrefixMin is the number of messages (an upper bound of its
	// keys) from which Delete drops a stream's key range with Badger's DropPrefix, which is cheap for
	// many keys but blocks every write to the DB while it runs, rather
	// than deleting the keys one by one.
	dropPrefixMin = 100_000
)

// DB is a node's Badger database of messages, shared by the BadgerStores
// of all the streams on the node. It runs value-log GC until Close.
type DB struct {
	db     *badger.DB
	logger hclog.Logger

	// rw is held for reading around every use of db, and for writing by
	// Close: Badger must not be used while or after it closes.
	rw     sync.RWMutex
	closed bool

	mu     sync.Mutex
	stores map[string]*BadgerStore // open ones, by id

	stopGC chan struct{}
	gcDone chan struct{}

	// dropPrefixMin, batchMsgs and batchBytes; tests lower them.
	dropPrefixMin uint64
	batchMsgs     int
	batchBytes    int
}

// OpenDB opens (or creates) the database in dir.
func OpenDB(dir string, logger hclog.Logger) (*DB, error) {
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	if _, err := badgerrecover.RemoveEmptyLogs(dir, logger); err != nil {
		return nil, fmt.Errorf("open message store: %w", err)
	}
	opts := badger.DefaultOptions(dir).
		WithLogger(badgerLogger{logger.Named("badger")}).
		WithSyncWrites(false).
		WithMemTableSize(dbMemTableSize).
		WithNumMemtables(dbNumMemtables).
		WithBlockCacheSize(dbBlockCache).
		WithIndexCacheSize(dbIndexCache).
		WithNumCompactors(dbNumCompactors).
		WithValueThreshold(dbValueThreshold).
		WithValueLogFileSize(dbValueLogFile).
		WithDetectConflicts(false). // one writer per stream, disjoint keys
		WithMetricsEnabled(false).
		// A damaged block or value is a read error, never other data:
		// Badger checks neither by default.
		WithChecksumVerificationMode(options.OnBlockRead).
		WithVerifyValueChecksum(true)
	bdb, err := badger.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("open message store at %s: %w", dir, err)
	}
	d := &DB{
		db:     bdb,
		logger: logger,
		stores: make(map[string]*BadgerStore),
		stopGC: make(chan struct{}),
		gcDone: make(chan struct{}),

		dropPrefixMin: dropPrefixMin,
		batchMsgs:     batchMsgs,
		batchBytes:    batchBytes,
	}
	go d.runGC()
	logger.Info("message store open", "dir", dir)
	return d, nil
}

// enter starts a use of the Badger DB; it fails once Close has begun.
// Every enter that succeeds must be followed by exit.
func (d *DB) enter() bool {
	d.rw.RLock()
	if d.closed {
		d.rw.RUnlock()
		return false
	}
	return true
}

func (d *DB) exit() { d.rw.RUnlock() }

// Close closes every open store, stops GC and closes the database.
func (d *DB) Close() error {
	d.rw.Lock()
	if d.closed {
		d.rw.Unlock()
		return nil
	}
	d.closed = true // no new use of Badger starts, and none is running
	d.rw.Unlock()

	d.mu.Lock()
	stores := make([]*BadgerStore, 0, len(d.stores))
	for _, s := range d.stores {
		stores = append(stores, s)
	}
	d.stores = map[string]*BadgerStore{}
	d.mu.Unlock()
	for _, s := range stores {
		s.markClosed()
	}

	close(d.stopGC)
	<-d.gcDone
	if err := d.db.Close(); err != nil {
		return fmt.Errorf("close message store: %w", err)
	}
	d.logger.Info("message store closed")
	return nil
}

// Open opens the store of stream id (a unique group id such as
// "ORDERS-17"), empty if it has no data yet. A stream's store can be
// open only once at a time.
func (d *DB) Open(id string) (*BadgerStore, error) {
	if id == "" {
		return nil, errors.New("message store: empty stream id")
	}
	if !d.enter() {
		return nil, ErrStoreClosed
	}
	defer d.exit()

	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.stores[id]; ok {
		return nil, fmt.Errorf("message store of stream %q is already open", id)
	}
	s, err := openBadgerStore(d, id)
	if err != nil {
		return nil, fmt.Errorf("open message store of stream %q: %w", id, err)
	}
	d.stores[id] = s
	return s, nil
}

// forget drops s from the open stores.
func (d *DB) forget(s *BadgerStore) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stores[s.id] == s {
		delete(d.stores, s.id)
	}
}

// Streams returns the ids of the streams with data in the database,
// sorted, whether their stores are open or not.
func (d *DB) Streams() ([]string, error) {
	if !d.enter() {
		return nil, ErrStoreClosed
	}
	defer d.exit()
	seen := map[string]bool{}
	err := d.db.View(func(txn *badger.Txn) error {
		for _, kind := range []byte{kindMeta, kindMsg, kindHole} {
			d.scanIDs(txn, kind, seen)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(seen))
	for id := range seen {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids, nil
}

// scanIDs adds the ids of the keys of kind to seen, seeking past each
// stream's message keys rather than reading them all.
func (d *DB) scanIDs(txn *badger.Txn, kind byte, seen map[string]bool) {
	opts := badger.DefaultIteratorOptions
	opts.PrefetchValues = false
	opts.Prefix = []byte{kind}
	it := txn.NewIterator(opts)
	defer it.Close()
	for it.Rewind(); it.Valid(); {
		key := it.Item().Key()
		id, n, ok := parseStreamKey(key)
		if !ok {
			d.logger.Warn("message store: skipping malformed key", "key", fmt.Sprintf("%q", key))
			it.Next()
			continue
		}
		seen[id] = true
		if kind != kindMsg {
			it.Next()
			continue
		}
		// Past the stream's largest possible message key.
		next := append(key[:n:n], bytes.Repeat([]byte{0xff}, seqLen+1)...)
		it.Seek(next)
	}
}

var _ badger.Logger = badgerLogger{}

// badgerLogger routes Badger's warnings and errors into hclog; its info
// and debug lines (flushes, compactions, replay progress) are dropped.
type badgerLogger struct {
	l hclog.Logger
}

func (b badgerLogger) Errorf(format string, args ...any) {
	b.l.Error(strings.TrimSpace(fmt.Sprintf(format, args...)))
}

func (b badgerLogger) Warningf(format string, args ...any) {
	b.l.Warn(strings.TrimSpace(fmt.Sprintf(format, args...)))
}

func (badgerLogger) Infof(string, ...any)  {}
func (badgerLogger) Debugf(string, ...any) {}
