package badger

import (
	"fmt"

	bdb "github.com/dgraph-io/badger/v4"
	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/pluginsdk"
)

var _ pluginsdk.LogRangeReader = (*LogStore)(nil)

// GetLogs implements pluginsdk.LogRangeReader: it reads each batch the
// range touches once, in one read transaction.
func (s *LogStore) GetLogs(from uint64, max int, maxBytes uint64) ([]*raft.Log, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r := rangeRead{from: from, max: max, maxBytes: maxBytes}
	err := s.kv.view(func(txn *bdb.Txn) error {
		for sp, ok := s.find(from); ok && !r.full(); sp, ok = s.find(sp.last + 1) {
			b, err := s.getBatch(txn, sp.first)
			if err == nil {
				err = r.addBatch(b, sp)
			}
			if err != nil {
				return fmt.Errorf("log batch from index %d: %w", sp.first, err)
			}
		}
		return nil
	})
	return r.logs, err
}

// rangeRead collects the logs of a GetLogs.
type rangeRead struct {
	from     uint64
	max      int
	maxBytes uint64

	logs []*raft.Log
	size uint64
	done bool // the size limit was reached
}

func (r *rangeRead) full() bool { return r.done || len(r.logs) >= r.max }

// addBatch adds the logs of b (spanning sp) from the next index wanted
// on. They alias b's value.
func (r *rangeRead) addBatch(b batch, sp span) error {
	for i := int(r.from + uint64(len(r.logs)) - sp.first); i < b.count && !r.full(); i++ {
		if err := r.add(b, i, sp.first+uint64(i)); err != nil {
			return err
		}
	}
	return nil
}

// add decodes entry i of b, which must hold index.
func (r *rangeRead) add(b batch, i int, index uint64) error {
	enc, err := b.entry(i)
	if err != nil {
		return err
	}
	l := new(raft.Log)
	if err := decodeLog(enc, l); err != nil {
		return err
	}
	if l.Index != index {
		return fmt.Errorf("%w: entry %d says index %d, want %d", errCorrupt, i, l.Index, index)
	}
	r.size += uint64(len(l.Data) + len(l.Extensions))
	if len(r.logs) > 0 && r.size > r.maxBytes {
		r.done = true
		return nil
	}
	r.logs = append(r.logs, l)
	return nil
}
