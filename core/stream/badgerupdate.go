package stream

import (
	"encoding/binary"
	"fmt"
)

// Update applies u atomically (see BadgerStore).
func (s *BadgerStore) Update(u Update) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.closed {
		return ErrStoreClosed
	}
	if !s.db.enter() {
		return ErrStoreClosed
	}
	defer s.db.exit()
	if err := s.clean(); err != nil {
		return err
	}

	cur := s.meta
	if err := checkUpdate(cur.State, u); err != nil {
		return err
	}
	next := cur
	before := make([]uint64, len(u.Append)) // Total before each message
	for i, m := range u.Append {
		before[i] = next.Total
		size := m.Size()
		next.Total += size
		next.State = appendState(next.State, m, size)
	}
	r := planRemoval(next.State, s.holes, u)
	sizes, err := s.sizesOf(cur, u.Append, r.interior)
	if err != nil {
		return err
	}
	next.State, err = removeState(next.State, s.holes, r, sizes, func(first uint64) (int64, uint64, error) {
		held := s.holes.bytesFrom(first)
		if first > cur.LastSeq { // appended by u
			i := first - cur.LastSeq - 1
			return u.Append[i].Time, next.Total - before[i] - held, nil
		}
		t, b, err := s.readHead(first)
		return t, next.Total - b - held, err
	})
	if err != nil {
		return err
	}
	if u.Applied != 0 {
		next.Applied = u.Applied
	}
	return s.write(cur, next, u.Append, before, r, sizes)
}

