package api

import (
	"context"
	"crypto/subtle"
	"fmt"
	"path"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/stratadb/strata/client/pb"
	"github.com/stratadb/strata/core/auth"
	"github.com/stratadb/strata/core/meta"
	"github.com/stratadb/strata/core/stream"
)

// Metadata keys of a call's credentials: a client's user and password
// (client.Options.User and Password) or its token (client.Options.Token),
// or the cluster token a server sends with the calls it makes on its own
// behalf.
const (
	userKey      = "user"
	passwordKey  = "password"
	tokenKey     = "token"
	nodeTokenKey = "strata-node-token"
	// forwarderKey carries the cluster token on a call forwarded for a
	// client: it proves a server forwarded it (the limits count it on
	// the server the client called) and grants nothing, since the call
	// is checked as the client's.
	forwarderKey = "strata-forwarder"
)

// nodeUser is the identity of another server of the cluster calling on
// its own behalf (a catch-up, a check after a restore).
var nodeUser = &auth.User{Name: "$server", Account: "$SYS", System: true}

type callerKey struct{}

// caller returns the authenticated user of ctx, nil when the node has no
// accounts.
func caller(ctx context.Context) *auth.User {
	u, _ := ctx.Value(callerKey{}).(*auth.User)
	return u
}

// authenticate returns ctx with its caller, or ErrUnauthenticated. A
// node without accounts lets every call in.
func (s *Server) authenticate(ctx context.Context) (context.Context, error) {
	users := s.users.Load()
	if users == nil {
		return ctx, nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	first := func(key string) string {
		if v := md.Get(key); len(v) > 0 {
			return v[0]
		}
		return ""
	}
	if tok := first(nodeTokenKey); tok != "" {
		if subtle.ConstantTimeCompare([]byte(tok), []byte(s.cfg.NodeToken)) != 1 {
			return nil, fmt.Errorf("%w: wrong cluster token", auth.ErrUnauthenticated)
		}
		return context.WithValue(ctx, callerKey{}, nodeUser), nil
	}
	var u *auth.User
	var err error
	if tok := first(tokenKey); tok != "" {
		u, err = users.AuthenticateToken(tok)
	} else {
		u, err = users.Authenticate(first(userKey), first(passwordKey))
	}
	if err != nil {
		return nil, err
	}
	return context.WithValue(ctx, callerKey{}, u), nil
}

// fromPeer reports whether another server made the call: it carries the
// cluster token (as its own call, or as proof that it forwarded a
// client's), or, on a cluster without a token, the forwarding header.
func (s *Server) fromPeer(ctx context.Context) bool {
	if s.cfg.NodeToken == "" {
		return forwarded(ctx)
	}
	md, _ := metadata.FromIncomingContext(ctx)
	for _, key := range []string{nodeTokenKey, forwarderKey} {
		if v := md.Get(key); len(v) > 0 && subtle.ConstantTimeCompare([]byte(v[0]), []byte(s.cfg.NodeToken)) == 1 {
			return true
		}
	}
	return false
}

// SetUsers replaces the users calls are checked against (a node does
// on SIGHUP); nil lets every call in. Calls in flight keep the users
// they were checked with.
func (s *Server) SetUsers(u *auth.Users) { s.users.Store(u) }

// accountOf is the account a stream the caller creates belongs to: its
// own, or none for a system user or a node without accounts.
func accountOf(ctx context.Context) string {
	if u := caller(ctx); u != nil && !u.System {
		return u.Account
	}
	return ""
}

// ownedElsewhere reports whether the stream belongs to another account
// than u's: to u, such a stream does not exist.
func (s *Server) ownedElsewhere(u *auth.User, stream string) bool {
	st, ok := s.cfg.MetaFSM.Stream(stream)
	return ok && otherAccount(u, st)
}

// otherAccount reports whether st belongs to an account that is not u's.
func otherAccount(u *auth.User, st meta.Stream) bool {
	return st.Account != "" && st.Account != u.Account
}

// checkOwner hides the streams of other accounts: the call fails as for
// a stream that does not exist (a create, as for a name that is taken).
func (s *Server) checkOwner(u *auth.User, req any) error {
	var name string
	switch r := req.(type) {
	case *pb.StreamConfig:
		if s.ownedElsewhere(u, r.GetName()) {
			return fmt.Errorf("%w: %s (another account's)", meta.ErrStreamExists, r.GetName())
		}
		return nil
	case interface{ GetStream() string }:
		name = r.GetStream()
	case interface{ GetName() string }:
		name = r.GetName()
	default:
		return nil
	}
	if s.ownedElsewhere(u, name) {
		return fmt.Errorf("%w: %s", meta.ErrStreamNotFound, name)
	}
	return nil
}

// authorizeUnary checks that the caller may make the call req is.
func (s *Server) authorizeUnary(ctx context.Context, method string, req any) error {
	u := caller(ctx)
	if u == nil || u.System {
		return nil
	}
	if _, ok := req.(*pb.PubRequest); ok {
		return nil // checked in streamForPublish, as each message of a PublishStream
	}
	if err := s.checkOwner(u, req); err != nil {
		return err
	}
	switch r := req.(type) {
	case *pb.GetMsgRequest:
		return s.canRead(u, r.GetStream())
	case *pb.StreamConfig: // StreamCreate, StreamUpdate, StreamRestoreBegin
		return canAdmin(u, r.GetName())
	case *pb.StreamRequest:
		if m := path.Base(method); m == "StreamInfo" || m == "ConsumerList" {
			return s.canSee(u, r.GetName())
		}
		return canAdmin(u, r.GetName())
	case *pb.StreamListRequest:
		return nil // the answer is filtered (visibleStreams)
	case *pb.RestoreMsgs:
		return canAdmin(u, r.GetStream())
	case *pb.ConsumerCreateRequest:
		return canAdmin(u, r.GetStream())
	case *pb.ConsumerRequest:
		if path.Base(method) == "ConsumerInfo" {
			return s.canSee(u, r.GetStream())
		}
		return canAdmin(u, r.GetStream())
	case *pb.AckRequest:
		return s.canRead(u, r.GetStream())
	default: // server, meta and recovery commands
		return u.CanSystem(path.Base(method))
	}
}

// authorizePublish checks a publish: the caller's permissions allow its
// subject (it reaches only its account's streams and the shared ones:
// meta.FSM.StreamFor).
func (s *Server) authorizePublish(ctx context.Context, req *pb.PubRequest) error {
	u := caller(ctx)
	if u == nil || u.System {
		return nil
	}
	return u.CanPublish(req.GetSubject())
}

// authorizeStream checks the request of a server-streaming call as it is
// received (a PublishStream's batches pass: each message is checked in
// streamForPublish).
func (s *Server) authorizeStream(ctx context.Context, method string, msg any) error {
	u := caller(ctx)
	if u == nil || u.System {
		return nil
	}
	switch r := msg.(type) {
	case *pb.PubBatch:
		return nil // each message is checked in streamForPublish: a refused one gets its error ack
	case *pb.FetchRequest:
		if err := s.checkOwner(u, r); err != nil {
			return err
		}
		return s.canRead(u, r.GetStream())
	case *pb.BackupRequest:
		if err := s.checkOwner(u, r); err != nil {
			return err
		}
		return canAdmin(u, r.GetStream())
	default: // Catchup: between servers
		return u.CanSystem(path.Base(method))
	}
}

// canAdmin: u's permissions let it administer the stored stream: they
// name streams as u's account knows them.
func canAdmin(u *auth.User, stored string) error {
	return u.CanAdmin(stream.Unqualify(u.Account, stored))
}

// canRead: u may read the stored stream's messages.
func (s *Server) canRead(u *auth.User, stored string) error {
	st, _ := s.cfg.MetaFSM.Stream(stored)
	return u.CanRead(stream.Unqualify(u.Account, stored), st.Config.Subjects)
}

// canSee: u may read the stream's or its consumers' info, as a reader or
// an administrator of it.
func (s *Server) canSee(u *auth.User, stored string) error {
	if canAdmin(u, stored) == nil {
		return nil
	}
	return s.canRead(u, stored)
}

// visibleStreams drops from a stream list what the caller may not see.
func (s *Server) visibleStreams(ctx context.Context, resp any) any {
	u := caller(ctx)
	list, ok := resp.(*pb.StreamListResponse)
	if u == nil || u.System || !ok {
		return resp
	}
	out := &pb.StreamListResponse{}
	for _, st := range list.GetStreams() {
		name := st.GetConfig().GetName()
		if s.ownedElsewhere(u, name) {
			continue
		}
		known := stream.Unqualify(u.Account, name)
		if u.CanAdmin(known) == nil || u.CanRead(known, st.GetConfig().GetSubjects()) == nil {
			out.Streams = append(out.Streams, st)
		}
	}
	return out
}

// authorizedStream checks each message a streaming call receives.
type authorizedStream struct {
	grpc.ServerStream
	ctx    context.Context
	s      *Server
	method string
	names  renames
	// answerTo is the user whose names the answers take (answerUser).
	answerTo *auth.User
}

func (a *authorizedStream) Context() context.Context { return a.ctx }

func (a *authorizedStream) SendMsg(m any) error {
	unqualify(a.answerTo, m)
	return a.ServerStream.SendMsg(m)
}

func (a *authorizedStream) RecvMsg(m any) error {
	if err := a.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	a.s.qualify(caller(a.ctx), a.method, m, a.names)
	if err := a.s.authorizeStream(a.ctx, a.method, m); err != nil {
		return toStatus(err)
	}
	return nil
}

// peerCredentials is the pool's interceptor: a call forwarded for a
// client carries the client's token or user and password, so the next server
// checks the client and not this one; a call this server makes on its
// own behalf carries the cluster token.
func peerCredentials(token string) (grpc.UnaryClientInterceptor, grpc.StreamClientInterceptor) {
	with := func(ctx context.Context) context.Context {
		if token == "" {
			return ctx
		}
		in, _ := metadata.FromIncomingContext(ctx)
		if tok := in.Get(tokenKey); len(tok) > 0 {
			return metadata.AppendToOutgoingContext(ctx, tokenKey, tok[0], forwarderKey, token)
		}
		if users := in.Get(userKey); len(users) > 0 {
			return metadata.AppendToOutgoingContext(ctx, userKey, users[0], passwordKey, firstOf(in.Get(passwordKey)),
				forwarderKey, token)
		}
		return metadata.AppendToOutgoingContext(ctx, nodeTokenKey, token)
	}
	unary := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		return invoker(with(ctx), method, req, reply, cc, opts...)
	}
	stream := func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		return streamer(with(ctx), desc, cc, method, opts...)
	}
	return unary, stream
}

func firstOf(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}
