package stream

import (
	"bytes"
	"encoding/binary"

	"github.com/dgraph-io/badger/v4"
)

// Key layout. Every stream of a node shares the one DB; a stream's keys
// sit under a prefix holding its id with its length in front, so no
// stream's prefix is a prefix of another's ("a" and "ab" stay apart):
//
//	m <uvarint len(id)> <id>                         meta: State, applied index
//	d <uvarint len(id)> <id> <8-byte big-endian seq>  batch of messages ending at seq
//	h <uvarint len(id)> <id> <8-byte big-endian seq>  hole: message seq removed from
//	                                                  inside the range; value uvarint Size
//
// Big-endian sequences sort numerically, so a range of a stream's
// batches is one contiguous key range, and the batch holding a message
// is the first at or after the message's sequence.
const (
	kindMeta byte = 'm'
	kindMsg  byte = 'd'
	kindHole byte = 'h'

	seqLen = 8
)

// streamPrefix returns kind, the length of id and id.
func streamPrefix(kind byte, id string) []byte {
	b := make([]byte, 0, 1+binary.MaxVarintLen64+len(id))
	b = append(b, kind)
	b = binary.AppendUvarint(b, uint64(len(id)))
	return append(b, id...)
}

// msgKey returns the key of the batch ending at seq under a stream's
// message prefix.
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

// scanKeys calls fn with a copy of each key under prefix from from up to
// (not including) to, or to the end of prefix with a nil to, in order.
func (d *DB) scanKeys(prefix, from, to []byte, fn func(key []byte) error) error {
	return d.db.View(func(txn *badger.Txn) error {
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
			if err := fn(item.KeyCopy(nil)); err != nil {
				return err
			}
		}
		return nil
	})
}

// scanValues calls fn with a copy of each key under prefix and its
// value (valid only during the call), in order.
func (d *DB) scanValues(prefix []byte, fn func(key, val []byte) error) error {
	return d.db.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix = prefix
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			key := item.KeyCopy(nil)
			if err := item.Value(func(v []byte) error { return fn(key, v) }); err != nil {
				return err
			}
		}
		return nil
	})
}

// deleteKeys deletes the keys scanKeys finds, in transactions as big as
// Badger allows. It returns how many it deleted.
func (d *DB) deleteKeys(prefix, from, to []byte) (int, error) {
	w := txnWriter{db: d.db}
	defer w.discard()
	n := 0
	err := d.scanKeys(prefix, from, to, func(key []byte) error {
		n++
		return w.delete(key)
	})
	if err == nil {
		err = w.commit()
	}
	return n, err
}
