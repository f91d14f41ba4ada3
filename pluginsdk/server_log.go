package pluginsdk

import (
	"context"

	"github.com/hashicorp/raft"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	storagepb "github.com/stratadb/strata/pluginsdk/proto"
)

// FirstIndex serves raft.LogStore.FirstIndex.
func (s *Server) FirstIndex(_ context.Context, req *storagepb.GroupRequest) (*storagepb.IndexResponse, error) {
	st, err := s.logStore(req.GetGroup())
	if err != nil {
		return nil, err
	}
	idx, err := st.FirstIndex()
	if err != nil {
		return nil, storeError("first index", err)
	}
	return &storagepb.IndexResponse{Index: idx}, nil
}

// LastIndex serves raft.LogStore.LastIndex.
func (s *Server) LastIndex(_ context.Context, req *storagepb.GroupRequest) (*storagepb.IndexResponse, error) {
	st, err := s.logStore(req.GetGroup())
	if err != nil {
		return nil, err
	}
	idx, err := st.LastIndex()
	if err != nil {
		return nil, storeError("last index", err)
	}
	return &storagepb.IndexResponse{Index: idx}, nil
}

// StoreLogs serves raft.LogStore.StoreLogs.
func (s *Server) StoreLogs(_ context.Context, req *storagepb.StoreLogsRequest) (*storagepb.Empty, error) {
	st, err := s.logStore(req.GetGroup())
	if err != nil {
		return nil, err
	}
	backing, err := decodeLogs(req.GetLogs())
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "store logs: %v", err)
	}
	logs := make([]*raft.Log, len(backing))
	for i := range backing {
		logs[i] = &backing[i]
	}
	if err := st.StoreLogs(logs); err != nil {
		return nil, storeError("store logs", err)
	}
	return &storagepb.Empty{}, nil
}

// DeleteRange serves raft.LogStore.DeleteRange.
func (s *Server) DeleteRange(_ context.Context, req *storagepb.DeleteRangeRequest) (*storagepb.Empty, error) {
	st, err := s.logStore(req.GetGroup())
	if err != nil {
		return nil, err
	}
	if err := st.DeleteRange(req.GetMin(), req.GetMax()); err != nil {
		return nil, storeError("delete range", err)
	}
	return &storagepb.Empty{}, nil
}

// LogStoreInfo reports whether the group's log store is a
// raft.MonotonicLogStore that refuses gaps.
func (s *Server) LogStoreInfo(_ context.Context, req *storagepb.GroupRequest) (*storagepb.LogStoreInfoResponse, error) {
	st, err := s.logStore(req.GetGroup())
	if err != nil {
		return nil, err
	}
	m, ok := st.(raft.MonotonicLogStore)
	return &storagepb.LogStoreInfoResponse{Monotonic: ok && m.IsMonotonic()}, nil
}

// GetLogs serves consecutive logs from req.From until a missing index, the
// count or the size limit; at least one log when From is present.
func (s *Server) GetLogs(_ context.Context, req *storagepb.GetLogsRequest) (*storagepb.GetLogsResponse, error) {
	st, err := s.logStore(req.GetGroup())
	if err != nil {
		return nil, err
	}
	read := func(from uint64, max int, maxBytes uint64) ([]*raft.Log, error) {
		return GetLogs(st, from, max, maxBytes)
	}
	if r, ok := st.(LogRangeReader); ok {
		read = r.GetLogs
	}
	logs, err := read(req.GetFrom(), int(req.GetMaxCount()), req.GetMaxBytes())
	if err != nil {
		return nil, storeError("get logs", err)
	}
	return &storagepb.GetLogsResponse{Logs: appendLogs(make([]byte, 0, logsLen(logs)), logs)}, nil
}

// GetLogs is LogRangeReader.GetLogs through GetLog calls, for a store
// without it.
func GetLogs(st raft.LogStore, from uint64, max int, maxBytes uint64) ([]*raft.Log, error) {
	var logs []*raft.Log
	size := uint64(0)
	for idx := from; len(logs) < max; idx++ {
		l := new(raft.Log)
		if err := st.GetLog(idx, l); err == raft.ErrLogNotFound {
			break
		} else if err != nil {
			return nil, err
		}
		size += uint64(len(l.Data) + len(l.Extensions))
		if len(logs) > 0 && size > maxBytes {
			break
		}
		logs = append(logs, l)
	}
	return logs, nil
}
