package monitor

import (
	"net/http"

	"github.com/hashicorp/raft"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

var _ prometheus.Collector = (*nodeCollector)(nil)

// metricsHandler serves the Go runtime, process and node metrics from a
// registry of this server's own, so several nodes can share a process.
func (s *Server) metricsHandler() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		newNodeCollector(s),
		newStreamCollector(s),
		newConsumerCollector(s),
	)
	reg.MustRegister(s.cfg.Collectors...)
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: s.cfg.Logger.StandardLogger(nil)})
}

var raftStates = []raft.RaftState{raft.Follower, raft.Candidate, raft.Leader, raft.Shutdown}

// nodeCollector reads the meta group's state and the member count at
// each scrape.
type nodeCollector struct {
	s                                  *Server
	state, term, last, commit, applied *prometheus.Desc
	leader, peers, members             *prometheus.Desc
}

func newNodeCollector(s *Server) *nodeCollector {
	desc := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, prometheus.Labels{"server": s.cfg.ServerName})
	}
	return &nodeCollector{
		s:       s,
		state:   desc("strata_meta_raft_state", "1 for the meta group's current Raft state on this node, else 0.", "state"),
		term:    desc("strata_meta_raft_term", "The meta group's current Raft term."),
		last:    desc("strata_meta_raft_last_index", "The last index in the meta group's log on this node."),
		commit:  desc("strata_meta_raft_commit_index", "The meta group's commit index on this node."),
		applied: desc("strata_meta_raft_applied_index", "The meta group's applied index on this node."),
		leader:  desc("strata_meta_raft_leader_known", "1 if this node knows the meta group's leader, else 0."),
		peers:   desc("strata_meta_raft_peers", "Servers in the meta group's Raft configuration."),
		members: desc("strata_cluster_members", "Members this node knows, itself included."),
	}
}

func (c *nodeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.state, c.term, c.last, c.commit, c.applied, c.leader, c.peers, c.members} {
		ch <- d
	}
}

func (c *nodeCollector) Collect(ch chan<- prometheus.Metric) {
	r := c.s.cfg.Meta
	current := r.State()
	for _, st := range raftStates {
		ch <- gauge(c.state, boolFloat(st == current), st.String())
	}
	_, leader := r.LeaderWithID()
	ch <- gauge(c.term, float64(r.CurrentTerm()))
	ch <- gauge(c.last, float64(r.LastIndex()))
	ch <- gauge(c.commit, float64(r.CommitIndex()))
	ch <- gauge(c.applied, float64(r.AppliedIndex()))
	ch <- gauge(c.leader, boolFloat(leader != ""))
	if f := r.GetConfiguration(); f.Error() == nil {
		ch <- gauge(c.peers, float64(len(f.Configuration().Servers)))
	}
	ch <- gauge(c.members, float64(len(c.s.cfg.Members())))
}

func gauge(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
