package raftgroup

import (
	"github.com/hashicorp/raft"
)

// restoreAfterFirstLeader puts base's heartbeat and election timeouts back
// once the group knows a leader, ending Config.FirstElection's short ones.
//
// hashicorp/raft starts every follower with a randomized timeout of one
// to two HeartbeatTimeouts, so a new group with the default 1 s elects in
// 1-2 s; a preferred leader started with FirstElection = LeaderLeaseTimeout
// (the shortest raft accepts) campaigns first and elects in 0.5-1 s. The
// leader lease is not reloadable and stays as configured throughout.
func (g *Group) restoreAfterFirstLeader(base *raft.Config) {
	ch := make(chan raft.Observation, 4)
	obs := raft.NewObserver(ch, false, func(o *raft.Observation) bool {
		lo, ok := o.Data.(raft.LeaderObservation)
		return ok && lo.LeaderID != ""
	})
	g.raft.RegisterObserver(obs)
	go func() {
		defer g.raft.DeregisterObserver(obs)
		if _, id := g.raft.LeaderWithID(); id == "" {
			select {
			case <-g.stop:
				return
			case <-ch:
			}
		}
		rc := g.raft.ReloadableConfig()
		rc.HeartbeatTimeout, rc.ElectionTimeout = base.HeartbeatTimeout, base.ElectionTimeout
		if err := g.raft.ReloadConfig(rc); err != nil {
			g.logger.Error("restore raft timeouts after first election", "error", err)
			return
		}
		g.logger.Debug("first leader known: raft timeouts restored", "heartbeat_timeout", base.HeartbeatTimeout)
	}()
}
