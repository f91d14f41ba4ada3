package pluginsdk

import (
	"context"

	"github.com/hashicorp/raft"

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

// GetLog serves raft.LogStore.GetLog. A missing index is found=false.
func (s *Server) GetLog(_ context.Context, req *storagepb.GetLogRequest) (*storagepb.GetLogResponse, error) {
	st, err := s.logStore(req.GetGroup())
	if err != nil {
		return nil, err
	}
	var l raft.Log
	switch err := st.GetLog(req.GetIndex(), &l); err {
	case nil:
		return &storagepb.GetLogResponse{Found: true, Log: logToProto(&l)}, nil
	case raft.ErrLogNotFound:
		return &storagepb.GetLogResponse{}, nil
	default:
		return nil, storeError("get log", err)
	}
}

// StoreLogs serves raft.LogStore.StoreLogs.
func (s *Server) StoreLogs(_ context.Context, req *storagepb.StoreLogsRequest) (*storagepb.Empty, error) {
	st, err := s.logStore(req.GetGroup())
	if err != nil {
		return nil, err
	}
	logs := make([]*raft.Log, len(req.GetLogs()))
	backing := make([]raft.Log, len(req.GetLogs()))
	for i, pl := range req.GetLogs() {
		logFromProto(pl, &backing[i])
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
	resp := &storagepb.GetLogsResponse{}
	size := uint64(0)
	for idx := req.GetFrom(); len(resp.Logs) < int(req.GetMaxCount()); idx++ {
		var l raft.Log
		if err := st.GetLog(idx, &l); err == raft.ErrLogNotFound {
			break
		} else if err != nil {
			return nil, storeError("get logs", err)
		}
		size += uint64(len(l.Data) + len(l.Extensions))
		if len(resp.Logs) > 0 && size > req.GetMaxBytes() {
			break
		}
		resp.Logs = append(resp.Logs, logToProto(&l))
	}
	return resp, nil
}
