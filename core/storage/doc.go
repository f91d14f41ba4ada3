// Package storage is the node's side of its storage plugins. It launches
// each configured plugin once per node, checks its checksum, routes its
// logs into the node's logger, watches it and restarts it with backoff if
// it dies, and hands every Raft group stores that implement the raft
// interfaces. An operation on a dead plugin waits for the restart and is
// retried where that is safe; a write is acknowledged only once the plugin
// has stored it.
package storage
