// Package pluginsdk is what a Strata storage plugin imports. A plugin is a
// subprocess that serves the hashicorp/raft LogStore, StableStore and
// SnapshotStore of every Raft group of one node over gRPC, through
// github.com/hashicorp/go-plugin. Every call carries a group id, so one
// plugin process serves all groups.
//
// A plugin's main is one call:
//
//	func main() { pluginsdk.Serve(mystore.New()) }
//
// The host side (Connect, Client) hands back values that implement the raft
// interfaces, so the node never sees gRPC.
package pluginsdk

import (
	"encoding/json"
	"io"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

// Plugin is what a storage plugin hands to Serve. Configure is called once,
// before any store is opened. A plugin then offers one or more of the store
// kinds by also implementing LogStores, StableStores or SnapshotStores; the
// host finds them by type assertion, as hashicorp/raft does for optional
// abilities.
type Plugin interface {
	Configure(req ConfigureRequest) error
	io.Closer
}

// ConfigureRequest is the node's configuration for a plugin.
type ConfigureRequest struct {
	// DataDir is a directory that belongs to this plugin on this node.
	DataDir string
	// Config is the plugin's `config { ... }` block from the node's HCL
	// config, as a JSON object. A plugin should refuse keys it does not
	// know (see DecodeConfig).
	Config json.RawMessage
	// Logger writes to stderr; the host re-emits each line at its level.
	Logger hclog.Logger
}

// LogStores is implemented by a plugin that serves raft logs.
type LogStores interface {
	LogStore(group string) (raft.LogStore, error)
}

// StableStores is implemented by a plugin that serves raft stable state.
type StableStores interface {
	StableStore(group string) (raft.StableStore, error)
}

// SnapshotStores is implemented by a plugin that serves raft snapshots.
type SnapshotStores interface {
	SnapshotStore(group string) (raft.SnapshotStore, error)
}

// GroupDroppers is implemented by a plugin that can delete a group for
// good: its log, stable state and snapshots. The host calls it when the
// group's Raft group is gone (a deleted stream, a replica moved away).
// The SDK forgets its stores of the group first, closing those that
// implement io.Closer; DropGroup must release whatever the plugin itself
// keeps open for the group. Dropping a group the plugin never saw is
// not an error.
type GroupDroppers interface {
	DropGroup(group string) error
}

// LogRangeReader is an optional interface of a raft.LogStore that reads
// consecutive logs in one call, as the host's read-ahead asks for them
// (raft reads logs in order when it replicates or applies). A store whose
// logs sit together, such as the Badger plugin's batches, serves it for
// much less than a GetLog each; the SDK falls back to GetLog calls for a
// store without it.
type LogRangeReader interface {
	// GetLogs returns the logs from index from on, stopping before the
	// first missing index, after max logs, or before the log that would
	// take the Data and Extensions past maxBytes; it returns at least the
	// log at from when the store holds it, and none otherwise.
	GetLogs(from uint64, max int, maxBytes uint64) ([]*raft.Log, error)
}
