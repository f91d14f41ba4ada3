package badger

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"

	bdb "github.com/dgraph-io/badger/v4"
	"github.com/hashicorp/raft"
)

var _ raft.LogStore = (*LogStore)(nil)

// LogStore is one group's raft log, stored as batches (batch.go): one
// Badger key per run of consecutive entries written together. The store
// keeps the index range of every batch in memory (loaded when the store
// is opened, moved by every write; writes are serialized per group), so a
// read is one point lookup and the bounds cost nothing.
type LogStore struct {
	kv       *kv
	prefix   []byte
	group    string
	maxBytes int // of one batch value: below Badger's value threshold

	// writeMu serializes StoreLogs and DeleteRange.
	writeMu sync.Mutex

	// mu guards spans. Writers that remove or move batches hold it for
	// writing across their commit, so a reader never looks a batch up in
	// spans that its key no longer holds.
	mu    sync.RWMutex
	spans []span // the stored batches, ascending and disjoint
}

// span is the index range of one stored batch.
type span struct{ first, last uint64 }

func newLogStore(kv *kv, group string) (*LogStore, error) {
	s := &LogStore{
		kv: kv, group: group, prefix: groupPrefix(kindBatch, group, indexLen),
		maxBytes: int(kv.db.Opts().ValueThreshold / 2),
	}
	if err := s.migrate(); err != nil {
		return nil, err
	}
	if err := s.reload(); err != nil {
		return nil, err
	}
	return s, nil
}

// FirstIndex returns the lowest index stored, 0 for an empty log.
func (s *LogStore) FirstIndex() (uint64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if len(s.spans) == 0 {
		return 0, nil
	}
	return s.spans[0].first, nil
}

// LastIndex returns the highest index stored, 0 for an empty log.
func (s *LogStore) LastIndex() (uint64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if len(s.spans) == 0 {
		return 0, nil
	}
	return s.spans[len(s.spans)-1].last, nil
}

// GetLog reads the entry at index into log, or returns
// raft.ErrLogNotFound.
func (s *LogStore) GetLog(index uint64, log *raft.Log) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	sp, ok := s.find(index)
	if !ok {
		return raft.ErrLogNotFound
	}
	var enc []byte
	err := s.kv.view(func(txn *bdb.Txn) error {
		item, err := txn.Get(logKey(s.prefix, sp.first))
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error {
			b, err := parseBatch(v)
			if err == nil {
				enc, err = b.entry(int(index - sp.first))
			}
			enc = bytes.Clone(enc) // v is valid only in here
			return err
		})
	})
	if errors.Is(err, bdb.ErrKeyNotFound) {
		err = fmt.Errorf("%w: the batch from index %d is missing", errCorrupt, sp.first)
	}
	if err == nil {
		err = decodeLog(enc, log)
	}
	if err == nil && log.Index != index {
		err = fmt.Errorf("%w: entry says index %d", errCorrupt, log.Index)
	}
	if err != nil {
		return fmt.Errorf("index %d: %w", index, err)
	}
	return nil
}

// find returns the span that holds index; s.mu is held.
func (s *LogStore) find(index uint64) (span, bool) {
	i := sort.Search(len(s.spans), func(i int) bool { return s.spans[i].last >= index })
	if i == len(s.spans) || s.spans[i].first > index {
		return span{}, false
	}
	return s.spans[i], true
}

// overlapping returns the spans that hold an index in [lo, hi].
func (s *LogStore) overlapping(lo, hi uint64) []span {
	s.mu.RLock()
	defer s.mu.RUnlock()
	i := sort.Search(len(s.spans), func(i int) bool { return s.spans[i].last >= lo })
	j := i
	for j < len(s.spans) && s.spans[j].first <= hi {
		j++
	}
	return slices.Clone(s.spans[i:j])
}

// StoreLog stores one entry.
func (s *LogStore) StoreLog(log *raft.Log) error {
	return s.StoreLogs([]*raft.Log{log})
}

// StoreLogs stores logs in one transaction, which concurrent writes of
// other groups may share; with sync_writes on it is synced before
// StoreLogs returns. Entries already stored at the indexes given are
// deleted first. A batch too big for one transaction goes through a
// WriteBatch: still synced on return, but a crash midway can keep a prefix
// of it (batches are written in index order).
func (s *LogStore) StoreLogs(logs []*raft.Log) error {
	if len(logs) == 0 {
		return nil
	}
	runs := consecutiveRuns(logs)
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	for _, r := range runs {
		if err := s.deleteRange(r[0].Index, r[len(r)-1].Index); err != nil {
			return err
		}
	}
	enc := s.encode(runs)
	defer enc.release()
	if err := s.write(enc.ops); err != nil {
		// Part of a WriteBatch may have landed; learn the batches again.
		return errors.Join(err, s.reload())
	}
	s.mu.Lock()
	s.replaceSpans(nil, enc.spans)
	s.mu.Unlock()
	return nil
}

