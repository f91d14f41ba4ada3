package stream

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/hashicorp/go-hclog"
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
	// dbValueThreshold keeps small messages in the LSM tree and writes
	// bigger ones once to the value log; value-log GC takes back the
	// space of removed ones.
	dbValueThreshold = 1 << 10
	dbValueLogFile   = 256 << 20

	gcInterval     = 5 * time.Minute
	gcDiscardRatio = 0.5

	// dropPrefixMin is the number of messages from which Delete drops a
	// stream's key range with Badger's DropPrefix, which is cheap for
	// many keys but blocks every write to the DB while it runs, rather
	// than deleting the keys one by one.
	dropPrefixMin = 100_000
)

// Key layout. Every stream of a node shares the one DB; a stream's keys
// sit under a prefix holding its id with its length in front, so no
// stream's prefix is a prefix of another's ("a" and "ab" stay apart):
//
//	m <uvarint len(id)> <id>                         meta: State, applied index
//	d <uvarint len(id)> <id> <8-byte big-endian seq>  message
//
// Big-endian sequences sort numerically, so a range of a stream's
// messages is one contiguous key range.
const (
	kindMeta byte = 'm'
	kindMsg  byte = 'd'

	seqLen = 8
)

// streamPrefix returns kind, the length of id and id.
func streamPrefix(kind byte, id string) []byte {
	b := make([]byte, 0, 1+binary.MaxVarintLen64+len(id))
	b = append(b, kind)
	b = binary.AppendUvarint(b, uint64(len(id)))
	return append(b, id...)
}

// msgKey returns the key of message seq under a stream's message prefix.
func msgKey(prefix []byte, seq uint64) []byte {
	k := make([]byte, len(prefix)+seqLen)
	copy(k, prefix)
	binary.BigEndian.PutUint64(k[len(prefix):], seq)
	return k
}

// parseStreamKey returns the id of a key and the length of its prefix.
func parseStreamKey(key []byte) (string, int, bool) {
	if len(key) < 2 {
		return "", 0, false
	}
	n, w := binary.Uvarint(key[1:])
	if w <= 0 || n > uint64(len(key)-1-w) {
		return "", 0, false
	}
	end := 1 + w + int(n)
	return string(key[1+w : end]), end, true
}

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

	dropPrefixMin uint64 // dropPrefixMin; tests lower it
}

// OpenDB opens (or creates) the database in dir.
func OpenDB(dir string, logger hclog.Logger) (*DB, error) {
	if logger == nil {
		logger = hclog.NewNullLogger()
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
		WithMetricsEnabled(false)
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
		for _, kind := range []byte{kindMeta, kindMsg} {
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

// deleteKeys deletes the keys under prefix from from up to (not
// including) to, or to the end of prefix with a nil to, in transactions
// as big as Badger allows. It returns how many it deleted.
func (d *DB) deleteKeys(prefix, from, to []byte) (int, error) {
	w := txnWriter{db: d.db}
	defer w.discard()
	n := 0
	err := d.db.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.PrefetchValues = false
		opts.Prefix = prefix
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Seek(from); it.Valid(); it.Next() {
			item := it.Item()
			if to != nil && bytes.Compare(item.Key(), to) >= 0 {
				break
			}
			if err := w.delete(item.KeyCopy(nil)); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err == nil {
		err = w.commit()
	}
	return n, err
}

// runGC runs value-log GC every gcInterval until Close.
func (d *DB) runGC() {
	defer close(d.gcDone)
	t := time.NewTicker(gcInterval)
	defer t.Stop()
	for {
		select {
		case <-d.stopGC:
			return
		case <-t.C:
			d.gcOnce()
		}
	}
}

// gcOnce rewrites value-log files until Badger finds none worth it.
func (d *DB) gcOnce() {
	for n := 0; ; n++ {
		select {
		case <-d.stopGC:
			return
		default:
		}
		err := d.db.RunValueLogGC(gcDiscardRatio)
		switch {
		case err == nil:
			continue
		case errors.Is(err, badger.ErrNoRewrite), errors.Is(err, badger.ErrRejected):
			if n > 0 {
				d.logger.Debug("message store value log gc done", "files_rewritten", n)
			}
		default:
			d.logger.Warn("message store value log gc failed", "error", err)
		}
		return
	}
}

// txnWriter writes a sequence of sets and deletes in as few transactions
// as Badger's size limits allow, in order. One write may be marked as the
// commit point (arm): the transaction holding it commits under a lock,
// and, if it succeeds, the armed function runs before the lock is let go
// and passed is set.
type txnWriter struct {
	db  *badger.DB
	txn *badger.Txn
	n   int // entries in txn

	lock    sync.Locker
	onPoint func()
	armed   bool // txn holds the commit point
	passed  bool // the commit point is committed
}

func (w *txnWriter) set(key, val []byte) error { return w.add(key, val, false) }

func (w *txnWriter) delete(key []byte) error { return w.add(key, nil, true) }

func (w *txnWriter) add(key, val []byte, del bool) error {
	for {
		if w.txn == nil {
			w.txn = w.db.NewTransaction(true)
		}
		var err error
		if del {
			err = w.txn.Delete(key)
		} else {
			err = w.txn.Set(key, val)
		}
		if err == nil {
			w.n++
			return nil
		}
		if !errors.Is(err, badger.ErrTxnTooBig) || w.n == 0 {
			return err
		}
		if err := w.commit(); err != nil {
			return err
		}
	}
}

// arm marks the last write as the commit point: its transaction commits
// holding lock, and then fn runs, still holding it.
func (w *txnWriter) arm(lock sync.Locker, fn func()) {
	w.lock, w.onPoint, w.armed = lock, fn, true
}

// commit commits the open transaction, if any.
func (w *txnWriter) commit() error {
	if w.txn == nil {
		return nil
	}
	if !w.armed {
		err := w.txn.Commit()
		w.txn, w.n = nil, 0
		return err
	}
	w.lock.Lock()
	defer w.lock.Unlock()
	err := w.txn.Commit()
	w.txn, w.n = nil, 0
	if err != nil {
		return err
	}
	w.armed, w.passed = false, true
	w.onPoint()
	return nil
}

// discard drops what is not committed.
func (w *txnWriter) discard() {
	if w.txn != nil {
		w.txn.Discard()
		w.txn = nil
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