// sizesOf returns the Size of each message seqs (held by cur or
// appended).
func (s *BadgerStore) sizesOf(cur storeMeta, appended []Message, seqs []uint64) ([]uint64, error) {
	sizes := make([]uint64, len(seqs))
	for i, seq := range seqs {
		if seq > cur.LastSeq {
			sizes[i] = appended[seq-cur.LastSeq-1].Size()
			continue
		}
		err := s.atSeq(seq, func(b batchView, j int) error {
			from, err := b.totalBefore(j)
			if err != nil {
				return err
			}
			to, err := b.totalBefore(j + 1)
			sizes[i] = to - from
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("stream %q: read message %d: %w", s.id, seq, err)
		}
	}
	return sizes, nil
}

// clean deletes the batches a failed Update may have left past LastSeq.
func (s *BadgerStore) clean() error {
	if !s.dirty {
		return nil
	}
	n, err := s.deletePastLast()
	if err != nil {
		return fmt.Errorf("stream %q: delete batches of a failed update: %w", s.id, err)
	}
	s.dirty = false
	if n > 0 {
		s.db.logger.Debug("deleted batches of a failed update", "stream", s.id, "keys", n)
	}
	return nil
}

// write commits the change from cur to next: the batches of the
// appended msgs that stay (before holds the Total before each), the meta
// key, and the deletes of the batches wholly removed.
func (s *BadgerStore) write(cur, next storeMeta, msgs []Message, before []uint64, r removal, sizes []uint64) error {
	w := txnWriter{db: s.db.db}
	defer w.discard()
	k := 0
	for k < len(msgs) && msgs[k].Seq < next.FirstSeq {
		k++
	}
	keys, vals := s.encodeBatches(msgs[k:], before[k:])
	for i := range keys {
		if err := w.set(keys[i], vals[i]); err != nil {
			s.dirty = true
			return fmt.Errorf("stream %q: write messages: %w", s.id, err)
		}
	}
	// Holes lie inside the committed range, where a key is seen at once:
	// they go in the commit point's transaction alone with the meta key
	// (an update removes at most MaxRemove, which fits one).
	if len(r.interior) > 0 {
		if err := w.commit(); err != nil {
			s.dirty = true
			return fmt.Errorf("stream %q: write messages: %w", s.id, err)
		}
	}
	for i, seq := range r.interior {
		if err := w.set(msgKey(s.holePrefix, seq), binary.AppendUvarint(nil, sizes[i])); err != nil {
			s.dirty = true
			return fmt.Errorf("stream %q: write holes: %w", s.id, err)
		}
	}
	if err := w.set(s.metaKey, appendMeta(nil, next)); err != nil {
		s.dirty = true
		return fmt.Errorf("stream %q: write meta: %w", s.id, err)
	}
	// Readers see the new state as soon as the keys it drops may be
	// gone: a Get that misses a message finds State without it.
	nextHoles := s.holes.next(r, sizes)
	if next.Msgs == 0 {
		nextHoles = nil
	}
	w.arm(&s.mu, func() { s.meta, s.holes = next, nextHoles })
	err := s.deleteRemoved(&w, cur, next)
	if err == nil {
		err = w.commit()
	}
	switch {
	case err == nil:
		return nil
	case !w.passed:
		s.dirty = true
		return fmt.Errorf("stream %q: update: %w", s.id, err)
	default:
		// The update is in; only some deletes of removed batches are
		// not. Their keys are below FirstSeq, so unseen, and the next
		// Open deletes them.
		s.db.logger.Warn("deleting removed messages failed", "stream", s.id, "error", err)
		return nil
	}
}

// deleteRemoved adds to w the deletes of the batches cur holds whose
// messages next holds none of: those ending before next's FirstSeq.
func (s *BadgerStore) deleteRemoved(w *txnWriter, cur, next storeMeta) error {
	if cur.Msgs == 0 || next.FirstSeq <= cur.FirstSeq {
		return nil
	}
	// Every batch cur holds ends at cur.FirstSeq or after; so does every
	// hole, which the prefix takes with it.
	from, to := msgKey(s.msgPrefix, cur.FirstSeq), msgKey(s.msgPrefix, next.FirstSeq)
	if err := s.db.scanKeys(s.msgPrefix, from, to, w.delete); err != nil || len(s.holes) == 0 {
		return err
	}
	from, to = msgKey(s.holePrefix, cur.FirstSeq), msgKey(s.holePrefix, next.FirstSeq)
	return s.db.scanKeys(s.holePrefix, from, to, w.delete)
}

// encodeBatches returns the keys and values of the batches of msgs
// (before holds the Total before each), in one allocation for all
// values and one for all keys.
func (s *BadgerStore) encodeBatches(msgs []Message, before []uint64) ([][]byte, [][]byte) {
	var cuts []int // where each batch ends in msgs
	n := 0
	for i := 0; i < len(msgs); {
		j := i + s.db.cut(msgs[i:])
		n += batchLen(msgs[i:j], before[i])
		cuts = append(cuts, j)
		i = j
	}
	keyLen := len(s.msgPrefix) + seqLen
	keyBuf := make([]byte, 0, keyLen*len(cuts))
	valBuf := make([]byte, 0, n)
	keys := make([][]byte, len(cuts))
	vals := make([][]byte, len(cuts))
	i := 0
	for c, j := range cuts {
		k := len(keyBuf)
		keyBuf = append(keyBuf, s.msgPrefix...)
		keyBuf = binary.BigEndian.AppendUint64(keyBuf, msgs[j-1].Seq)
		keys[c] = keyBuf[k:len(keyBuf):len(keyBuf)]
		v := len(valBuf)
		valBuf = appendBatch(valBuf, msgs[i:j], before[i])
		vals[c] = valBuf[v:len(valBuf):len(valBuf)]
		i = j
	}
	return keys, vals
}

// cut returns how many of msgs (at least one) go in the next batch: at
// most batchMsgs, with at most batchBytes of bodies unless the first
// message alone has more.
func (d *DB) cut(msgs []Message) int {
	n, size := 0, 0
	for n < len(msgs) && (n == 0 || n < d.batchMsgs) {
		size += bodyLen(msgs[n])
		if n > 0 && size > d.batchBytes {
			break
		}
		n++
	}
	return n
}