// consecutiveRuns splits logs into runs of consecutive indexes, in index
// order; of entries given twice the last one counts. Raft's StoreLogs is
// one run already, returned without copying.
func consecutiveRuns(logs []*raft.Log) [][]*raft.Log {
	ordered := true
	for i := 1; i < len(logs) && ordered; i++ {
		ordered = logs[i].Index == logs[i-1].Index+1
	}
	if ordered {
		return [][]*raft.Log{logs}
	}
	sorted := slices.Clone(logs)
	slices.SortStableFunc(sorted, func(a, b *raft.Log) int { return cmpIndex(a.Index, b.Index) })
	var runs [][]*raft.Log
	for i, l := range sorted {
		switch {
		case i+1 < len(sorted) && sorted[i+1].Index == l.Index:
			continue // a later one replaces it
		case len(runs) > 0 && runs[len(runs)-1][len(runs[len(runs)-1])-1].Index+1 == l.Index:
			runs[len(runs)-1] = append(runs[len(runs)-1], l)
		default:
			runs = append(runs, []*raft.Log{l})
		}
	}
	return runs
}

func cmpIndex(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// replaceSpans removes the spans old from s.spans and adds added; s.mu is
// held for writing.
func (s *LogStore) replaceSpans(old, added []span) {
	if len(old) == 0 && len(added) > 0 && (len(s.spans) == 0 || added[0].first > s.spans[len(s.spans)-1].last) {
		s.spans = append(s.spans, added...) // an append: the usual case
		return
	}
	s.spans = slices.DeleteFunc(s.spans, func(sp span) bool { return slices.Contains(old, sp) })
	s.spans = append(s.spans, added...)
	slices.SortFunc(s.spans, func(a, b span) int { return cmpIndex(a.first, b.first) })
}

// encoded is the keys and values of one write, laid out in one buffer.
// Badger copies them into its WAL and memtable before a commit returns, so
// the buffers are reused through encodedPool once the write is done.
type encoded struct {
	buf   []byte
	ops   []op
	spans []span
}

// maxPooled bounds the buffer kept for reuse, so one huge batch does not
// stay pinned.
const maxPooled = 4 << 20

var encodedPool = sync.Pool{New: func() any { return new(encoded) }}

// encode lays out runs as batches of at most maxBatchEntries entries and
// s.maxBytes bytes (an entry bigger than that alone). Call release when
// the write is done.
func (s *LogStore) encode(runs [][]*raft.Log) *encoded {
	size := 0
	for _, r := range runs {
		for _, l := range r {
			size += encodedLen(l) + batchLen(1, 0) + len(s.prefix) + indexLen
		}
	}
	e := encodedPool.Get().(*encoded)
	if cap(e.buf) < size {
		e.buf = make([]byte, 0, size) // never grows, so earlier slices stay valid
	}
	e.buf, e.ops, e.spans = e.buf[:0], e.ops[:0], e.spans[:0]
	for _, r := range runs {
		for len(r) > 0 {
			n := s.batchSize(r)
			e.add(s.prefix, r[:n])
			r = r[n:]
		}
	}
	return e
}

// batchSize is how many entries from the front of logs make one batch.
func (s *LogStore) batchSize(logs []*raft.Log) int {
	size := 0
	for i, l := range logs {
		if size += encodedLen(l); i == maxBatchEntries || (i > 0 && size > s.maxBytes) {
			return i
		}
	}
	return len(logs)
}

// add appends the key and value of the batch of logs.
func (e *encoded) add(prefix []byte, logs []*raft.Log) {
	n := len(e.buf)
	e.buf = appendLogKey(e.buf, prefix, logs[0].Index)
	key := e.buf[n:len(e.buf):len(e.buf)]
	n = len(e.buf)
	e.buf = appendBatch(e.buf, len(logs), func(dst []byte, i int) []byte { return appendLog(dst, logs[i]) })
	e.ops = append(e.ops, op{key: key, val: e.buf[n:len(e.buf):len(e.buf)]})
	e.spans = append(e.spans, span{logs[0].Index, logs[len(logs)-1].Index})
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
		var err error
		if o.del {
			err = wb.Delete(o.key)
		} else {
			err = wb.Set(o.key, o.val)
		}
		if err != nil {
			return err
		}
	}
	return wb.Flush()
}
