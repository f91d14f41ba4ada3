package node

import (
	"time"

	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/core/membership"
	"github.com/stratadb/strata/core/meta"
	"github.com/stratadb/strata/core/raftgroup"
)

const (
	// MetaGroup is the meta Raft group's id on the cluster port.
	MetaGroup = "meta"
	// reconcileInterval is how often the node rechecks bootstrap and, as
	// the meta leader, the members against the meta group.
	reconcileInterval = time.Second
	// metaOpTimeout bounds one AddVoter or Apply on the meta group.
	metaOpTimeout = 5 * time.Second
)

// startMeta starts the meta group on the plugin stores. It notes first
// whether the stores hold state: a group with state is never bootstrapped.
func (n *Node) startMeta() error {
	st := n.host.Stores(MetaGroup)
	hasState, err := raft.HasExistingState(st.Log, st.Stable, st.Snapshots)
	if err != nil {
		return err
	}
	cfg := raftgroup.DefaultConfig()
	cfg.LocalID = raft.ServerID(n.cfg.ServerName)
	cfg.GroupID = MetaGroup
	cfg.Stores = raftgroup.Stores{Log: st.Log, Stable: st.Stable, Snapshots: st.Snapshots}
	n.fsm = meta.NewFSM()
	cfg.FSM = n.fsm
	cfg.Raft = n.raftConfig
	cfg.Logger = n.root.Named("meta")
	cfg.Advisories = n.advisories
	n.meta, err = raftgroup.Start(n.mux, cfg)
	if err != nil {
		return err
	}
	n.bootstrapped = hasState
	n.logger.Info("meta group started", "existing_state", hasState)
	return nil
}

// metaHasState reports whether the meta group was bootstrapped here, had
// state when the node started, or has been given state by a leader.
func (n *Node) metaHasState() bool {
	return n.bootstrapped || n.meta.Raft().LastIndex() > 0
}

// run bootstraps the meta group when the cluster is ready for it, and, on
// the meta leader, adds new members as voters and records them.
func (n *Node) run() {
	defer n.wg.Done()
	t := time.NewTicker(reconcileInterval)
	defer t.Stop()
	for {
		n.step()
		select {
		case <-n.stopCh:
			return
		case <-n.members.Changes():
		case <-n.meta.Raft().LeaderCh():
		case <-n.fsm.Changes():
		case <-t.C:
		}
	}
}

func (n *Node) step() {
	if !n.metaHasState() {
		n.maybeBootstrap()
	}
	if n.metaHasState() {
		n.members.UpdateSelf(func(m *membership.Member) { m.Bootstrapped = true })
	}
	if n.meta.Raft().State() == raft.Leader {
		n.reconcile()
	}
	n.reconcileStreams()
}

// maybeBootstrap bootstraps a fresh meta group, like Consul's
// bootstrap_expect: once bootstrap_expect servers are known and none of
// them has a meta group yet, every one of them bootstraps with the same
// configuration, the first bootstrap_expect members by name.
func (n *Node) maybeBootstrap() {
	members := n.members.Members()
	for _, m := range members {
		if m.Bootstrapped && m.Name != n.cfg.ServerName {
			n.logOnce("the cluster's meta group exists; waiting for its leader to add this server", "member", m.Name)
			return
		}
	}
	expect := n.cfg.Cluster.BootstrapExpect
	if len(members) < expect {
		n.logger.Debug("waiting for servers to bootstrap the meta group", "known", len(members), "bootstrap_expect", expect)
		return
	}
	servers := bootstrapServers(members[:expect])
	if !containsServer(servers, n.cfg.ServerName) {
		n.logOnce("not among the first bootstrap_expect servers; waiting to be added", "servers", servers)
		return
	}
	if err := n.meta.Bootstrap(servers); err != nil {
		n.logger.Error("bootstrapping the meta group failed", "error", err)
		return
	}
	n.bootstrapped = true
	n.logger.Info("bootstrapped the meta group", "servers", servers)
}

func bootstrapServers(members []membership.Member) []raft.Server {
	servers := make([]raft.Server, len(members))
	for i, m := range members {
		servers[i] = raft.Server{Suffrage: raft.Voter, ID: raft.ServerID(m.Name), Address: raft.ServerAddress(m.Cluster)}
	}
	return servers
}

func containsServer(servers []raft.Server, name string) bool {
	for _, s := range servers {
		if s.ID == raft.ServerID(name) {
			return true
		}
	}
	return false
}

// reconcile, on the meta leader, adds members missing from the meta
// group as voters and records every voter's details in the meta state.
func (n *Node) reconcile() {
	r := n.meta.Raft()
	f := r.GetConfiguration()
	if err := f.Error(); err != nil {
		return
	}
	inConfig := map[raft.ServerID]raft.ServerAddress{}
	for _, s := range f.Configuration().Servers {
		inConfig[s.ID] = s.Address
	}
	for _, m := range n.members.Members() {
		if n.fsm.Removed(m.Name) {
			continue // peer-removed: it does not come back
		}
		addr, ok := inConfig[raft.ServerID(m.Name)]
		switch {
		case !ok:
			if !n.addVoter(m) {
				continue
			}
		case string(addr) != m.Cluster:
			n.logOnce("member address differs from its meta group address", "member", m.Name,
				"member_addr", m.Cluster, "raft_addr", addr)
			continue
		}
		n.recordServer(m)
	}
}

func (n *Node) addVoter(m membership.Member) bool {
	n.logger.Info("adding server to the meta group", "server", m.Name, "addr", m.Cluster)
	err := n.meta.Raft().AddVoter(raft.ServerID(m.Name), raft.ServerAddress(m.Cluster), 0, metaOpTimeout).Error()
	if err != nil {
		n.logger.Warn("adding server to the meta group failed; will retry", "server", m.Name, "error", err)
		return false
	}
	return true
}

// recordServer applies put_server if the meta state lacks m or differs.
func (n *Node) recordServer(m membership.Member) {
	s := meta.Server{Name: m.Name, Cluster: m.Cluster, Client: m.Client, HTTP: m.HTTP, Tags: m.Tags}
	if cur, ok := n.fsm.Server(s.Name); ok && cur.Equal(s) {
		return
	}
	data, err := meta.PutServer(s)
	if err != nil {
		n.logger.Error("recording server", "server", s.Name, "error", err)
		return
	}
	f := n.meta.Raft().Apply(data, metaOpTimeout)
	if err := f.Error(); err != nil {
		n.logger.Warn("recording server failed; will retry", "server", s.Name, "error", err)
		return
	}
	if err, ok := f.Response().(error); ok {
		n.logger.Error("recording server", "server", s.Name, "error", err)
	}
}

// logOnce logs msg at info level the first time, at debug level after.
func (n *Node) logOnce(msg string, args ...any) {
	if n.logged[msg] {
		n.logger.Debug(msg, args...)
		return
	}
	n.logged[msg] = true
	n.logger.Info(msg, args...)
}
