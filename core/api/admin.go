package api

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/core/meta"
	"github.com/stratadb/strata/core/placement"
	"github.com/stratadb/strata/core/stream"
)

const (
	// metaTimeout bounds one meta group proposal.
	metaTimeout = 5 * time.Second
	// offlineAfter is how long without contact makes a peer offline.
	offlineAfter = 5 * time.Second
)

// createStream runs on the meta leader: it checks c, places the stream
// and records it; restoring creates it for a restore (no publishes yet).
func (s *Server) createStream(c stream.Config, restoring bool, account string) error {
	c.Finish()
	if account == "" { // a name qualified by an account is its users' to create
		if err := stream.ValidName(c.Name); err != nil {
			return err
		}
	}
	if err := c.Validate(); err != nil {
		return err
	}
	peers, err := placement.Pick(s.candidates(), placement.Request{Replicas: c.Replicas, Tags: c.Tags})
	if err != nil {
		return fmt.Errorf("stream %s: %w", c.Name, err)
	}
	st := meta.Stream{Config: c, Peers: peers, Bootstrap: peers, Group: c.Name + "-" + randomID(),
		Created: time.Now().UnixNano(), Restoring: restoring, Account: account}
	if err := s.cfg.MetaFSM.CheckCreate(st); err != nil {
		return err
	}
	data, err := meta.CreateStream(st)
	if err != nil {
		return err
	}
	return s.applyMeta(data)
}

// updateStream runs on the meta leader: limits change in place; a new
// replica count re-places the stream, keeping its leader.
func (s *Server) updateStream(c stream.Config, leader string) ([]string, error) {
	cur, ok := s.cfg.MetaFSM.Stream(c.Name)
	if !ok {
		return nil, fmt.Errorf("%w: %s", meta.ErrStreamNotFound, c.Name)
	}
	c.Finish()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if err := cur.Config.CheckUpdate(c); err != nil {
		return nil, err
	}
	next := cur
	next.Config = c
	if c.Replicas != len(cur.Peers) || !slices.Equal(c.Tags, cur.Config.Tags) {
		peers, err := placement.Resize(s.candidates(), leaderFirst(cur.Peers, leader),
			placement.Request{Replicas: c.Replicas, Tags: c.Tags})
		if err != nil {
			return nil, fmt.Errorf("stream %s: %w", c.Name, err)
		}
		next.Peers = peers
	}
	if err := s.cfg.MetaFSM.CheckUpdate(next); err != nil {
		return nil, err
	}
	data, err := meta.UpdateStream(next)
	if err != nil {
		return nil, err
	}
	return next.Peers, s.applyMeta(data)
}

func (s *Server) deleteStream(name string) error {
	if _, ok := s.cfg.MetaFSM.Stream(name); !ok {
		return fmt.Errorf("%w: %s", meta.ErrStreamNotFound, name)
	}
	data, err := meta.DeleteStream(name)
	if err != nil {
		return err
	}
	return s.applyMeta(data)
}

func (s *Server) applyMeta(data []byte) error {
	f := s.cfg.Meta.Raft().Apply(data, metaTimeout)
	if err := f.Error(); err != nil {
		return err
	}
	if err, ok := f.Response().(error); ok {
		return err
	}
	return nil
}

// candidates returns the servers placement may choose, with their load
// (replicas held) and whether the meta leader has lost contact.
func (s *Server) candidates() []placement.Server {
	load := map[string]int{}
	for _, st := range s.cfg.MetaFSM.Streams() {
		for _, p := range st.Peers {
			load[p]++
		}
	}
	contact := map[raft.ServerID]time.Time{}
	for _, p := range s.cfg.Meta.Peers() {
		contact[p.ID] = p.LastContact
	}
	var out []placement.Server
	for _, srv := range s.cfg.MetaFSM.Servers() {
		seen, ok := contact[raft.ServerID(srv.Name)]
		offline := srv.Name != s.cfg.Self && (!ok || time.Since(seen) > offlineAfter)
		out = append(out, placement.Server{Name: srv.Name, Tags: srv.Tags, Replicas: load[srv.Name], Offline: offline})
	}
	return out
}

func leaderFirst(peers []string, leader string) []string {
	out := []string{}
	if slices.Contains(peers, leader) {
		out = append(out, leader)
	}
	for _, p := range peers {
		if p != leader {
			out = append(out, p)
		}
	}
	return out
}

func randomID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
