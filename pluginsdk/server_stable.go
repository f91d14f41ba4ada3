package pluginsdk

import (
	"context"

	storagepb "github.com/stratadb/strata/pluginsdk/proto"
)

// Set serves raft.StableStore.Set.
func (s *Server) Set(_ context.Context, req *storagepb.SetRequest) (*storagepb.Empty, error) {
	st, err := s.stableStore(req.GetGroup())
	if err != nil {
		return nil, err
	}
	if err := st.Set(req.GetKey(), req.GetValue()); err != nil {
		return nil, storeError("set", err)
	}
	return &storagepb.Empty{}, nil
}

// Get serves raft.StableStore.Get. A key never set is found=false; stores
// say so with an error "not found" or with a nil value (raft-wal).
func (s *Server) Get(_ context.Context, req *storagepb.GetRequest) (*storagepb.GetResponse, error) {
	st, err := s.stableStore(req.GetGroup())
	if err != nil {
		return nil, err
	}
	v, err := st.Get(req.GetKey())
	if isKeyNotFound(err) {
		return &storagepb.GetResponse{}, nil
	}
	if err != nil {
		return nil, storeError("get", err)
	}
	return &storagepb.GetResponse{Found: v != nil, Value: v}, nil
}

// SetUint64 serves raft.StableStore.SetUint64.
func (s *Server) SetUint64(_ context.Context, req *storagepb.SetUint64Request) (*storagepb.Empty, error) {
	st, err := s.stableStore(req.GetGroup())
	if err != nil {
		return nil, err
	}
	if err := st.SetUint64(req.GetKey(), req.GetValue()); err != nil {
		return nil, storeError("set uint64", err)
	}
	return &storagepb.Empty{}, nil
}

// GetUint64 serves raft.StableStore.GetUint64.
func (s *Server) GetUint64(_ context.Context, req *storagepb.GetRequest) (*storagepb.GetUint64Response, error) {
	st, err := s.stableStore(req.GetGroup())
	if err != nil {
		return nil, err
	}
	v, err := st.GetUint64(req.GetKey())
	if isKeyNotFound(err) {
		return &storagepb.GetUint64Response{}, nil
	}
	if err != nil {
		return nil, storeError("get uint64", err)
	}
	return &storagepb.GetUint64Response{Found: true, Value: v}, nil
}

// isKeyNotFound matches the errors stores return for a missing key:
// hashicorp/raft itself goes by the text "not found".
func isKeyNotFound(err error) bool {
	return err != nil && err.Error() == ErrKeyNotFound.Error()
}
