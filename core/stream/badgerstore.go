package stream

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/dgraph-io/badger/v4"
)

var _ Store = (*BadgerStore)(nil)

// BadgerStore is a Store of one stream in a node's DB.
//
// Each Update writes its appended messages as one batch key (more when
// they exceed DB.batchMsgs or DB.batchBytes), keyed by the sequence of
// the batch's last message; see badgercodec.go for the value. A Get
// seeks to the first key at or after its sequence. A removal deletes the
// batches wholly removed; a batch holding both removed and kept messages
// stays, its removed ones masked by FirstSeq until a later removal takes
// the whole batch.
//
// Its meta key holds the State, the applied index and the Total bytes
// ever appended; every batch holds the Total before it and each of its
// messages' sizes, so the bytes left after a removal are read from the
// batch of the new first message alone.
//
// An Update commits the batches it appends and its meta key in one
// transaction, whose commit is the update's commit point. Appends too big
// for one transaction go in transactions before it: past the committed
// LastSeq, they are unseen until the commit point. The keys of removed
// batches are deleted in the commit point's transaction and, when many,
// in transactions after it, before Update returns: below FirstSeq, they
// are already unseen. A crash between them leaves such keys stale; Open
// deletes them. An Update that fails before its commit point may leave
// batches past LastSeq too; the next Update deletes them first, before
// its own batches (with other boundaries) could be shadowed by them. The
// commit point's transaction commits under the lock of the store's
// state, so readers see the keys and the state change together.
type BadgerStore struct {
	db         *DB
	id         string
	metaKey    []byte
	msgPrefix  []byte
	holePrefix []byte

	// wmu serializes Update, Close and Delete; under it the fields below
	// can be read without mu.
	wmu sync.Mutex
	// dirty is set when an Update failed before its commit point: keys
	// past LastSeq may be left.
	dirty bool

	mu     sync.RWMutex
	meta   storeMeta
	holes  holes // the h keys, read at Open
	closed bool
}

// storeMeta is what a stream's meta key holds.
type storeMeta struct {
	State
	Applied uint64
	// Total is the Size of every message ever appended.
	Total uint64
}

// openBadgerStore loads a stream's meta and deletes its stale keys.
func openBadgerStore(d *DB, id string) (*BadgerStore, error) {
	s := &BadgerStore{
		db:         d,
		id:         id,
		metaKey:    streamPrefix(kindMeta, id),
		msgPrefix:  streamPrefix(kindMsg, id),
		holePrefix: streamPrefix(kindHole, id),
		meta:       storeMeta{State: State{FirstSeq: 1}},
	}
	err := d.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(s.metaKey)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error {
			s.meta, err = decodeMeta(v)
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	if err := s.loadHoles(); err != nil {
		return nil, fmt.Errorf("read holes: %w", err)
	}
	n, err := s.db.deleteKeys(s.msgPrefix, s.msgPrefix, msgKey(s.msgPrefix, s.meta.FirstSeq))
	if err == nil {
		var m int
		m, err = s.deletePastLast()
		n += m
	}
	if err != nil {
		return nil, fmt.Errorf("delete stale messages: %w", err)
	}
	if n > 0 {
		d.logger.Info("deleted stale message batches", "stream", id, "keys", n)
	}
	return s, nil
}

// loadHoles reads the h keys of the messages removed from inside the
// range (stale ones, outside it, are deleted) and counts them out of Msgs.
func (s *BadgerStore) loadHoles() error {
	var stale [][]byte
	err := s.db.scanValues(s.holePrefix, func(key, val []byte) error {
		seq := binary.BigEndian.Uint64(key[len(s.holePrefix):])
		if seq <= s.meta.FirstSeq || seq > s.meta.LastSeq {
			stale = append(stale, key)
			return nil
		}
		size, n := binary.Uvarint(val)
		if n <= 0 || len(key) != len(s.holePrefix)+seqLen {
			return fmt.Errorf("%w: hole %q", errCorruptValue, key)
		}
		if s.holes == nil {
			s.holes = holes{}
		}
		s.holes[seq] = size
		return nil
	})
	if err != nil {
		return err
	}
	s.meta.Msgs -= uint64(len(s.holes))
	w := txnWriter{db: s.db.db}
	defer w.discard()
	for _, k := range stale {
		if err := w.delete(k); err != nil {
			return err
		}
	}
	return w.commit()
}

// deletePastLast deletes the batch keys past LastSeq, which no update
// committed. Batches below FirstSeq (by their last message) are
// deleted by Open.
func (s *BadgerStore) deletePastLast() (int, error) {
	if s.meta.LastSeq == math.MaxUint64 {
		return 0, nil
	}
	return s.db.deleteKeys(s.msgPrefix, msgKey(s.msgPrefix, s.meta.LastSeq+1), nil)
}

// Get reads message seq.
func (s *BadgerStore) Get(seq uint64) (Message, error) {
	s.mu.RLock()
	st, closed := s.meta.State, s.closed
	_, hole := s.holes[seq]
	s.mu.RUnlock()
	if closed {
		return Message{}, ErrStoreClosed
	}
	if hole || seq < st.FirstSeq || seq > st.LastSeq {
		return Message{}, ErrMsgNotFound
	}
	if !s.db.enter() {
		return Message{}, ErrStoreClosed
	}
	defer s.db.exit()
	var m Message
	err := s.atSeq(seq, func(b batchView, i int) error {
		body, err := b.body(i)
		if err == nil {
			m, err = decodeBody(body)
		}
		return err
	})
	switch {
	case errors.Is(err, ErrMsgNotFound) && s.holds(seq):
		return Message{}, fmt.Errorf("%w: stream %q: message %d is in the stream but cannot be read from its files", ErrStoreCorrupt, s.id, seq)
	case errors.Is(err, ErrMsgNotFound):
		return Message{}, err // removed since the state was read
	case err != nil:
		return Message{}, fmt.Errorf("stream %q: read message %d: %w", s.id, seq, err)
	}
	m.Seq = seq
	return m, nil
}

// holds reports whether the store's state holds message seq.
func (s *BadgerStore) holds(seq uint64) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, hole := s.holes[seq]
	return !hole && seq >= s.meta.FirstSeq && seq <= s.meta.LastSeq
}

