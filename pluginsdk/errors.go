package pluginsdk

import (
	"errors"

	"github.com/hashicorp/raft"
)

var (
	// ErrLogNotFound is returned by a LogStore for an index it does not
	// hold. It is raft.ErrLogNotFound itself, and it survives the gRPC
	// boundary: hashicorp/raft compares it with ==.
	ErrLogNotFound = raft.ErrLogNotFound

	// ErrKeyNotFound is returned by a StableStore's Get and GetUint64 for a
	// key that was never set. hashicorp/raft matches its text, "not found".
	ErrKeyNotFound = errors.New("not found")

	// ErrNoSuchCapability is returned by the host when a plugin does not
	// serve the store kind asked of it.
	ErrNoSuchCapability = errors.New("plugin does not serve this store kind")

	// ErrPluginUnavailable is returned when the plugin process is gone and
	// did not come back in time. The operation may not have been applied.
	ErrPluginUnavailable = errors.New("storage plugin unavailable")

	// ErrIncompatibleProtocol is returned when a plugin speaks none of the
	// protocol versions the host knows.
	ErrIncompatibleProtocol = errors.New("incompatible plugin protocol version")

	// ErrSnapshotCorrupt is wrapped by a CheckedReader's error when the
	// snapshot it reads is not of the size or SHA-256 recorded for it. A
	// plugin can wrap it in its own errors about corrupt snapshots.
	ErrSnapshotCorrupt = errors.New("snapshot corrupt")
)
