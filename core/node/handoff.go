package node

import (
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// handOffTimeout bounds handing off leaderships at shutdown.
const handOffTimeout = 5 * time.Second

// handOff moves every leadership this node holds (consumer and stream
// groups and the meta group) to another server before it stops, as a NATS server in
// lame duck mode does: clients see a short pause at a new leader instead
// of an election timeout. Groups with no other voter keep their leader.
func (n *Node) handOff() {
	var groups []*raft.Raft
	if n.replicas != nil {
		for _, c := range n.replicas.Consumers() {
			groups = append(groups, c.Group().Raft())
		}
		for _, r := range n.replicas.All() {
			groups = append(groups, r.Group().Raft())
		}
	}
	if n.meta != nil {
		groups = append(groups, n.meta.Raft())
	}
	var wg sync.WaitGroup
	for _, r := range groups {
		if r.State() != raft.Leader || voterCount(r) < 2 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.LeadershipTransfer().Error(); err != nil {
				n.logger.Warn("handing off leadership failed", "error", err)
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(handOffTimeout):
		n.logger.Warn("handing off leaderships took too long; stopping anyway")
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
