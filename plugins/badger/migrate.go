package badger

import (
	"fmt"

	bdb "github.com/dgraph-io/badger/v4"
	"github.com/hashicorp/raft"
)

// migrate moves a group's log from one key per entry (kindLog, written by
// versions of this plugin before batches) into batches, maxBatchEntries
// entries at a time: each transaction writes a batch and deletes the keys
// it replaces, so a crash midway loses nothing and the next open goes on.
func (s *LogStore) migrate() error {
	old := groupPrefix(kindLog, s.group, indexLen)
	for {
		logs, keys, err := s.readOldEntries(old, maxBatchEntries)
		if err != nil || len(logs) == 0 {
			return err
		}
		enc := s.encode(consecutiveRuns(logs))
		ops := append([]op(nil), enc.ops...)
		for _, k := range keys {
			ops = append(ops, op{key: k, del: true})
		}
		err = s.write(ops)
		enc.release()
		if err != nil {
			return fmt.Errorf("move log entries to batches: %w", err)
		}
	}
}

// readOldEntries reads up to limit entries stored one per key under prefix,
// with their keys.
func (s *LogStore) readOldEntries(prefix []byte, limit int) ([]*raft.Log, [][]byte, error) {
	var logs []*raft.Log
	var keys [][]byte
	err := s.kv.view(func(txn *bdb.Txn) error {
		opts := bdb.DefaultIteratorOptions
		opts.Prefix = prefix
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid() && len(logs) < limit; it.Next() {
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			l := new(raft.Log)
			if err := decodeLog(v, l); err != nil {
				return fmt.Errorf("log entry %d: %w", keyIndex(it.Item().Key()), err)
			}
			logs, keys = append(logs, l), append(keys, it.Item().KeyCopy(nil))
		}
		return nil
	})
	return logs, keys, err
}
