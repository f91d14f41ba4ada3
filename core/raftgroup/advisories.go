package raftgroup

import (
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	"github.com/prometheus/client_golang/prometheus"
)

// Advisory kinds, the `kind` label of strata_advisories_total.
const (
	AdvisoryLeaderElected = "leader_elected"
	AdvisoryLeaderLost    = "leader_lost"
	AdvisoryPeerAdded     = "peer_added"
	AdvisoryPeerRemoved   = "peer_removed"
	AdvisoryPeerFailing   = "peer_heartbeat_failed"
)

// Advisories logs and counts, for every group of a node, the events an
// operator watches for (JetStream's advisories): a leader elected or
// lost (a group that cannot reach its quorum loses its leader), a peer
// added or removed, a peer failing heartbeats.
type Advisories struct {
	total  *prometheus.CounterVec
	logger hclog.Logger
}

// NewAdvisories returns the advisories of the named server.
func NewAdvisories(server string, logger hclog.Logger) *Advisories {
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	return &Advisories{
		total: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name:        "strata_advisories_total",
			Help:        "Raft events in this node's groups: leader elected or lost, peer added, removed or failing.",
			ConstLabels: prometheus.Labels{"server": server},
		}, []string{"kind", "group"}),
		logger: logger,
	}
}

// Collector returns the counter to register on /metrics.
func (a *Advisories) Collector() prometheus.Collector { return a.total }

// watch observes g until stop is closed.
func (a *Advisories) watch(g *Group, stop <-chan struct{}) {
	ch := make(chan raft.Observation, 64)
	obs := raft.NewObserver(ch, false, nil)
	g.raft.RegisterObserver(obs)
	go func() {
		defer g.raft.DeregisterObserver(obs)
		for {
			select {
			case <-stop:
				return
			case o := <-ch:
				a.note(g.id, o)
			}
		}
	}()
}

func (a *Advisories) note(group string, o raft.Observation) {
	kind, args := "", []any{"group", group}
	switch d := o.Data.(type) {
	case raft.LeaderObservation:
		kind = AdvisoryLeaderElected
		if d.LeaderID == "" {
			kind = AdvisoryLeaderLost
		}
		args = append(args, "leader", string(d.LeaderID))
	case raft.PeerObservation:
		kind = AdvisoryPeerAdded
		if d.Removed {
			kind = AdvisoryPeerRemoved
		}
		args = append(args, "peer", string(d.Peer.ID))
	case raft.FailedHeartbeatObservation:
		kind = AdvisoryPeerFailing
		args = append(args, "peer", string(d.PeerID), "last_contact", d.LastContact)
	default:
		return
	}
	a.total.WithLabelValues(kind, group).Inc()
	a.logger.Info("advisory: "+kind, args...)
}
