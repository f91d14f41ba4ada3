package pluginsdk

import (
	"github.com/hashicorp/raft"

	storagepb "github.com/stratadb/strata/pluginsdk/proto"
)

// StableStore is a group's raft.StableStore served by a plugin.
type StableStore struct {
	c     *Client
	group string
}

var _ raft.StableStore = (*StableStore)(nil)

// Set implements raft.StableStore.
func (s *StableStore) Set(key, val []byte) error {
	ctx, cancel := s.c.callContext()
	defer cancel()
	if _, err := s.c.rpc.Set(ctx, &storagepb.SetRequest{Group: s.group, Key: key, Value: val}); err != nil {
		return remoteError("set", err)
	}
	return nil
}

// Get implements raft.StableStore. A key never set is ErrKeyNotFound.
func (s *StableStore) Get(key []byte) ([]byte, error) {
	ctx, cancel := s.c.callContext()
	defer cancel()
	resp, err := s.c.rpc.Get(ctx, &storagepb.GetRequest{Group: s.group, Key: key})
	if err != nil {
		return nil, remoteError("get", err)
	}
	if !resp.GetFound() {
		return nil, ErrKeyNotFound
	}
	if resp.GetValue() == nil {
		return []byte{}, nil
	}
	return resp.GetValue(), nil
}

// SetUint64 implements raft.StableStore.
func (s *StableStore) SetUint64(key []byte, val uint64) error {
	ctx, cancel := s.c.callContext()
	defer cancel()
	if _, err := s.c.rpc.SetUint64(ctx, &storagepb.SetUint64Request{Group: s.group, Key: key, Value: val}); err != nil {
		return remoteError("set uint64", err)
	}
	return nil
}

// GetUint64 implements raft.StableStore. A key never set is
// (0, ErrKeyNotFound), which raft reads as zero.
func (s *StableStore) GetUint64(key []byte) (uint64, error) {
	ctx, cancel := s.c.callContext()
	defer cancel()
	resp, err := s.c.rpc.GetUint64(ctx, &storagepb.GetRequest{Group: s.group, Key: key})
	if err != nil {
		return 0, remoteError("get uint64", err)
	}
	if !resp.GetFound() {
		return 0, ErrKeyNotFound
	}
	return resp.GetValue(), nil
}
