package raftgroup

import (
	"sort"
	"sync"
	"sync/atomic"
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

	// With a coalescer, calls without entries go through it, and calls it
	// receives for this group join raft's RPC channel, rpcs, which also
	// carries everything the group's own transport receives.
	co        *coalescer
	send      bool
	group     string
	timeout   time.Duration
	rpcs      chan raft.RPC
	done      chan struct{}
	closeOnce sync.Once
	hbMu      sync.Mutex
	hbFn      func(raft.RPC)
	// urgent counts callers waiting on heartbeats (VerifyLeader): while
	// positive, calls go straight out instead of waiting for a coalesced
	// frame, so a linearizable read costs a round trip, not a window.
	urgent atomic.Int32
	direct atomic.Uint64 // coalescable calls sent straight out while urgent
}

func newTrackingTransport(t *raft.NetworkTransport) *trackingTransport {
	return &trackingTransport{NetworkTransport: t, peers: map[raft.ServerID]*PeerState{}, done: make(chan struct{})}
}

// coalesce makes the group a receiver of co's calls and, if send is set,
// routes its calls without entries through co. It must run before raft
// starts.
func (t *trackingTransport) coalesce(co *coalescer, group string, timeout time.Duration, send bool) {
	if timeout <= 0 || timeout > DefaultTransportTimeout {
		timeout = DefaultTransportTimeout
	}
	t.co, t.group, t.timeout, t.send = co, group, timeout, send
	t.rpcs = make(chan raft.RPC)
	go t.forward()
	co.register(group, t)
}

// forward passes the group's own inbound RPCs on to rpcs.
func (t *trackingTransport) forward() {
	in := t.NetworkTransport.Consumer()
	for {
		select {
		case rpc := <-in:
			select {
			case t.rpcs <- rpc:
			case <-t.done:
				return
			}
		case <-t.done:
			return
		}
	}
}

// Consumer returns the channel raft reads its RPCs from.
func (t *trackingTransport) Consumer() <-chan raft.RPC {
	if t.rpcs == nil {
		return t.NetworkTransport.Consumer()
	}
	return t.rpcs
}

// SetHeartbeatHandler keeps raft's heartbeat fast path for coalesced
// heartbeats too.
func (t *trackingTransport) SetHeartbeatHandler(fn func(raft.RPC)) {
	t.hbMu.Lock()
	t.hbFn = fn
	t.hbMu.Unlock()
	t.NetworkTransport.SetHeartbeatHandler(fn)
}

func (t *trackingTransport) heartbeatHandler() func(raft.RPC) {
	t.hbMu.Lock()
	defer t.hbMu.Unlock()
	return t.hbFn
}

// Close stops receiving coalesced calls and closes the group's transport.
func (t *trackingTransport) Close() error {
	t.closeOnce.Do(func() {
		close(t.done)
		if t.co != nil {
			t.co.unregister(t.group, t)
		}
	})
	return t.NetworkTransport.Close()
}

// AppendEntries sends the RPC and records the follower's answer.
func (t *trackingTransport) AppendEntries(id raft.ServerID, target raft.ServerAddress,
	args *raft.AppendEntriesRequest, resp *raft.AppendEntriesResponse) error {
	var err error
	viaCo := t.send && coalescable(args)
	if viaCo && t.urgent.Load() == 0 {
		err = t.co.send(target, t.group, args, resp, t.timeout)
	} else {
		if viaCo {
			t.direct.Add(1)
		}
		err = t.NetworkTransport.AppendEntries(id, target, args, resp)
	}
	if err != nil {
		return err
	}
	t.record(id, args, resp)
	return nil
}

func (t *trackingTransport) record(id raft.ServerID, args *raft.AppendEntriesRequest, resp *raft.AppendEntriesResponse) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.peers[id]
	if p == nil {
		p = &PeerState{ID: id}
		t.peers[id] = p
	}
	p.LastContact = time.Now()
	if !resp.Success {
		return
	}
	// Heartbeats carry no previous entry and say nothing of the log.
	switch n := len(args.Entries); {
	case n > 0:
		p.MatchIndex = args.Entries[n-1].Index
	case args.PrevLogEntry > 0:
		p.MatchIndex = args.PrevLogEntry
	}
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
