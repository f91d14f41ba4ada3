package pluginsdk

import (
	"fmt"
	"sync"

	"github.com/hashicorp/raft"

	storagepb "github.com/stratadb/strata/pluginsdk/proto"
)

// ReadAhead is how many logs a GetLog that misses fetches at once (within
// ReadAheadBytes): raft reads logs in order when it replicates or applies,
// so one round trip then serves the next reads.
const (
	ReadAhead      = 256
	ReadAheadBytes = 4 << 20
)

// LogStore is a group's raft.LogStore served by a plugin.
type LogStore struct {
	c     *Client
	group string

	mu       sync.Mutex
	ahead    []raft.Log // consecutive logs read ahead
	gen      uint64     // bumps on every write; stale reads are dropped
	lastRead uint64     // the index of the last GetLog
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
// itself. A read that follows the previous one and misses the read-ahead
// fetches the next ReadAhead logs; a random read fetches one.
func (s *LogStore) GetLog(index uint64, log *raft.Log) error {
	if s.fromAhead(index, log) {
		return nil
	}
	s.mu.Lock()
	gen, count := s.gen, uint32(1)
	if index == s.lastRead+1 {
		count = ReadAhead
	}
	s.lastRead = index
	s.mu.Unlock()
	ctx, cancel := s.c.callContext()
	defer cancel()
	resp, err := s.c.rpc.GetLogs(ctx, &storagepb.GetLogsRequest{
		Group: s.group, From: index, MaxCount: count, MaxBytes: ReadAheadBytes})
	if err != nil {
		return remoteError("get log", err)
	}
	logs, err := decodeLogs(resp.GetLogs())
	if err != nil {
		return fmt.Errorf("get log %d: %w", index, err)
	}
	if len(logs) == 0 || logs[0].Index != index {
		return raft.ErrLogNotFound
	}
	*log = logs[0]
	s.mu.Lock()
	if s.gen == gen && len(logs) > 1 {
		s.ahead = logs
	}
	s.mu.Unlock()
	return nil
}

func (s *LogStore) fromAhead(index uint64, log *raft.Log) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.ahead) == 0 {
		return false
	}
	first := s.ahead[0].Index
	if index < first || index-first >= uint64(len(s.ahead)) {
		return false
	}
	*log = s.ahead[index-first]
	s.lastRead = index
	return true
}

// invalidate drops the read-ahead before a write.
func (s *LogStore) invalidate() {
	s.mu.Lock()
	s.ahead = nil
	s.gen++
	s.mu.Unlock()
}

// StoreLog implements raft.LogStore.
func (s *LogStore) StoreLog(log *raft.Log) error {
	return s.StoreLogs([]*raft.Log{log})
}

// StoreLogs implements raft.LogStore. It returns once the plugin says the
// logs are stored.
func (s *LogStore) StoreLogs(logs []*raft.Log) error {
	s.invalidate()
	buf := getBuffer(logsLen(logs))
	defer putBuffer(buf)
	*buf = appendLogs((*buf)[:0], logs)
	ctx, cancel := s.c.callContext()
	defer cancel()
	// gRPC has copied the request into its own buffers when the call
	// returns, so buf can be reused.
	if _, err := s.c.rpc.StoreLogs(ctx, &storagepb.StoreLogsRequest{Group: s.group, Logs: *buf}); err != nil {
		return remoteError("store logs", err)
	}
	return nil
}

// DeleteRange implements raft.LogStore.
func (s *LogStore) DeleteRange(min, max uint64) error {
	s.invalidate()
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
