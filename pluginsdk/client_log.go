package pluginsdk

import (
	"github.com/hashicorp/raft"

	storagepb "github.com/stratadb/strata/pluginsdk/proto"
)

// LogStore is a group's raft.LogStore served by a plugin.
type LogStore struct {
	c     *Client
	group string
}

var _ raft.LogStore = (*LogStore)(nil)

// FirstIndex implements raft.LogStore.
func (s *LogStore) FirstIndex() (uint64, error) {
	ctx, cancel := s.c.callContext()
	defer cancel()
	resp, err := s.c.rpc.FirstIndex(ctx, &storagepb.GroupRequest{Group: s.group})
	if err != nil {
		return 0, remoteError("first index", err)
	}
	return resp.GetIndex(), nil
}

// LastIndex implements raft.LogStore.
func (s *LogStore) LastIndex() (uint64, error) {
	ctx, cancel := s.c.callContext()
	defer cancel()
	resp, err := s.c.rpc.LastIndex(ctx, &storagepb.GroupRequest{Group: s.group})
	if err != nil {
		return 0, remoteError("last index", err)
	}
	return resp.GetIndex(), nil
}

// GetLog implements raft.LogStore. A missing index is raft.ErrLogNotFound
// itself.
func (s *LogStore) GetLog(index uint64, log *raft.Log) error {
	ctx, cancel := s.c.callContext()
	defer cancel()
	resp, err := s.c.rpc.GetLog(ctx, &storagepb.GetLogRequest{Group: s.group, Index: index})
	if err != nil {
		return remoteError("get log", err)
	}
	if !resp.GetFound() {
		return raft.ErrLogNotFound
	}
	logFromProto(resp.GetLog(), log)
	return nil
}

// StoreLog implements raft.LogStore.
func (s *LogStore) StoreLog(log *raft.Log) error {
	return s.StoreLogs([]*raft.Log{log})
}

// StoreLogs implements raft.LogStore. It returns once the plugin says the
// logs are stored.
func (s *LogStore) StoreLogs(logs []*raft.Log) error {
	req := &storagepb.StoreLogsRequest{Group: s.group, Logs: make([]*storagepb.Log, len(logs))}
	for i, l := range logs {
		req.Logs[i] = logToProto(l)
	}
	ctx, cancel := s.c.callContext()
	defer cancel()
	if _, err := s.c.rpc.StoreLogs(ctx, req); err != nil {
		return remoteError("store logs", err)
	}
	return nil
}

// DeleteRange implements raft.LogStore.
func (s *LogStore) DeleteRange(min, max uint64) error {
	ctx, cancel := s.c.callContext()
	defer cancel()
	_, err := s.c.rpc.DeleteRange(ctx, &storagepb.DeleteRangeRequest{Group: s.group, Min: min, Max: max})
	if err != nil {
		return remoteError("delete range", err)
	}
	return nil
}

var _ raft.MonotonicLogStore = (*LogStore)(nil)

// IsMonotonic implements raft.MonotonicLogStore: it asks the plugin whether
// the group's store refuses gaps. If the plugin cannot say, it answers
// true: raft then removes old logs after a snapshot restore, which is
// always safe, only slower.
func (s *LogStore) IsMonotonic() bool {
	ctx, cancel := s.c.callContext()
	defer cancel()
	resp, err := s.c.rpc.LogStoreInfo(ctx, &storagepb.GroupRequest{Group: s.group})
	if err != nil {
		return true
	}
	return resp.GetMonotonic()
}
