package systemtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/core/raftgroup"
	"github.com/stratadb/strata/core/storage"
)

// nodeEnv is how the test tells a node process what to be.
const nodeEnv = "STRATA_SYSTEST_NODE"

// nodeSpec is a node's settings, passed as JSON in nodeEnv.
type nodeSpec struct {
	ID      string            `json:"id"`
	Raft    string            `json:"raft"` // the node's shared cluster port
	HTTP    string            `json:"http"` // the control port the test drives
	Peers   map[string]string `json:"peers"`
	Groups  []string          `json:"groups"`
	DataDir string            `json:"data_dir"`
	Badger  string            `json:"badger"`
	File    string            `json:"file"`
}

// runNode runs a node until SIGTERM; it is the test binary's main when
// nodeEnv is set.
func runNode(spec nodeSpec) error {
	logger := hclog.New(&hclog.LoggerOptions{Name: spec.ID, Level: hclog.Info, Output: os.Stderr})
	host, err := storage.Open(storageConfig(spec, logger))
	if err != nil {
		return err
	}
	defer host.Close()
	muxCfg := raftgroup.DefaultMuxConfig()
	muxCfg.Logger = logger.Named("mux")
	mux, err := raftgroup.Listen(spec.Raft, muxCfg)
	if err != nil {
		return err
	}
	defer mux.Close()
	n := &node{groups: map[string]*raftgroup.Group{}, fsms: map[string]*idSetFSM{}}
	for _, g := range spec.Groups {
		if err := n.startGroup(spec, mux, host, g, logger); err != nil {
			return err
		}
	}
	srv := &http.Server{Addr: spec.HTTP, Handler: n.routes()}
	go func() { _ = srv.ListenAndServe() }()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	_ = srv.Close()
	for _, g := range n.groups {
		_ = g.Shutdown()
	}
	return nil
}

func storageConfig(spec nodeSpec, logger hclog.Logger) storage.Config {
	cfg := storage.DefaultConfig()
	cfg.DataDir = spec.DataDir
	cfg.Plugins = map[string]storage.PluginConfig{
		"badger": {Name: "badger", Path: spec.Badger},
		"file":   {Name: "file", Path: spec.File},
	}
	cfg.Log, cfg.Stable, cfg.Snapshot = "badger", "badger", "file"
	cfg.Logger = logger.Named("storage")
	return cfg
}

type node struct {
	groups map[string]*raftgroup.Group
	fsms   map[string]*idSetFSM
}

func (n *node) startGroup(spec nodeSpec, mux *raftgroup.Mux, host *storage.Host, group string, logger hclog.Logger) error {
	cfg := raftgroup.DefaultConfig()
	cfg.LocalID = raft.ServerID(spec.ID)
	cfg.GroupID = group
	st := host.Stores(group)
	cfg.Stores = raftgroup.Stores{Log: st.Log, Stable: st.Stable, Snapshots: st.Snapshots}
	fsm := newIDSetFSM()
	cfg.FSM = fsm
	cfg.Raft.HeartbeatTimeout = 500 * time.Millisecond
	cfg.Raft.ElectionTimeout = 500 * time.Millisecond
	cfg.Raft.LeaderLeaseTimeout = 250 * time.Millisecond
	cfg.Raft.SnapshotInterval = 2 * time.Second
	cfg.Raft.SnapshotThreshold = 20000
	cfg.Raft.TrailingLogs = 5000
	cfg.Logger = logger.Named(group)
	g, err := raftgroup.Start(mux, cfg)
	if err != nil {
		return err
	}
	var servers []raft.Server
	for id, addr := range spec.Peers {
		servers = append(servers, raft.Server{ID: raft.ServerID(id), Address: raft.ServerAddress(addr)})
	}
	if err := g.Bootstrap(servers); err != nil {
		return fmt.Errorf("bootstrap %s: %w", group, err)
	}
	n.groups[group], n.fsms[group] = g, fsm
	return nil
}

func (n *node) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /leader", n.leader)
	mux.HandleFunc("POST /apply", n.apply)
	mux.HandleFunc("GET /ids", n.ids)
	return mux
}

func (n *node) group(w http.ResponseWriter, r *http.Request) (*raftgroup.Group, string, bool) {
	name := r.URL.Query().Get("group")
	g, ok := n.groups[name]
	if !ok {
		http.Error(w, "no such group", http.StatusNotFound)
	}
	return g, name, ok
}

func (n *node) leader(w http.ResponseWriter, r *http.Request) {
	if g, _, ok := n.group(w, r); ok {
		writeJSON(w, map[string]bool{"leader": g.Raft().State() == raft.Leader})
	}
}

// apply applies ids [from, from+count) as 128-byte entries and answers
// with the ids raft acknowledged.
func (n *node) apply(w http.ResponseWriter, r *http.Request) {
	g, _, ok := n.group(w, r)
	if !ok {
		return
	}
	from, _ := strconv.ParseUint(r.URL.Query().Get("from"), 10, 64)
	count, _ := strconv.Atoi(r.URL.Query().Get("count"))
	if g.Raft().State() != raft.Leader {
		http.Error(w, "not leader", http.StatusConflict)
		return
	}
	futures := make([]raft.ApplyFuture, count)
	for i := range futures {
		futures[i] = g.Raft().Apply(raftgroup.EncodeEntry(from+uint64(i), 128), 10*time.Second)
	}
	acked := []uint64{}
	for i, f := range futures {
		if f.Error() == nil {
			acked = append(acked, from+uint64(i))
		}
	}
	writeJSON(w, map[string][]uint64{"acked": acked})
}

func (n *node) ids(w http.ResponseWriter, r *http.Request) {
	if _, name, ok := n.group(w, r); ok {
		writeJSON(w, map[string][]uint64{"ids": n.fsms[name].list()})
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// specFromEnv reads the node spec the test passed, if any.
func specFromEnv() (nodeSpec, bool, error) {
	raw := os.Getenv(nodeEnv)
	if raw == "" {
		return nodeSpec{}, false, nil
	}
	var spec nodeSpec
	err := json.NewDecoder(strings.NewReader(raw)).Decode(&spec)
	return spec, true, err
}
