package monitor

import (
	"fmt"
	"net/http"

	"github.com/hashicorp/raft"
)

// Health is the /healthz document.
type Health struct {
	// Status is "ok" or "unavailable".
	Status string `json:"status"`
	// Error says why the node is unavailable.
	Error string `json:"error,omitempty"`
}

// health reports whether the node is ready: storage up, the meta group
// led and current, every local stream group current.
func (s *Server) health() Health {
	if s.cfg.Storage != nil {
		if err := s.cfg.Storage(); err != nil {
			return Health{Status: "unavailable", Error: err.Error()}
		}
	}
	r := s.cfg.Meta
	_, leader := r.LeaderWithID()
	h := judge(r.State(), string(leader), r.CommitIndex(), r.AppliedIndex(), s.cfg.MaxApplyLag)
	if h.Status != "ok" {
		return h
	}
	if s.cfg.Registered != nil && !s.cfg.Registered() {
		return Health{Status: "unavailable", Error: "this server is not recorded in the meta state yet"}
	}
	if sh := s.streamsHealth(); sh != nil {
		return *sh
	}
	return h
}

// judge decides health: the meta leader is known, the meta group has
// applied something (at least its configuration) and all but at most
// maxLag of the entries it has committed.
func judge(state raft.RaftState, leader string, commit, applied, maxLag uint64) Health {
	switch {
	case state == raft.Shutdown:
		return Health{Status: "unavailable", Error: "meta group is shut down"}
	case leader == "":
		return Health{Status: "unavailable", Error: "no meta leader known"}
	case applied == 0:
		// The leader's heartbeats arrive before its log: a node that has
		// applied nothing yet does not know the cluster's configuration.
		return Health{Status: "unavailable", Error: "meta group has applied nothing yet"}
	case commit > applied && commit-applied > maxLag:
		return Health{Status: "unavailable", Error: fmt.Sprintf(
			"meta group is %d entries behind (commit index %d, applied index %d)", commit-applied, commit, applied)}
	}
	return Health{Status: "ok"}
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	h := s.health()
	status := http.StatusOK
	if h.Status != "ok" {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, h)
}
