package raftgroup

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

// Coalescing. Every Raft group's leader sends each follower a heartbeat
// every HeartbeatTimeout/10 and, when no writes flow, an empty
// AppendEntries every CommitTimeout (so followers learn the commit index).
// With hundreds of groups on a node that is thousands of tiny RPCs a
// second, each a TCP write and read on both sides. The coalescer carries
// them instead in shared frames over one connection per peer node: calls
// made within CoalesceWindow of each other go out in one write, and each
// follower group answers its own call, so every group still hears from
// its own follower. AppendEntries that carry entries, votes and snapshots
// keep the group's own connections.

// coalesceStreamID is the mux id of the coalesced connections. Group ids
// are "meta", "stream:..." and "consumer:...", so it names no group.
const coalesceStreamID = "_coalesced"

var (
	// ErrCoalescerClosed is returned by a coalesced call once its mux closes.
	ErrCoalescerClosed = errors.New("raftgroup: coalescer closed")
	// ErrCoalescedTimeout is returned by a coalesced call not answered in time.
	ErrCoalescedTimeout = errors.New("raftgroup: coalesced call timed out")
	// ErrUnknownGroup is a follower's answer for a group it does not run.
	ErrUnknownGroup = errors.New("raftgroup: group not running on peer")
)

// coalescedReq is one call in a request frame.
type coalescedReq struct {
	ID    uint64
	Group string
	Req   raft.AppendEntriesRequest
}

// coalescedResp is one answer in a response frame; Err is empty on success.
type coalescedResp struct {
	ID   uint64
	Resp raft.AppendEntriesResponse
	Err  string
}

// coalescable reports whether an AppendEntries may travel coalesced: it
// carries no entries (a heartbeat or a commit-index tick).
func coalescable(args *raft.AppendEntriesRequest) bool { return len(args.Entries) == 0 }

// isHeartbeat is raft.NetworkTransport's test for its heartbeat fast path.
func isHeartbeat(req *raft.AppendEntriesRequest) bool {
	leader := req.Addr
	if len(leader) == 0 {
		leader = req.Leader
	}
	return req.Term != 0 && leader != nil && req.PrevLogEntry == 0 && req.PrevLogTerm == 0 &&
		len(req.Entries) == 0 && req.LeaderCommitIndex == 0
}

// coalescer is one mux's sending and receiving side of coalesced calls.
type coalescer struct {
	layer  *muxStream
	window time.Duration
	logger hclog.Logger
	nextID atomic.Uint64
	done   chan struct{}
	wg     sync.WaitGroup

	mu     sync.Mutex
	closed bool
	groups map[string]*trackingTransport // receiving side
	peers  map[raft.ServerAddress]*coalescedPeer
}

func newCoalescer(layer *muxStream, window time.Duration, logger hclog.Logger) *coalescer {
	c := &coalescer{
		layer:  layer,
		window: window,
		logger: logger,
		done:   make(chan struct{}),
		groups: map[string]*trackingTransport{},
		peers:  map[raft.ServerAddress]*coalescedPeer{},
	}
	c.wg.Add(1)
	go c.acceptLoop()
	return c
}

// register makes the group's transport the receiver of calls for id.
func (c *coalescer) register(id string, t *trackingTransport) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.groups[id] = t
}

// unregister forgets the group if t still receives for it.
func (c *coalescer) unregister(id string, t *trackingTransport) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.groups[id] == t {
		delete(c.groups, id)
	}
}

func (c *coalescer) group(id string) *trackingTransport {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.groups[id]
}

// peer returns the sender for target, starting it on first use.
func (c *coalescer) peer(target raft.ServerAddress) (*coalescedPeer, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrCoalescerClosed
	}
	p := c.peers[target]
	if p == nil {
		p = newCoalescedPeer(c, target)
		c.peers[target] = p
		c.wg.Add(1)
		go p.run()
	}
	return p, nil
}

// send makes one coalesced call to group on target and waits for its
// answer, at most timeout.
func (c *coalescer) send(target raft.ServerAddress, group string, args *raft.AppendEntriesRequest,
	resp *raft.AppendEntriesResponse, timeout time.Duration) error {
	p, err := c.peer(target)
	if err != nil {
		return err
	}
	call := &coalescedCall{id: c.nextID.Add(1), group: group, req: *args, done: make(chan coalescedResp, 1)}
	p.enqueue(call)
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case r := <-call.done:
		if r.Err != "" {
			return errors.New(r.Err)
		}
		*resp = r.Resp
		return nil
	case <-t.C:
		p.abandon(call, timeout)
		return fmt.Errorf("%w: group %s to %s after %s", ErrCoalescedTimeout, group, target, timeout)
	case <-c.done:
		return ErrCoalescerClosed
	}
}

// close stops every sender and closes their connections; the receiving
// side ends with the mux's stream layer.
func (c *coalescer) close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	close(c.done)
	peers := make([]*coalescedPeer, 0, len(c.peers))
	for _, p := range c.peers {
		peers = append(peers, p)
	}
	c.mu.Unlock()
	for _, p := range peers {
		p.closeConn(ErrCoalescerClosed)
	}
	c.layer.shutdown()
	c.wg.Wait()
}