// readHead returns the time of message seq and the Total before it.
func (s *BadgerStore) readHead(seq uint64) (int64, uint64, error) {
	var t int64
	var before uint64
	err := s.atSeq(seq, func(b batchView, i int) error {
		body, err := b.body(i)
		if err == nil {
			t, err = bodyTime(body)
		}
		if err == nil {
			before, err = b.totalBefore(i)
		}
		return err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("stream %q: read message %d: %w", s.id, seq, err)
	}
	return t, before, nil
}

// atSeq calls fn with the batch holding message seq, the first at or
// after seq, and the message's index in it, while the batch's value is
// valid. It returns ErrMsgNotFound if no batch holds seq.
func (s *BadgerStore) atSeq(seq uint64, fn func(b batchView, i int) error) error {
	return s.db.db.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.PrefetchValues = false
		opts.Prefix = s.msgPrefix
		it := txn.NewIterator(opts)
		defer it.Close()
		it.Seek(msgKey(s.msgPrefix, seq))
		if !it.Valid() {
			return ErrMsgNotFound
		}
		return s.inBatch(it.Item(), seq, fn)
	})
}

// inBatch calls fn with the batch of item and the index of message seq
// in it, or returns ErrMsgNotFound if the batch does not hold seq.
func (s *BadgerStore) inBatch(item *badger.Item, seq uint64, fn func(b batchView, i int) error) error {
	key := item.Key()
	if len(key) != len(s.msgPrefix)+seqLen {
		return fmt.Errorf("%w: key %q", errCorruptValue, key)
	}
	last := binary.BigEndian.Uint64(key[len(s.msgPrefix):])
	return item.Value(func(v []byte) error {
		b, err := parseBatch(v)
		switch {
		case err != nil:
			return fmt.Errorf("batch ending at %d: %w", last, err)
		case uint64(b.n) > last:
			return fmt.Errorf("%w: batch of %d ending at %d", errCorruptValue, b.n, last)
		case seq > last || seq <= last-uint64(b.n): // its batch is gone
			return ErrMsgNotFound
		}
		return fn(b, b.n-1-int(last-seq))
	})
}

// State returns what the store holds.
func (s *BadgerStore) State() State {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.meta.State
}

// Applied returns the last Update's Applied index that was not 0.
func (s *BadgerStore) Applied() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.meta.Applied
}

// Sync syncs the whole DB, other streams' writes included.
func (s *BadgerStore) Sync() error {
	s.mu.RLock()
	closed := s.closed
	s.mu.RUnlock()
	if closed || !s.db.enter() {
		return ErrStoreClosed
	}
	defer s.db.exit()
	return s.db.db.Sync()
}

// Close releases the store; its data stays in the DB.
func (s *BadgerStore) Close() error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.closed {
		return ErrStoreClosed
	}
	s.setClosed()
	s.db.forget(s)
	return nil
}

// Delete closes the store and deletes its messages, stale ones
// included, then its meta key.
func (s *BadgerStore) Delete() error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.closed {
		return ErrStoreClosed
	}
	s.setClosed()
	defer s.db.forget(s)
	if !s.db.enter() {
		return ErrStoreClosed
	}
	defer s.db.exit()
	var err error
	if s.meta.Msgs >= s.db.dropPrefixMin {
		err = s.db.db.DropPrefix(s.msgPrefix)
	} else {
		_, err = s.db.deleteKeys(s.msgPrefix, s.msgPrefix, nil)
	}
	if err == nil {
		_, err = s.db.deleteKeys(s.holePrefix, s.holePrefix, nil)
	}
	if err == nil {
		w := txnWriter{db: s.db.db}
		if err = w.delete(s.metaKey); err == nil {
			err = w.commit()
		}
		w.discard()
	}
	if err != nil {
		return fmt.Errorf("delete stream %q: %w", s.id, err)
	}
	s.db.logger.Debug("deleted message store", "stream", s.id)
	return nil
}

// markClosed closes the store for DB.Close.
func (s *BadgerStore) markClosed() {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.setClosed()
}

// setClosed marks the store closed; the caller holds wmu.
func (s *BadgerStore) setClosed() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
}
