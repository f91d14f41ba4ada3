package raftgroup

import (
	"sort"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// PeerState is what this node, as leader, knows of one follower: when it
// last answered an AppendEntries (heartbeats included) and the last log
// index it is known to hold.
type PeerState struct {
	ID          raft.ServerID
	LastContact time.Time
	MatchIndex  uint64
}

// trackingTransport records, per follower, the outcome of every
// AppendEntries this node sends. Raft keeps this state private; the
// cluster reports (replica current/outdated, seen ago, operations behind)
// need it. Pipelining is off (MaxRPCsInFlight 1), so every append goes
// through AppendEntries.
type trackingTransport struct {
	*raft.NetworkTransport
	mu    sync.Mutex
	peers map[raft.ServerID]*PeerState
}

func newTrackingTransport(t *raft.NetworkTransport) *trackingTransport {
	return &trackingTransport{NetworkTransport: t, peers: map[raft.ServerID]*PeerState{}}
}

// AppendEntries sends the RPC and records the follower's answer.
func (t *trackingTransport) AppendEntries(id raft.ServerID, target raft.ServerAddress,
	args *raft.AppendEntriesRequest, resp *raft.AppendEntriesResponse) error {
	err := t.NetworkTransport.AppendEntries(id, target, args, resp)
	if err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.peers[id]
	if p == nil {
		p = &PeerState{ID: id}
		t.peers[id] = p
	}
	p.LastContact = time.Now()
	if !resp.Success {
		return nil
	}
	// Heartbeats carry no previous entry and say nothing of the log.
	switch n := len(args.Entries); {
	case n > 0:
		p.MatchIndex = args.Entries[n-1].Index
	case args.PrevLogEntry > 0:
		p.MatchIndex = args.PrevLogEntry
	}
	return nil
}

// snapshot returns the recorded peers sorted by id.
func (t *trackingTransport) snapshot() []PeerState {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]PeerState, 0, len(t.peers))
	for _, p := range t.peers {
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Peers returns, on the leader, what it knows of each follower it has
// sent entries or heartbeats to. On a follower the answer is stale or
// empty: only a leader's view is current.
func (g *Group) Peers() []PeerState { return g.trans.snapshot() }
