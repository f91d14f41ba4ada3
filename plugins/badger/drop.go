package badger

import (
	"bytes"
	"fmt"

	bdb "github.com/dgraph-io/badger/v4"

	"github.com/stratadb/strata/pluginsdk"
)

var _ pluginsdk.GroupDroppers = (*Plugin)(nil)

// dropBatch bounds the deletes committed together when dropping a group.
const dropBatch = 4096

// DropGroup deletes the group's log and stable keys. Deletes go
// through the committer like every write (Badger's DropPrefix would block
// the other groups' writes while it runs).
func (p *Plugin) DropGroup(group string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.openLocked(); err != nil {
		return err
	}
	delete(p.logs, group)
	delete(p.stables, group)
	for _, kind := range []byte{kindBatch, kindStable, kindLog} {
		if err := p.dropPrefix(groupPrefix(kind, group, 0)); err != nil {
			return fmt.Errorf("drop group %q: %w", group, err)
		}
	}
	return nil
}

// dropPrefix deletes every key under prefix, dropBatch keys at a time.
func (p *Plugin) dropPrefix(prefix []byte) error {
	for {
		keys, err := p.keysUnder(prefix, dropBatch)
		if err != nil || len(keys) == 0 {
			return err
		}
		ops := make([]op, len(keys))
		for i, k := range keys {
			ops[i] = op{key: k, del: true}
		}
		if err := p.kv.apply(ops); err != nil {
			return err
		}
	}
}

// keysUnder returns up to limit keys under prefix.
func (p *Plugin) keysUnder(prefix []byte, limit int) ([][]byte, error) {
	var keys [][]byte
	err := p.kv.view(func(txn *bdb.Txn) error {
		opts := bdb.DefaultIteratorOptions
		opts.PrefetchValues, opts.Prefix = false, prefix
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Seek(prefix); it.Valid() && len(keys) < limit; it.Next() {
			k := it.Item().KeyCopy(nil)
			if !bytes.HasPrefix(k, prefix) {
				break
			}
			keys = append(keys, k)
		}
		return nil
	})
	return keys, err
}
