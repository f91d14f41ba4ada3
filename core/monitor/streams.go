package monitor

import (
	"fmt"

	"github.com/hashicorp/raft"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratadb/strata/core/stream"
)

// StreamReplica is one stream replica on this node, as /jsz shows it.
type StreamReplica struct {
	Name     string   `json:"name"`
	Group    string   `json:"group"`
	Storage  string   `json:"storage"`
	Peers    []string `json:"peers"`
	Messages uint64   `json:"messages"`
	Bytes    uint64   `json:"bytes"`
	FirstSeq uint64   `json:"first_seq"`
	LastSeq  uint64   `json:"last_seq"`
	// Raft is the replica's Raft group, read when the document is made.
	Raft    *raft.Raft `json:"-"`
	RaftDoc RaftGroup  `json:"raft"`
	// Reader reads the replica's messages for its digest.
	Reader stream.Reader `json:"-"`
	// Digest is a SHA-256 over every message of the replica
	// (stream.DigestOf), when /jsz is asked for it (?digest=true);
	// DigestError says why it could not be read.
	Digest      *stream.Digest `json:"digest,omitempty"`
	DigestError string         `json:"digest_error,omitempty"`
}

// API is the client API's counters on this node.
type API struct {
	Requests uint64 `json:"requests"`
	Errors   uint64 `json:"errors"`
	// Connections is the client connections the node serves now.
	Connections int64 `json:"connections"`
	// LimitRefusals counts connections and calls refused for
	// max_connections and max_fetches_per_connection.
	LimitRefusals uint64 `json:"limit_refusals"`
}

// streams describes the local stream replicas; with digests, each with
// the digest of its messages (a read of all of them).
func (s *Server) streams(digests bool) []StreamReplica {
	if s.cfg.Streams == nil {
		return []StreamReplica{}
	}
	out := s.cfg.Streams()
	for i := range out {
		out[i].RaftDoc = raftGroup(out[i].Raft)
		if digests && out[i].Reader != nil {
			d, err := stream.DigestOf(out[i].Reader)
			if err != nil {
				out[i].DigestError = err.Error()
				continue
			}
			out[i].Digest = &d
		}
	}
	return out
}

// streamsHealth reports the first stream group that is behind on
// applying what it has committed.
func (s *Server) streamsHealth() *Health {
	if s.cfg.Streams == nil {
		return nil
	}
	for _, st := range s.cfg.Streams() {
		commit, applied := st.Raft.CommitIndex(), st.Raft.AppliedIndex()
		if commit > applied && commit-applied > s.cfg.MaxApplyLag {
			return &Health{Status: "unavailable", Error: fmt.Sprintf(
				"stream %s is %d entries behind (commit index %d, applied index %d)", st.Name, commit-applied, commit, applied)}
		}
	}
	return nil
}

// streamCollector reads every stream replica's state at each scrape.
type streamCollector struct {
	s                                       *Server
	msgs, bytes, last, leader, term, commit *prometheus.Desc
	requests, errors, conns, refusals       *prometheus.Desc
}

func newStreamCollector(s *Server) *streamCollector {
	desc := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, prometheus.Labels{"server": s.cfg.ServerName})
	}
	return &streamCollector{
		s:        s,
		msgs:     desc("strata_stream_messages", "Messages in the stream replica on this node.", "stream"),
		bytes:    desc("strata_stream_bytes", "Bytes in the stream replica on this node.", "stream"),
		last:     desc("strata_stream_last_seq", "The last sequence in the stream replica on this node.", "stream"),
		leader:   desc("strata_stream_raft_leader", "1 if this node leads the stream's Raft group, else 0.", "stream"),
		term:     desc("strata_stream_raft_term", "The stream group's Raft term on this node.", "stream"),
		commit:   desc("strata_stream_raft_commit_index", "The stream group's commit index on this node.", "stream"),
		requests: desc("strata_api_requests_total", "Client API calls this node answered."),
		errors:   desc("strata_api_errors_total", "Client API calls this node answered with an error."),
		conns:    desc("strata_api_connections", "Client connections this node serves."),
		refusals: desc("strata_api_limit_refusals_total", "Client connections and calls refused for max_connections and max_fetches_per_connection."),
	}
}

func (c *streamCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.msgs, c.bytes, c.last, c.leader, c.term, c.commit, c.requests, c.errors, c.conns, c.refusals} {
		ch <- d
	}
}

func (c *streamCollector) Collect(ch chan<- prometheus.Metric) {
	if c.s.cfg.API != nil {
		a := c.s.cfg.API()
		ch <- prometheus.MustNewConstMetric(c.requests, prometheus.CounterValue, float64(a.Requests))
		ch <- prometheus.MustNewConstMetric(c.errors, prometheus.CounterValue, float64(a.Errors))
		ch <- prometheus.MustNewConstMetric(c.conns, prometheus.GaugeValue, float64(a.Connections))
		ch <- prometheus.MustNewConstMetric(c.refusals, prometheus.CounterValue, float64(a.LimitRefusals))
	}
	if c.s.cfg.Streams == nil {
		return
	}
	for _, st := range c.s.cfg.Streams() {
		ch <- gauge(c.msgs, float64(st.Messages), st.Name)
		ch <- gauge(c.bytes, float64(st.Bytes), st.Name)
		ch <- gauge(c.last, float64(st.LastSeq), st.Name)
		ch <- gauge(c.leader, boolFloat(st.Raft.State() == raft.Leader), st.Name)
		ch <- gauge(c.term, float64(st.Raft.CurrentTerm()), st.Name)
		ch <- gauge(c.commit, float64(st.Raft.CommitIndex()), st.Name)
	}
}
