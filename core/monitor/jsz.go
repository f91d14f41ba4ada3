package monitor

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/core/membership"
)

// Jsz is the /jsz document: the node's view of the cluster and of the
// meta Raft group.
type Jsz struct {
	ServerName string              `json:"server_name"`
	Cluster    string              `json:"cluster"`
	Now        time.Time           `json:"now"`
	Members    []membership.Member `json:"members"`
	Meta       RaftGroup           `json:"meta"`
	Streams    []StreamReplica     `json:"streams"`
	Consumers  []ConsumerReplica   `json:"consumers"`
	API        API                 `json:"api"`
}

// RaftGroup is one Raft group's state on this node.
type RaftGroup struct {
	// Leader is the leader's server id, empty when none is known.
	Leader       string    `json:"leader"`
	LeaderAddr   string    `json:"leader_addr,omitempty"`
	State        string    `json:"state"`
	Term         uint64    `json:"term"`
	LastIndex    uint64    `json:"last_index"`
	CommitIndex  uint64    `json:"commit_index"`
	AppliedIndex uint64    `json:"applied_index"`
	LastContact  time.Time `json:"last_contact,omitzero"`
	Peers        []Peer    `json:"peers"`
	// Error is set when the configuration could not be read.
	Error string `json:"error,omitempty"`
}

// Peer is a server in the group's Raft configuration.
type Peer struct {
	ID       string `json:"id"`
	Address  string `json:"address"`
	Suffrage string `json:"suffrage"`
}

// raftGroup reads r's state.
func raftGroup(r *raft.Raft) RaftGroup {
	addr, id := r.LeaderWithID()
	g := RaftGroup{
		Leader: string(id), LeaderAddr: string(addr), State: r.State().String(),
		Term: r.CurrentTerm(), LastIndex: r.LastIndex(), CommitIndex: r.CommitIndex(),
		AppliedIndex: r.AppliedIndex(), LastContact: r.LastContact(), Peers: []Peer{},
	}
	f := r.GetConfiguration()
	if err := f.Error(); err != nil {
		g.Error = err.Error()
		return g
	}
	for _, s := range f.Configuration().Servers {
		g.Peers = append(g.Peers, Peer{ID: string(s.ID), Address: string(s.Address), Suffrage: s.Suffrage.String()})
	}
	return g
}

func (s *Server) jszDoc(digests bool) Jsz {
	return Jsz{
		ServerName: s.cfg.ServerName, Cluster: s.cfg.ClusterName, Now: time.Now().UTC(),
		Members: s.cfg.Members(), Meta: raftGroup(s.cfg.Meta), Streams: s.streams(digests), Consumers: s.consumers(), API: s.api(),
	}
}

// jsz serves the document; ?digest=true adds each stream replica's
// digest, which reads every message it holds.
func (s *Server) jsz(w http.ResponseWriter, r *http.Request) {
	digests := false
	if v := r.URL.Query().Get("digest"); v != "" {
		var err error
		if digests, err = strconv.ParseBool(v); err != nil {
			http.Error(w, fmt.Sprintf("digest=%q: want true or false", v), http.StatusBadRequest)
			return
		}
	}
	writeJSON(w, http.StatusOK, s.jszDoc(digests))
}

func (s *Server) api() API {
	if s.cfg.API == nil {
		return API{}
	}
	return s.cfg.API()
}
