package badger

import (
	"encoding/binary"
	"errors"
	"fmt"

	bdb "github.com/dgraph-io/badger/v4"
	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/pluginsdk"
)

var _ raft.StableStore = (*StableStore)(nil)

// StableStore is one group's raft stable state. Writes are synced when
// the plugin's sync_writes is on.
type StableStore struct {
	kv     *kv
	prefix []byte
}

func newStableStore(kv *kv, group string) *StableStore {
	return &StableStore{kv: kv, prefix: groupPrefix(kindStable, group, 0)}
}

// Set stores val under key.
func (s *StableStore) Set(key, val []byte) error {
	return s.kv.apply([]op{{key: stableKey(s.prefix, key), val: val}})
}

// Get returns the value of key, or pluginsdk.ErrKeyNotFound.
func (s *StableStore) Get(key []byte) ([]byte, error) {
	var val []byte
	err := s.kv.view(func(txn *bdb.Txn) error {
		item, err := txn.Get(stableKey(s.prefix, key))
		if err != nil {
			return err
		}
		val, err = item.ValueCopy(nil)
		return err
	})
	if errors.Is(err, bdb.ErrKeyNotFound) {
		return nil, pluginsdk.ErrKeyNotFound
	}
	if err != nil {
		return nil, err
	}
	if val == nil {
		val = []byte{}
	}
	return val, nil
}

// SetUint64 stores val under key as 8 big-endian bytes.
func (s *StableStore) SetUint64(key []byte, val uint64) error {
	return s.Set(key, binary.BigEndian.AppendUint64(nil, val))
}

// GetUint64 returns the number stored under key, or (0,
// pluginsdk.ErrKeyNotFound); hashicorp/raft takes "not found" as unset.
func (s *StableStore) GetUint64(key []byte) (uint64, error) {
	val, err := s.Get(key)
	if err != nil {
		return 0, err
	}
	if len(val) != 8 {
		return 0, fmt.Errorf("stable key %q: %w: %d bytes, want 8", key, errCorrupt, len(val))
	}
	return binary.BigEndian.Uint64(val), nil
}
