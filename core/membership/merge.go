package membership

import "fmt"

// merge folds a peer's message into the member list. The sender is
// authoritative about itself; the members it relays only add names this
// node does not know yet. It returns an error, already logged, if the
// sender itself is refused.
func (m *Membership) merge(msg message) error {
	if err := m.admit(msg.From, true); err != nil {
		m.logRefusal("from:"+msg.From.Name+"@"+msg.From.Cluster, "refusing member", err)
		return err
	}
	for _, r := range msg.Members {
		if r.Name == msg.From.Name {
			continue
		}
		if err := m.admit(r, false); err != nil {
			m.logRefusal("relayed:"+r.Name+"@"+r.Cluster, "refusing member", fmt.Errorf("%w (relayed by %s)", err, msg.From.Name))
		}
	}
	return nil
}

// admit adds or, if direct, updates member mem after checking that it
// belongs to this cluster and does not take a known name.
func (m *Membership) admit(mem Member, direct bool) error {
	self := m.cfg.Self
	switch {
	case mem.Name == "" || mem.Cluster == "":
		return fmt.Errorf("member without a name or cluster address: %+v", mem)
	case mem.ClusterName != self.ClusterName:
		return fmt.Errorf("member %q at %s is in cluster %q, not in cluster %q",
			mem.Name, mem.Cluster, mem.ClusterName, self.ClusterName)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	known, ok := m.members[mem.Name]
	switch {
	case ok && known.Cluster != mem.Cluster:
		return fmt.Errorf("member %q at %s: the name is already taken by the member at %s",
			mem.Name, mem.Cluster, known.Cluster)
	case mem.Name == self.Name:
		return nil // this node, reached through a route to itself
	case ok && (!direct || known.equal(mem)):
		return nil
	}
	m.members[mem.Name] = mem.clone()
	m.notify()
	if !ok {
		m.logger.Info("member joined", "name", mem.Name, "cluster", mem.Cluster)
	}
	return nil
}
