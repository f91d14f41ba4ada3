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
	names := renames{}
	if err == nil {
		s.qualify(caller(ctx), info.FullMethod, req, names)
		err = s.authorizeUnary(ctx, info.FullMethod, req)
	}
	var resp any
	if err == nil {
		resp, err = h(ctx, req)
	}
	if err != nil {
		s.errors.Add(1)
		s.logger.Debug("call failed", "method", info.FullMethod, "error", err)
		return nil, names.renameError(toStatus(err))
	}
	resp = s.visibleStreams(ctx, resp)
	unqualify(s.answerUser(ctx), resp)
	return resp, nil
}

func (s *Server) countStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	s.requests.Add(1)
	if err := s.conns.checkCall(ss.Context()); err != nil {
		s.errors.Add(1)
		return toStatus(err)
	}
	ctx, err := s.authenticate(ss.Context())
	names := renames{}
	if err == nil {
		err = h(srv, &authorizedStream{ServerStream: ss, ctx: ctx, s: s, method: info.FullMethod, names: names,
			answerTo: s.answerUser(ctx)})
	}
	if err != nil {
		s.errors.Add(1)
	}
	return names.renameError(toStatus(err))
}
