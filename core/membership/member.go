// Package membership owns who is in the cluster. Like NATS seed routes,
// every node periodically dials each route it was given and each member it
// knows on the cluster port (the mux's reserved "_members" stream) and
// swaps the full member list with it, so a node given one seed route soon
// knows every other node.
package membership

import (
	"slices"
	"sort"
)

// StreamID is the reserved mux stream the member exchange runs on.
const StreamID = "_members"

// Member is one node as the cluster knows it.
type Member struct {
	// Name is the node's server_name; it is unique in the cluster.
	Name string `json:"name"`
	// Cluster is the node's cluster (mux) address.
	Cluster string `json:"cluster"`
	// Client is the node's client listen address.
	Client string `json:"client"`
	// HTTP is the node's monitoring address.
	HTTP string `json:"http"`
	// Tags are the node's placement tags, e.g. "az:a".
	Tags []string `json:"tags,omitempty"`
	// ClusterName is the cluster the node belongs to.
	ClusterName string `json:"cluster_name"`
	// Bootstrapped is true once the node's meta group has state: a fresh
	// node that sees a bootstrapped member waits to be added instead of
	// bootstrapping a group of its own.
	Bootstrapped bool `json:"bootstrapped,omitempty"`
}

func (m Member) clone() Member {
	m.Tags = slices.Clone(m.Tags)
	return m
}

func (m Member) equal(o Member) bool {
	return m.Name == o.Name && m.Cluster == o.Cluster && m.Client == o.Client && m.HTTP == o.HTTP &&
		slices.Equal(m.Tags, o.Tags) && m.ClusterName == o.ClusterName && m.Bootstrapped == o.Bootstrapped
}

// sortByName sorts members by name in place and returns them.
func sortByName(ms []Member) []Member {
	sort.Slice(ms, func(i, j int) bool { return ms[i].Name < ms[j].Name })
	return ms
}
