package api

import (
	"context"

	"google.golang.org/grpc"
)

// countUnary counts requests and errors, and turns errors into the
// statuses the API promises.
func (s *Server) countUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	s.requests.Add(1)
	if err := s.conns.checkCall(ctx); err != nil {
		s.errors.Add(1)
		return nil, toStatus(err)
	}
	ctx, err := s.authenticate(ctx)
	if err == nil {
		err = s.authorizeUnary(ctx, info.FullMethod, req)
	}
	var resp any
	if err == nil {
		resp, err = h(ctx, req)
	}
	if err != nil {
		s.errors.Add(1)
		s.logger.Debug("call failed", "method", info.FullMethod, "error", err)
		return nil, toStatus(err)
	}
	return s.visibleStreams(ctx, resp), nil
}

func (s *Server) countStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	s.requests.Add(1)
	if err := s.conns.checkCall(ss.Context()); err != nil {
		s.errors.Add(1)
		return toStatus(err)
	}
	ctx, err := s.authenticate(ss.Context())
	if err == nil {
		err = h(srv, &authorizedStream{ServerStream: ss, ctx: ctx, s: s, method: info.FullMethod})
	}
	if err != nil {
		s.errors.Add(1)
	}
	return toStatus(err)
}
