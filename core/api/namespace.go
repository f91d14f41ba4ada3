package api

import (
	"context"
	"path"
	"strings"

	"google.golang.org/grpc/status"

	"github.com/stratadb/strata/client/pb"
	"github.com/stratadb/strata/core/auth"
	"github.com/stratadb/strata/core/stream"
)

// An account's users name their streams as they like; the cluster stores
// them qualified by the account ("APP.ORDERS", stream.Qualify), so two
// accounts' streams of one name are two streams that never meet. The
// names of a call are qualified when it arrives, before it is authorized
// or forwarded, and the names of its answer are unqualified when it
// leaves the server the client called. System users, and servers calling
// on their own behalf, use the stored names.

// renames records, for the error of a call, the stored names its request
// was given as: stored name to the name the caller gave.
type renames map[string]string

// inNamespace reports whether u's calls are qualified by its account.
func inNamespace(u *auth.User) bool {
	return u != nil && !u.System && u.Account != ""
}

// storedName returns the stored name of the stream u calls name. A create
// names a new stream of u's account. Otherwise the account's stream of
// that name comes first, then a stream stored unqualified that u's
// account may reach (a shared one, or one an account's user created
// before names were qualified).
func (s *Server) storedName(u *auth.User, name string, create bool) string {
	if name == "" || strings.HasPrefix(name, u.Account+".") {
		return name
	}
	q := stream.Qualify(u.Account, name)
	if create {
		if st, ok := s.cfg.MetaFSM.Stream(name); ok && st.Account == u.Account {
			return name // taken by the account already
		}
		return q
	}
	if _, ok := s.cfg.MetaFSM.Stream(q); ok {
		return q
	}
	if st, ok := s.cfg.MetaFSM.Stream(name); ok && (st.Account == "" || st.Account == u.Account) {
		return name
	}
	return q
}

// qualify rewrites the stream names of req, a request of method, to the
// stored names, recording each in r.
func (s *Server) qualify(u *auth.User, method string, req any, r renames) {
	if !inNamespace(u) {
		return
	}
	set := func(p *string, create bool) {
		if *p == "" {
			return
		}
		stored := s.storedName(u, *p, create)
		if stored != *p {
			r[stored] = *p
		}
		*p = stored
	}
	switch m := req.(type) {
	case *pb.PubRequest:
		set(&m.ExpectedStream, false)
	case *pb.PubBatch:
		for _, msg := range m.GetMsgs() {
			set(&msg.ExpectedStream, false)
		}
	case *pb.StreamConfig:
		base := path.Base(method)
		set(&m.Name, base == "StreamCreate" || base == "StreamRestoreBegin")
	case *pb.StreamRequest:
		set(&m.Name, false)
	case *pb.GetMsgRequest:
		set(&m.Stream, false)
	case *pb.BackupRequest:
		set(&m.Stream, false)
	case *pb.RestoreMsgs:
		set(&m.Stream, false)
	case *pb.ConsumerCreateRequest:
		set(&m.Stream, false)
	case *pb.ConsumerRequest:
		set(&m.Stream, false)
	case *pb.FetchRequest:
		set(&m.Stream, false)
	case *pb.AckRequest:
		set(&m.Stream, false)
	}
}

// answerUser returns the caller whose answers get the names it knows: an
// account's user that called this server, not through another server
// (which answers its client itself); nil for any other call.
func (s *Server) answerUser(ctx context.Context) *auth.User {
	if u := caller(ctx); inNamespace(u) && !s.fromPeer(ctx) {
		return u
	}
	return nil
}

// unqualify rewrites the stream names of resp, an answer to u, to the
// names u knows; a nil u changes nothing.
func unqualify(u *auth.User, resp any) {
	if !inNamespace(u) {
		return
	}
	name := func(p *string) { *p = stream.Unqualify(u.Account, *p) }
	switch m := resp.(type) {
	case *pb.Stream:
		if m.GetConfig() != nil {
			name(&m.Config.Name)
		}
	case *pb.StreamListResponse:
		for _, st := range m.GetStreams() {
			unqualify(u, st)
		}
	case *pb.PubAck:
		name(&m.Stream)
	case *pb.PubAckBatch:
		for _, a := range m.GetAcks() {
			name(&a.Stream)
		}
	case *pb.Consumer:
		name(&m.Stream)
	case *pb.ConsumerListResponse:
		for _, c := range m.GetConsumers() {
			name(&c.Stream)
		}
	case *pb.BackupChunk:
		if m.GetInfo() != nil {
			unqualify(u, m.Info)
		}
	}
}

// renameError gives err, a status, the names the caller gave.
func (r renames) renameError(err error) error {
	if err == nil || len(r) == 0 {
		return err
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	msg := st.Message()
	for stored, given := range r {
		msg = strings.ReplaceAll(msg, stored, given)
	}
	return status.Error(st.Code(), msg)
}
