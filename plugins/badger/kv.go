package badger

import (
	"math"
	"sync/atomic"

	bdb "github.com/dgraph-io/badger/v4"
)

// kv is the Badger DB, and the one goroutine that commits to it.
//
// Badger is opened in managed mode: the plugin hands out commit versions
// itself and every read sees the newest committed data. In Badger's default
// mode each new transaction, read or write, waits until every commit in
// flight is done, so a GetLog would wait for another group's fsync. Nothing
// here reads at an older version, so compactions may discard every version
// up to the newest one handed out (SetDiscardTs).
//
// Writes go through a committer goroutine that packs the writes queued
// while it waited for the last fsync into one transaction. Badger syncs the
// memtable WAL once per transaction (and the value log once per batch of
// them), so one transaction for many groups' writes costs one round of
// syncs, not one each.
type kv struct {
	db *bdb.DB

	version atomic.Uint64 // the last commit version handed out

	queue   chan *write // unbuffered: a queued write is being committed
	closing chan struct{}
	stopped chan struct{}
}

// maxGroup bounds how many queued writes one transaction may take.
const maxGroup = 256

// op is one set, or with del one delete, of a write.
type op struct {
	key, val []byte
	del      bool
}

// write is the ops of one caller, committed atomically.
type write struct {
	ops  []op
	done chan error
}

func openKV(opts bdb.Options) (*kv, error) {
	db, err := bdb.OpenManaged(opts)
	if err != nil {
		return nil, err
	}
	k := &kv{
		db:      db,
		queue:   make(chan *write),
		closing: make(chan struct{}),
		stopped: make(chan struct{}),
	}
	k.version.Store(db.MaxVersion())
	db.SetDiscardTs(k.version.Load())
	go k.commitLoop()
	return k, nil
}

// close stops the committer, failing writes not yet taken, and closes the
// DB.
func (k *kv) close() error {
	close(k.closing)
	<-k.stopped
	return k.db.Close()
}

// view runs fn in a read-only transaction at the newest version.
func (k *kv) view(fn func(txn *bdb.Txn) error) error {
	if k.db.IsClosed() {
		return bdb.ErrDBClosed
	}
	txn := k.db.NewTransactionAt(math.MaxUint64, false)
	defer txn.Discard()
	return fn(txn)
}

// apply commits ops in one transaction, possibly shared with other
// callers' writes, and returns once it is written (and synced, with
// sync_writes on). It returns bdb.ErrTxnTooBig when ops alone do not fit
// in a transaction.
func (k *kv) apply(ops []op) error {
	w := &write{ops: ops, done: make(chan error, 1)}
	select {
	case k.queue <- w:
		return <-w.done
	case <-k.closing:
		return bdb.ErrDBClosed
	}
}

// newWriteBatch returns a WriteBatch whose writes all get the next
// version. It bypasses the committer.
func (k *kv) newWriteBatch() *bdb.WriteBatch {
	return k.db.NewWriteBatchAt(k.version.Add(1))
}

func (k *kv) commitLoop() {
	defer close(k.stopped)
	for {
		select {
		case w := <-k.queue:
			k.commitGroup(k.gather(w))
		case <-k.closing:
			return
		}
	}
}

// gather returns first and the writes queued behind it.
func (k *kv) gather(first *write) []*write {
	group := []*write{first}
	for len(group) < maxGroup {
		select {
		case w := <-k.queue:
			group = append(group, w)
		default:
			return group
		}
	}
	return group
}

// commitGroup commits the writes in as few transactions as they fit in,
// in order, each write whole in one of them.
func (k *kv) commitGroup(group []*write) {
	for len(group) > 0 {
		txn, n, err := k.fill(group)
		if n == 0 {
			// The first write does not fit alone (or is refused).
			group[0].done <- err
			group = group[1:]
			continue
		}
		err = k.commit(txn)
		for _, w := range group[:n] {
			w.done <- err
		}
		group = group[n:]
	}
}

// fill puts as many whole writes from the front of group into a new
// transaction as fit, and says how many. With 0 it returns why the first
// one could not be added.
func (k *kv) fill(group []*write) (*bdb.Txn, int, error) {
	txn := k.db.NewTransactionAt(math.MaxUint64, true)
	n := 0
	for _, w := range group {
		n += len(w.ops)
	}
	// One allocation for the entries of all sets, not one each; the
	// transaction keeps pointers to them until it is committed.
	ents := make([]bdb.Entry, 0, n)
	for i, w := range group {
		if err := w.addTo(txn, &ents); err != nil {
			txn.Discard()
			if i == 0 {
				return nil, 0, err
			}
			// A transaction cannot drop part of a write, so start over
			// with the writes that fitted.
			return k.fill(group[:i])
		}
	}
	return txn, len(group), nil
}

// addTo adds w's ops to txn, taking the entries of sets from the spare
// capacity of ents, which must suffice.
func (w *write) addTo(txn *bdb.Txn, ents *[]bdb.Entry) error {
	for _, o := range w.ops {
		var err error
		if o.del {
			err = txn.Delete(o.key)
		} else {
			*ents = append(*ents, bdb.Entry{Key: o.key, Value: o.val})
			err = txn.SetEntry(&(*ents)[len(*ents)-1])
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// commit commits txn at the next version.
func (k *kv) commit(txn *bdb.Txn) error {
	ts := k.version.Add(1)
	if err := txn.CommitAt(ts, nil); err != nil {
		return err
	}
	k.db.SetDiscardTs(ts)
	return nil
}

// maxDeletes is how many deletes of keys of keyLen bytes safely fit in one
// transaction: half of Badger's limits.
func (k *kv) maxDeletes(keyLen int) int {
	// Badger counts a delete as its key, 2 bytes of meta and 10 of
	// overhead.
	bySize := k.db.MaxBatchSize() / int64(keyLen+12)
	return int(max(1, min(k.db.MaxBatchCount(), bySize)/2))
}
