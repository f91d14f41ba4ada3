package replica

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/core/raftgroup"
)

const (
	// promoteLag is how far behind the leader's log a new replica may be
	// and still be promoted to voter.
	promoteLag = 64
	// promoteContact is how recently the leader must have heard from a
	// new replica to promote it.
	promoteContact = 2 * time.Second
)

// alignVoters brings the group's membership in line with the placed
// peers, one safe step at a time, as Consul's autopilot does: a new peer
// joins as a nonvoter and becomes a voter once it has caught up (so a
// peer that is slow, or dead, never counts towards the quorum); servers
// no longer placed leave only once every placed peer votes, this leader
// last.
func (r *Replica) alignVoters(peers []string, address func(string) (raft.ServerAddress, bool)) error {
	return voters{group: r.group, name: "stream " + r.Name(), logger: r.logger}.align(peers, address)
}

// voters changes one group's membership; name says which group in logs.
type voters struct {
	group  *raftgroup.Group
	name   string
	logger hclog.Logger
}

func (v voters) align(peers []string, address func(string) (raft.ServerAddress, bool)) error {
	rf := v.group.Raft()
	f := rf.GetConfiguration()
	if err := f.Error(); err != nil {
		return err
	}
	have := map[string]raft.ServerSuffrage{}
	for _, s := range f.Configuration().Servers {
		have[string(s.ID)] = s.Suffrage
	}
	if err := v.addNonvoters(peers, have, address); err != nil {
		return err
	}
	if !v.promote(peers, have, address) {
		return nil // removals wait until every placed peer votes
	}
	return v.removeUnplaced(peers, have)
}

func (v voters) addNonvoters(peers []string, have map[string]raft.ServerSuffrage,
	address func(string) (raft.ServerAddress, bool)) error {
	for _, p := range peers {
		if _, ok := have[p]; ok {
			continue
		}
		addr, ok := address(p)
		if !ok {
			return fmt.Errorf("peer %s has no known address", p)
		}
		v.logger.Info("adding replica as nonvoter", "group", v.name, "peer", p)
		if err := v.group.Raft().AddNonvoter(raft.ServerID(p), addr, 0, opTimeout).Error(); err != nil {
			return fmt.Errorf("add %s: %w", p, err)
		}
		have[p] = raft.Nonvoter
	}
	return nil
}

// promote makes caught-up nonvoters among peers voters, and reports
// whether every peer now votes.
func (v voters) promote(peers []string, have map[string]raft.ServerSuffrage,
	address func(string) (raft.ServerAddress, bool)) bool {
	rf := v.group.Raft()
	state := map[raft.ServerID]time.Time{}
	match := map[raft.ServerID]uint64{}
	for _, p := range v.group.Peers() {
		state[p.ID], match[p.ID] = p.LastContact, p.MatchIndex
	}
	all := true
	for _, p := range peers {
		if have[p] == raft.Voter {
			continue
		}
		id := raft.ServerID(p)
		caughtUp := match[id]+promoteLag >= rf.LastIndex() && time.Since(state[id]) < promoteContact
		addr, ok := address(p)
		if !caughtUp || !ok {
			all = false
			continue
		}
		v.logger.Info("promoting caught-up replica to voter", "group", v.name, "peer", p)
		if err := rf.AddVoter(id, addr, 0, opTimeout).Error(); err != nil {
			v.logger.Warn("promoting replica failed; will retry", "group", v.name, "peer", p, "error", err)
			all = false
			continue
		}
		have[p] = raft.Voter
	}
	return all
}

// removeUnplaced removes the servers no longer placed, this leader last.
func (v voters) removeUnplaced(peers []string, have map[string]raft.ServerSuffrage) error {
	ids := make([]string, 0, len(have))
	for id := range have {
		if !slices.Contains(peers, id) {
			ids = append(ids, id)
		}
	}
	_, leader := v.group.Raft().LeaderWithID()
	leaderID := string(leader)
	slices.SortFunc(ids, func(a, b string) int {
		if (a == leaderID) != (b == leaderID) {
			if a == leaderID {
				return 1
			}
			return -1
		}
		return strings.Compare(a, b)
	})
	for _, id := range ids {
		v.logger.Info("removing replica", "group", v.name, "peer", id)
		if err := v.group.Raft().RemoveServer(raft.ServerID(id), 0, opTimeout).Error(); err != nil {
			return fmt.Errorf("remove %s: %w", id, err)
		}
	}
	return nil
}
