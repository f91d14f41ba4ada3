// Package recovery owns bringing Raft groups back after they lost their
// quorum for good: run on each surviving server while it is stopped, it
// rewrites the meta group's and the server's stream groups'
// configurations to the survivors named in a peers file, with
// hashicorp/raft's RecoverCluster (Consul's peers.json procedure).
package recovery

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/core/config"
	"github.com/stratadb/strata/core/meta"
	"github.com/stratadb/strata/core/replica"
	"github.com/stratadb/strata/core/storage"
	"github.com/stratadb/strata/core/stream"
)

// MetaGroup is the meta group's id (core/node.MetaGroup).
const MetaGroup = "meta"

// ErrNotInPeers refuses recovering a server the peers file leaves out.
var ErrNotInPeers = errors.New("this server is not in the peers file")

// Group is one recovered group and its new configuration.
type Group struct {
	Name  string   `json:"name"`
	Peers []string `json:"peers"`
}

// Run recovers, on the stopped server cfg describes, the meta group and
// every stream group the server holds, each with the servers of peers
// that belong to it. Entries in a group's log that were never committed
// are applied too: that is the price of recovering without a quorum.
func Run(cfg *config.Config, peers raft.Configuration, logger hclog.Logger) ([]Group, error) {
	if !slices.ContainsFunc(peers.Servers, func(s raft.Server) bool { return string(s.ID) == cfg.ServerName }) {
		return nil, fmt.Errorf("%w: %s", ErrNotInPeers, cfg.ServerName)
	}
	host, err := storage.Open(cfg.StorageConfig(logger.Named("storage")))
	if err != nil {
		return nil, err
	}
	defer host.Close()
	db, err := stream.OpenDB(filepath.Join(cfg.DataDir, "messages"), logger.Named("messages"))
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rc, err := cfg.RaftConfig(raft.DefaultConfig())
	if err != nil {
		return nil, err
	}
	rc.LocalID = raft.ServerID(cfg.ServerName)
	rc.Logger = logger.Named("raft")
	r := recoverer{host: host, db: db, rc: rc, logger: logger}
	return r.all(peers)
}

type recoverer struct {
	host   *storage.Host
	db     *stream.DB
	rc     *raft.Config
	logger hclog.Logger
}

func (r recoverer) all(peers raft.Configuration) ([]Group, error) {
	fsm := meta.NewFSM()
	if err := r.group(MetaGroup, fsm, peers); err != nil {
		return nil, fmt.Errorf("meta group: %w", err)
	}
	out := []Group{{Name: MetaGroup, Peers: ids(peers)}}
	for _, st := range fsm.Streams() {
		if !slices.Contains(st.Peers, string(r.rc.LocalID)) {
			continue
		}
		conf := only(peers, st.Peers)
		if err := r.stream(st, conf); err != nil {
			return out, fmt.Errorf("stream %s: %w", st.Config.Name, err)
		}
		out = append(out, Group{Name: "stream " + st.Config.Name, Peers: ids(conf)})
	}
	return out, nil
}

func (r recoverer) stream(st meta.Stream, conf raft.Configuration) error {
	var store stream.Store = stream.NewMemStore()
	if st.Config.Storage == stream.FileStorage {
		s, err := r.db.Open(st.Group)
		if err != nil {
			return err
		}
		store = s
	}
	fsm := stream.NewFSM(stream.FSMConfig{Config: st.Config, Store: store, Logger: r.logger.Named("fsm")})
	defer fsm.CloseStore()
	return r.group(replica.GroupID(st), fsm, conf)
}

func (r recoverer) group(id string, fsm raft.FSM, conf raft.Configuration) error {
	st := r.host.Stores(id)
	_, trans := raft.NewInmemTransport("")
	if err := raft.RecoverCluster(r.rc, fsm, st.Log, st.Stable, st.Snapshots, trans, conf); err != nil {
		return err
	}
	r.logger.Info("recovered group", "group", id, "peers", ids(conf))
	return nil
}

// only returns the servers of conf named in names.
func only(conf raft.Configuration, names []string) raft.Configuration {
	var out raft.Configuration
	for _, s := range conf.Servers {
		if slices.Contains(names, string(s.ID)) {
			out.Servers = append(out.Servers, s)
		}
	}
	return out
}

func ids(conf raft.Configuration) []string {
	var out []string
	for _, s := range conf.Servers {
		out = append(out, string(s.ID))
	}
	return out
}
