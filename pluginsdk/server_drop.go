package pluginsdk

import (
	"context"
	"io"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	storagepb "github.com/stratadb/strata/pluginsdk/proto"
)

// DropGroup forgets the group's stores and asks the plugin to delete the
// group; Unimplemented when the plugin is not a GroupDroppers.
func (s *Server) DropGroup(_ context.Context, req *storagepb.GroupRequest) (*storagepb.Empty, error) {
	p, ok := s.impl.(GroupDroppers)
	if !ok {
		return nil, status.Error(codes.Unimplemented, ErrNoSuchCapability.Error()+": drop group")
	}
	group := req.GetGroup()
	if group == "" {
		return nil, status.Error(codes.InvalidArgument, "empty group id")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, st := range []any{s.logs[group], s.stables[group], s.snapshots[group]} {
		if c, ok := st.(io.Closer); ok {
			_ = c.Close()
		}
	}
	delete(s.logs, group)
	delete(s.stables, group)
	delete(s.snapshots, group)
	if err := p.DropGroup(group); err != nil {
		return nil, storeError("drop group", err)
	}
	s.logger.Info("dropped group", "group", group)
	return &storagepb.Empty{}, nil
}
