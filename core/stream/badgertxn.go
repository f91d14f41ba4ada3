package stream

import (
	"errors"
	"sync"

	"github.com/dgraph-io/badger/v4"
)

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
