package badger

import (
	"errors"
	"fmt"
	"math"
	"sync"

	bdb "github.com/dgraph-io/badger/v4"
	"github.com/hashicorp/raft"
)

var _ raft.LogStore = (*LogStore)(nil)

// LogStore is one group's raft log. Its first and last indexes are kept in
// memory: loaded when the store is opened and moved by every write, which
// are serialized per group so the cache cannot fall behind the DB.
type LogStore struct {
	kv     *kv
	prefix []byte

	// writeMu serializes StoreLogs and DeleteRange, from their first read
	// of the bounds to their update of them.
	writeMu sync.Mutex

	mu          sync.RWMutex // guards the bounds below
	has         bool         // whether the log holds any entry
	first, last uint64
}

func newLogStore(kv *kv, group string) (*LogStore, error) {
	s := &LogStore{kv: kv, prefix: groupPrefix(kindLog, group, indexLen)}
	if err := s.reload(); err != nil {
		return nil, err
	}
	return s, nil
}

// FirstIndex returns the lowest index stored, 0 for an empty log.
func (s *LogStore) FirstIndex() (uint64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.first, nil
}

// LastIndex returns the highest index stored, 0 for an empty log.
func (s *LogStore) LastIndex() (uint64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.last, nil
}

// GetLog reads the entry at index into log, or returns
// raft.ErrLogNotFound.
func (s *LogStore) GetLog(index uint64, log *raft.Log) error {
	var val []byte
	err := s.kv.view(func(txn *bdb.Txn) error {
		item, err := txn.Get(logKey(s.prefix, index))
		if err != nil {
			return err
		}
		val, err = item.ValueCopy(nil)
		return err
	})
	if errors.Is(err, bdb.ErrKeyNotFound) {
		return raft.ErrLogNotFound
	}
	if err != nil {
		return err
	}
	if err := decodeLog(val, log); err != nil {
		return fmt.Errorf("index %d: %w", index, err)
	}
	if log.Index != index {
		return fmt.Errorf("index %d: %w: entry says index %d", index, errCorrupt, log.Index)
	}
	return nil
}

// StoreLog stores one entry.
func (s *LogStore) StoreLog(log *raft.Log) error {
	return s.StoreLogs([]*raft.Log{log})
}

// StoreLogs stores logs in one transaction, which concurrent writes of
// other groups may share; with sync_writes on it is synced before
// StoreLogs returns. A batch too big for one transaction goes through a
// WriteBatch: still synced on return, but a crash midway can keep a prefix
// of it (entries are written in the order given).
func (s *LogStore) StoreLogs(logs []*raft.Log) error {
	if len(logs) == 0 {
		return nil
	}
	enc := s.encode(logs)
	defer enc.release()
	lo, hi := logs[0].Index, logs[0].Index
	for _, l := range logs[1:] {
		lo, hi = min(lo, l.Index), max(hi, l.Index)
	}

	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.write(enc.ops); err != nil {
		// Part of a WriteBatch may have landed; learn the bounds again.
		return errors.Join(err, s.reload())
	}
	s.mu.Lock()
	if !s.has || lo < s.first {
		s.first = lo
	}
	if !s.has || hi > s.last {
		s.last = hi
	}
	s.has = true
	s.mu.Unlock()
	return nil
}

// encoded is the keys and values of one StoreLogs, laid out in one buffer.
// Badger copies them into its WAL and memtable before a commit returns, so
// the buffers are reused through encodedPool once the write is done.
type encoded struct {
	buf []byte
	ops []op
}

// maxPooled bounds the buffer kept for reuse, so one huge batch does not
// stay pinned.
const maxPooled = 4 << 20

var encodedPool = sync.Pool{New: func() any { return new(encoded) }}

// encode lays the keys and values of logs out in one buffer. Call release
// when the write is done.
func (s *LogStore) encode(logs []*raft.Log) *encoded {
	size := 0
	for _, l := range logs {
		size += len(s.prefix) + indexLen + encodedLen(l)
	}
	e := encodedPool.Get().(*encoded)
	if cap(e.buf) < size {
		e.buf = make([]byte, 0, size) // never grows, so earlier slices stay valid
	}
	if cap(e.ops) < len(logs) {
		e.ops = make([]op, len(logs))
	}
	buf, ops := e.buf[:0], e.ops[:len(logs)]
	for i, l := range logs {
		n := len(buf)
		buf = appendLogKey(buf, s.prefix, l.Index)
		ops[i].key = buf[n:len(buf):len(buf)]
		n = len(buf)
		buf = appendLog(buf, l)
		ops[i].val = buf[n:len(buf):len(buf)]
	}
	e.ops = ops
	return e
}

// release returns e to the pool; its ops must no longer be referenced.
func (e *encoded) release() {
	if cap(e.buf) > maxPooled {
		return
	}
	clear(e.ops) // drop references to the buffer
	encodedPool.Put(e)
}

