package monitor

import (
	"github.com/hashicorp/raft"
	"github.com/prometheus/client_golang/prometheus"
)

// ConsumerReplica is one consumer replica on this node, as /jsz shows it.
type ConsumerReplica struct {
	Stream string   `json:"stream"`
	Name   string   `json:"name"`
	Group  string   `json:"group"`
	Peers  []string `json:"peers"`
	// Delivered and AckFloor are stream sequences.
	Delivered   uint64 `json:"delivered_stream_seq"`
	AckFloor    uint64 `json:"ack_floor_stream_seq"`
	AckPending  int    `json:"ack_pending"`
	Redelivered uint64 `json:"redelivered"`
	Unprocessed uint64 `json:"unprocessed"`
	Waiting     int    `json:"waiting"`
	// Raft is the replica's Raft group, read when the document is made.
	Raft    *raft.Raft `json:"-"`
	RaftDoc RaftGroup  `json:"raft"`
}

func (s *Server) consumers() []ConsumerReplica {
	if s.cfg.Consumers == nil {
		return []ConsumerReplica{}
	}
	out := s.cfg.Consumers()
	for i := range out {
		out[i].RaftDoc = raftGroup(out[i].Raft)
	}
	return out
}

// consumerCollector reads every consumer replica's state at each scrape.
type consumerCollector struct {
	s                                                 *Server
	pending, redelivered, unprocessed, waiting, floor *prometheus.Desc
	leader                                            *prometheus.Desc
}

func newConsumerCollector(s *Server) *consumerCollector {
	desc := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, []string{"stream", "consumer"}, prometheus.Labels{"server": s.cfg.ServerName})
	}
	return &consumerCollector{
		s:           s,
		pending:     desc("strata_consumer_ack_pending", "Deliveries awaiting an ack."),
		redelivered: desc("strata_consumer_redelivered", "Pending messages delivered more than once."),
		unprocessed: desc("strata_consumer_unprocessed", "Matching messages not delivered yet (num pending)."),
		waiting:     desc("strata_consumer_waiting", "Pull requests waiting on this node (the leader)."),
		floor:       desc("strata_consumer_ack_floor", "The stream sequence every message up to which is processed."),
		leader:      desc("strata_consumer_raft_leader", "1 if this node leads the consumer's Raft group, else 0."),
	}
}

func (c *consumerCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.pending, c.redelivered, c.unprocessed, c.waiting, c.floor, c.leader} {
		ch <- d
	}
}

func (c *consumerCollector) Collect(ch chan<- prometheus.Metric) {
	if c.s.cfg.Consumers == nil {
		return
	}
	for _, r := range c.s.cfg.Consumers() {
		ch <- gauge(c.pending, float64(r.AckPending), r.Stream, r.Name)
		ch <- gauge(c.redelivered, float64(r.Redelivered), r.Stream, r.Name)
		ch <- gauge(c.unprocessed, float64(r.Unprocessed), r.Stream, r.Name)
		ch <- gauge(c.waiting, float64(r.Waiting), r.Stream, r.Name)
		ch <- gauge(c.floor, float64(r.AckFloor), r.Stream, r.Name)
		ch <- gauge(c.leader, boolFloat(r.Raft.State() == raft.Leader), r.Stream, r.Name)
	}
}
