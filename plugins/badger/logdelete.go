package badger

import (
	"errors"
	"fmt"

	bdb "github.com/dgraph-io/badger/v4"
)

// DeleteRange deletes the entries with min <= index <= max.
func (s *LogStore) DeleteRange(minIdx, maxIdx uint64) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	return s.deleteRange(minIdx, maxIdx)
}

// deleteRange deletes [lo, hi]: batches inside it go, and a batch across
// one of its ends is written again with the entries outside it (the part
// after hi under the key of hi+1). Cutting the tail goes downwards and
// trimming the head upwards, in as few transactions as fit, so a crash
// midway leaves a log without holes. s.writeMu is held.
func (s *LogStore) deleteRange(lo, hi uint64) error {
	if lo > hi {
		return nil
	}
	hit := s.overlapping(lo, hi)
	if len(hit) == 0 {
		return nil
	}
	if last, _ := s.LastIndex(); hi >= last {
		for i, j := 0, len(hit)-1; i < j; i, j = i+1, j-1 {
			hit[i], hit[j] = hit[j], hit[i]
		}
	}
	chunk := s.kv.maxDeletes(len(s.prefix) + indexLen)
	var ops []op
	var gone, added []span
	for _, sp := range hit {
		spOps, spAdded, err := s.cut(sp, lo, hi)
		if err != nil {
			return errors.Join(err, s.reload())
		}
		ops, gone, added = append(ops, spOps...), append(gone, sp), append(added, spAdded...)
		if len(ops) >= chunk || len(spAdded) > 0 {
			if err := s.commitCut(ops, gone, added); err != nil {
				return err
			}
			ops, gone, added = nil, nil, nil
		}
	}
	if len(ops) == 0 {
		return nil
	}
	return s.commitCut(ops, gone, added)
}

// commitCut commits the ops of a delete and then moves the spans, holding
// s.mu for writing across both so no reader looks up a batch it moved.
func (s *LogStore) commitCut(ops []op, gone, added []span) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.kv.apply(ops); err != nil {
		return errors.Join(err, s.reloadLocked())
	}
	s.replaceSpans(gone, added)
	return nil
}

// cut returns the ops that delete [lo, hi] from the batch of sp, and the
// spans of what remains of it.
func (s *LogStore) cut(sp span, lo, hi uint64) ([]op, []span, error) {
	del := op{key: logKey(s.prefix, sp.first), del: true}
	if lo <= sp.first && sp.last <= hi {
		return []op{del}, nil, nil
	}
	entries, err := s.readBatch(sp)
	if err != nil {
		return nil, nil, err
	}
	var ops []op
	var kept []span
	if sp.first < lo { // the part before lo keeps the key
		before := entries[:lo-sp.first]
		ops = append(ops, op{key: del.key, val: rawBatch(before)})
		kept = append(kept, span{sp.first, lo - 1})
	} else {
		ops = append(ops, del)
	}
	if sp.last > hi {
		after := entries[hi+1-sp.first:]
		ops = append(ops, op{key: logKey(s.prefix, hi+1), val: rawBatch(after)})
		kept = append(kept, span{hi + 1, sp.last})
	}
	return ops, kept, nil
}

// rawBatch is the batch value of already encoded entries.
func rawBatch(entries [][]byte) []byte {
	size := 0
	for _, e := range entries {
		size += len(e)
	}
	buf := make([]byte, 0, batchLen(len(entries), size))
	return appendBatch(buf, len(entries), func(dst []byte, i int) []byte { return append(dst, entries[i]...) })
}

// readBatch returns the encoded entries of the batch of sp, in a copy of
// its value.
func (s *LogStore) readBatch(sp span) ([][]byte, error) {
	var entries [][]byte
	err := s.kv.view(func(txn *bdb.Txn) error {
		b, err := s.getBatch(txn, sp.first)
		if err == nil {
			entries, err = b.all()
		}
		return err
	})
	if err == nil && uint64(len(entries)) != sp.last-sp.first+1 {
		err = fmt.Errorf("%w: %d entries, want %d", errCorrupt, len(entries), sp.last-sp.first+1)
	}
	if err != nil {
		return nil, fmt.Errorf("log batch from index %d: %w", sp.first, err)
	}
	return entries, nil
}

// getBatch reads and parses a copy of the batch stored from index first.
func (s *LogStore) getBatch(txn *bdb.Txn, first uint64) (batch, error) {
	item, err := txn.Get(logKey(s.prefix, first))
	if errors.Is(err, bdb.ErrKeyNotFound) {
		return batch{}, fmt.Errorf("%w: the batch is missing", errCorrupt)
	}
	if err != nil {
		return batch{}, err
	}
	v, err := item.ValueCopy(nil)
	if err != nil {
		return batch{}, err
	}
	return parseBatch(v)
}

// reload reads the spans of every batch from the DB. On error the spans
// are left as they were.
func (s *LogStore) reload() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reloadLocked()
}

// reloadLocked is reload with s.mu held for writing.
func (s *LogStore) reloadLocked() error {
	var spans []span
	err := s.kv.view(func(txn *bdb.Txn) error {
		opts := bdb.DefaultIteratorOptions
		opts.Prefix = s.prefix
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			sp, err := readSpan(it.Item())
			if err != nil {
				return err
			}
			spans = append(spans, sp)
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.spans = spans
	return nil
}

// readSpan reads the span of the batch stored at item.
func readSpan(item *bdb.Item) (span, error) {
	first := keyIndex(item.Key())
	var count int
	err := item.Value(func(v []byte) error {
		b, err := parseBatch(v)
		count = b.count
		return err
	})
	if err != nil {
		return span{}, fmt.Errorf("log batch from index %d: %w", first, err)
	}
	return span{first, first + uint64(count) - 1}, nil
}
