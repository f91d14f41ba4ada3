package api

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/client/pb"
	"github.com/stratadb/strata/core/meta"
	"github.com/stratadb/strata/core/placement"
)

// ServerPeerRemove, on the meta leader, removes a server for good: its
// streams move to servers placement picks, in one meta entry, and then
// it leaves the meta group.
func (s *Server) ServerPeerRemove(ctx context.Context, req *pb.ServerRequest) (*pb.ServerPeerRemoveResponse, error) {
	c, fctx, err := s.metaRoute(ctx)
	if err != nil {
		return nil, err
	}
	if c != nil {
		return c.ServerPeerRemove(fctx, req)
	}
	name := req.GetName()
	if err := s.checkRemovable(name); err != nil {
		return nil, err
	}
	moved, err := s.moveStreamsOff(name)
	if err != nil {
		return nil, err
	}
	data, err := meta.RemoveServer(name, moved)
	if err != nil {
		return nil, err
	}
	if err := s.applyMeta(data); err != nil {
		return nil, err
	}
	if err := s.removeVoter(name); err != nil {
		return nil, fmt.Errorf("removing %s from the meta group: %w", name, err)
	}
	s.logger.Info("server removed", "server", name, "streams_moved", len(moved))
	out := &pb.ServerPeerRemoveResponse{}
	for _, st := range moved {
		out.Streams = append(out.Streams, st.Config.Name)
	}
	return out, nil
}

// checkRemovable refuses an unknown server, and one whose removal would
// leave the meta group without a quorum of live voters.
func (s *Server) checkRemovable(name string) error {
	f := s.cfg.Meta.Raft().GetConfiguration()
	if err := f.Error(); err != nil {
		return err
	}
	servers := f.Configuration().Servers
	inConfig := slices.ContainsFunc(servers, func(v raft.Server) bool { return string(v.ID) == name })
	if _, recorded := s.cfg.MetaFSM.Server(name); !inConfig && !recorded {
		return fmt.Errorf("%w: %s is not a server of the meta group", errInvalid, name)
	}
	if !inConfig { // recovered without it: only the meta state remembers it
		return nil
	}
	seen := map[raft.ServerID]time.Time{}
	for _, p := range s.cfg.Meta.Peers() {
		seen[p.ID] = p.LastContact
	}
	alive, unknown := liveVoters(servers, seen, s.cfg.Self, name, time.Now())
	if rest := len(servers) - 1; alive < rest/2+1 {
		if len(unknown) > 0 {
			return fmt.Errorf("%w: %v (a meta leader elected a moment ago)", ErrPeersUnknown, unknown)
		}
		return fmt.Errorf("%w: removing %s would leave the meta group with %d live of %d voters, no quorum",
			errInvalid, name, alive, rest)
	}
	return nil
}

// liveVoters counts the voters other than name that are live: self, and
// those this leader heard from within offlineAfter. Voters it has no
// record of (it has not sent them anything yet, as just after its
// election) are returned apart: they are not known to be down.
func liveVoters(servers []raft.Server, seen map[raft.ServerID]time.Time, self, name string, now time.Time) (int, []string) {
	alive, unknown := 0, []string(nil)
	for _, v := range servers {
		if string(v.ID) == name || v.Suffrage != raft.Voter {
			continue
		}
		last, ok := seen[v.ID]
		switch {
		case string(v.ID) == self || ok && now.Sub(last) < offlineAfter:
			alive++
		case !ok || last.IsZero():
			unknown = append(unknown, string(v.ID))
		}
	}
	return alive, unknown
}

// moveStreamsOff returns every stream held by name with a replacement
// in its place, or an error naming the first stream that has none.
func (s *Server) moveStreamsOff(name string) ([]meta.Stream, error) {
	cands := slices.DeleteFunc(s.candidates(), func(c placement.Server) bool { return c.Name == name })
	var moved []meta.Stream
	for _, st := range s.cfg.MetaFSM.Streams() {
		if !slices.Contains(st.Peers, name) {
			continue
		}
		repl, err := placement.Replace(cands, st.Peers, name, placement.Request{Tags: st.Config.Tags})
		if err != nil {
			return nil, fmt.Errorf("stream %s: no server can take the place of %s: %w", st.Config.Name, name, err)
		}
		st.Peers = append(slices.DeleteFunc(st.Peers, func(p string) bool { return p == name }), repl)
		for i := range cands { // the next stream sees the new load
			if cands[i].Name == repl {
				cands[i].Replicas++
			}
		}
		moved = append(moved, st)
	}
	return moved, nil
}

// ServerLameDuck asks the named server to enter lame duck mode; any
// server forwards the call to it.
func (s *Server) ServerLameDuck(ctx context.Context, req *pb.ServerRequest) (*pb.Empty, error) {
	name := req.GetName()
	if name == s.cfg.Self {
		if s.cfg.LameDuck == nil {
			return nil, fmt.Errorf("%w: this server cannot enter lame duck mode", errInvalid)
		}
		s.logger.Info("entering lame duck mode on request")
		go s.cfg.LameDuck()
		return &pb.Empty{}, nil
	}
	if _, ok := s.cfg.MetaFSM.Server(name); !ok {
		return nil, fmt.Errorf("%w: no server %s in the cluster", errInvalid, name)
	}
	fctx, err := forwardCtx(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.clientOf(name)
	if err != nil {
		return nil, err
	}
	return c.ServerLameDuck(fctx, req)
}

// removeVoter takes name out of the meta group's configuration, if there.
func (s *Server) removeVoter(name string) error {
	r := s.cfg.Meta.Raft()
	f := r.GetConfiguration()
	if err := f.Error(); err != nil {
		return err
	}
	if !slices.ContainsFunc(f.Configuration().Servers, func(v raft.Server) bool { return string(v.ID) == name }) {
		return nil
	}
	return r.RemoveServer(raft.ServerID(name), 0, metaTimeout).Error()
}
