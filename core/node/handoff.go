package node

import (
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// handOffTimeout bounds handing off leaderships at shutdown, all phases
// together.
const handOffTimeout = 5 * time.Second

// handOff moves every leadership this node holds to another server before
// it stops, as a NATS server in lame duck mode does: clients see a short
// pause at a new leader instead of an election timeout. It goes like a
// draining server: the consumer groups first, then the stream groups,
// then the meta group, each phase waited for before the next begins, so
// a consumer's new leader takes over while its stream's leader and the
// meta group still answer here. Groups with no other voter keep their
// leader. Once handOffTimeout has passed, the phases left are started
// without waiting.
func (n *Node) handOff() {
	var consumers, streams, meta []*raft.Raft
	if n.replicas != nil {
		for _, c := range n.replicas.Consumers() {
			consumers = append(consumers, c.Group().Raft())
		}
		for _, r := range n.replicas.All() {
			streams = append(streams, r.Group().Raft())
		}
	}
	if n.meta != nil {
		meta = append(meta, n.meta.Raft())
	}
	deadline := time.Now().Add(handOffTimeout)
	for _, phase := range []struct {
		what   string
		groups []*raft.Raft
	}{{"consumer", consumers}, {"stream", streams}, {"meta", meta}} {
		if !n.transferLeaderships(phase.groups, deadline) {
			n.logger.Warn("handing off leaderships took too long; stopping anyway", "groups", phase.what)
		}
	}
}

// transferLeaderships transfers, at once, the leadership of each group
// this node leads and that has another voter, and waits for them until
// deadline. It reports whether they all finished in time.
func (n *Node) transferLeaderships(groups []*raft.Raft, deadline time.Time) bool {
	var wg sync.WaitGroup
	started := 0
	for _, r := range groups {
		if r.State() != raft.Leader || voterCount(r) < 2 {
			continue
		}
		started++
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.LeadershipTransfer().Error(); err != nil {
				n.logger.Warn("handing off leadership failed", "error", err)
			}
		}()
	}
	if started == 0 {
		return true
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	select {
	case <-done:
		return true
	case <-timer.C:
		return false
	}
}

func voterCount(r *raft.Raft) int {
	f := r.GetConfiguration()
	if f.Error() != nil {
		return 0
	}
	count := 0
	for _, s := range f.Configuration().Servers {
		if s.Suffrage == raft.Voter {
			count++
		}
	}
	return count
}
