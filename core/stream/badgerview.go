package stream

import (
	"encoding/binary"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

var _ Viewer = (*BadgerStore)(nil)

// View returns a view of the store read through one Badger transaction:
// Badger keeps every version that transaction can see until it is
// discarded, so removals after the view was taken do not reach it. The
// view holds the DB open: Close it.
func (s *BadgerStore) View() (View, error) {
	if !s.db.enter() {
		return nil, ErrStoreClosed
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		s.db.exit()
		return nil, ErrStoreClosed
	}
	// Updates commit their state under s.mu: the transaction sees the
	// batches of exactly this state (and perhaps appends past it).
	return &badgerView{s: s, state: s.meta.State, holes: s.holes.clone(), txn: s.db.db.NewTransaction(false)}, nil
}

type badgerView struct {
	s     *BadgerStore
	state State
	holes holes
	txn   *badger.Txn
}

func (v *badgerView) State() State { return v.state }

func (v *badgerView) Close() error {
	v.txn.Discard()
	v.s.db.exit()
	return nil
}

// Scan reads the batches holding first..LastSeq in key order.
func (v *badgerView) Scan(first uint64, fn func(Message) error) error {
	first = max(first, v.state.FirstSeq)
	if first > v.state.LastSeq {
		return nil
	}
	opts := badger.DefaultIteratorOptions
	opts.Prefix = v.s.msgPrefix
	opts.PrefetchSize = 16
	it := v.txn.NewIterator(opts)
	defer it.Close()
	for it.Seek(msgKey(v.s.msgPrefix, first)); it.Valid(); it.Next() {
		done, err := v.scanBatch(it.Item(), first, fn)
		if err != nil || done {
			return err
		}
	}
	return fmt.Errorf("stream %q: view: %w: batches end before sequence %d", v.s.id, errCorruptValue, v.state.LastSeq)
}

// scanBatch calls fn with the batch's messages in [first, LastSeq]; it
// reports whether LastSeq was reached.
func (v *badgerView) scanBatch(item *badger.Item, first uint64, fn func(Message) error) (bool, error) {
	key := item.Key()
	if len(key) != len(v.s.msgPrefix)+seqLen {
		return false, fmt.Errorf("%w: key %q", errCorruptValue, key)
	}
	last := binary.BigEndian.Uint64(key[len(v.s.msgPrefix):])
	var done bool
	err := item.Value(func(val []byte) error {
		b, err := parseBatch(val)
		if err != nil {
			return fmt.Errorf("batch ending at %d: %w", last, err)
		}
		for i := range b.n {
			seq := last - uint64(b.n-1-i)
			if seq < first {
				continue
			}
			if seq > v.state.LastSeq {
				done = true
				return nil
			}
			if _, hole := v.holes[seq]; hole {
				done = seq == v.state.LastSeq
				continue
			}
			if err := v.emit(b, i, seq, fn); err != nil {
				return err
			}
			done = seq == v.state.LastSeq
		}
		return nil
	})
	return done, err
}

func (v *badgerView) emit(b batchView, i int, seq uint64, fn func(Message) error) error {
	body, err := b.body(i)
	if err != nil {
		return err
	}
	m, err := decodeBody(body)
	if err != nil {
		return fmt.Errorf("stream %q: message %d: %w", v.s.id, seq, err)
	}
	m.Seq = seq
	return fn(m)
}