// write commits ops in one transaction, or in a WriteBatch if they do not
// fit in one.
func (s *LogStore) write(ops []op) error {
	err := s.kv.apply(ops)
	if errors.Is(err, bdb.ErrTxnTooBig) {
		return s.writeBatch(ops)
	}
	return err
}

// writeBatch writes through a WriteBatch, which splits the writes into
// transactions that Badger commits in order; Flush returns once all are
// written (and synced, with sync_writes on).
func (s *LogStore) writeBatch(ops []op) error {
	wb := s.kv.newWriteBatch()
	defer wb.Cancel()
	for _, o := range ops {
		if err := wb.Set(o.key, o.val); err != nil {
			return err
		}
	}
	return wb.Flush()
}

// DeleteRange deletes the entries with min <= index <= max.
func (s *LogStore) DeleteRange(minIdx, maxIdx uint64) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()

	s.mu.RLock()
	has, first, last := s.has, s.first, s.last
	s.mu.RUnlock()
	if !has || minIdx > maxIdx || maxIdx < first || minIdx > last {
		return nil
	}
	lo, hi := max(minIdx, first), min(maxIdx, last)
	// Cutting the tail goes downwards and trimming the head upwards, so a
	// crash midway leaves a log without holes.
	if err := s.deleteKeys(lo, hi, hi == last); err != nil {
		return errors.Join(err, s.reload())
	}
	return s.boundsAfterDelete(lo, hi, first, last)
}

// deleteKeys deletes the stored entries in [lo, hi], walking down when
// descending, in as few transactions as fit.
func (s *LogStore) deleteKeys(lo, hi uint64, descending bool) error {
	chunk := s.kv.maxDeletes(len(s.prefix) + indexLen)
	var ops []op
	err := s.kv.view(func(view *bdb.Txn) error {
		it := view.NewIterator(s.keyIteratorOptions(descending))
		defer it.Close()
		start := lo
		if descending {
			start = hi
		}
		for it.Seek(logKey(s.prefix, start)); it.ValidForPrefix(s.prefix); it.Next() {
			idx := keyIndex(it.Item().Key())
			if idx < lo || idx > hi {
				return nil
			}
			ops = append(ops, op{key: logKey(s.prefix, idx), del: true})
			if len(ops) == chunk {
				if err := s.kv.apply(ops); err != nil {
					return err
				}
				ops = ops[:0]
			}
		}
		return nil
	})
	if err != nil || len(ops) == 0 {
		return err
	}
	return s.kv.apply(ops)
}

// boundsAfterDelete moves the cached bounds past a deleted [lo, hi] that
// lay within [first, last], seeking only from outside the deleted range so
// its fresh tombstones are not walked.
func (s *LogStore) boundsAfterDelete(lo, hi, first, last uint64) error {
	newFirst, newLast := first, last
	found := true
	var err error
	if lo == first {
		newFirst, found, err = s.seek(hi, false)
	}
	if err == nil && found && hi == last {
		newLast, found, err = s.seek(lo, true)
	}
	if err != nil {
		return errors.Join(err, s.reload())
	}
	s.setBounds(found, newFirst, newLast)
	return nil
}

// seek returns the first index after from, or with reverse the last
// index before it.
func (s *LogStore) seek(from uint64, reverse bool) (uint64, bool, error) {
	if (!reverse && from == math.MaxUint64) || (reverse && from == 0) {
		return 0, false, nil
	}
	if reverse {
		return s.seekIndex(from-1, true)
	}
	return s.seekIndex(from+1, false)
}

// seekIndex returns the first stored index >= from, or with reverse the
// last one <= from.
func (s *LogStore) seekIndex(from uint64, reverse bool) (idx uint64, found bool, err error) {
	err = s.kv.view(func(txn *bdb.Txn) error {
		it := txn.NewIterator(s.keyIteratorOptions(reverse))
		defer it.Close()
		it.Seek(logKey(s.prefix, from))
		if it.ValidForPrefix(s.prefix) {
			idx, found = keyIndex(it.Item().Key()), true
		}
		return nil
	})
	return idx, found, err
}

// keyIteratorOptions iterates the group's log keys without their values.
func (s *LogStore) keyIteratorOptions(reverse bool) bdb.IteratorOptions {
	opts := bdb.DefaultIteratorOptions
	opts.PrefetchValues = false
	opts.Reverse = reverse
	opts.Prefix = s.prefix
	return opts
}

// reload reads both bounds from the DB. On error the cache is left as it
// was.
func (s *LogStore) reload() error {
	first, found, err := s.seekIndex(0, false)
	if err != nil {
		return err
	}
	var last uint64
	if found {
		if last, found, err = s.seekIndex(math.MaxUint64, true); err != nil {
			return err
		}
	}
	s.setBounds(found, first, last)
	return nil
}

func (s *LogStore) setBounds(has bool, first, last uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !has {
		first, last = 0, 0
	}
	s.has, s.first, s.last = has, first, last
}
