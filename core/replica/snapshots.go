package replica

import (
	"github.com/hashicorp/raft"
)

// unappliedHidden hides from raft the snapshots, present when a file
// stream's replica starts, that are ahead of its message store. A
// snapshot of a file stream is only a header: the messages it describes
// live in the node's message store. When the store lost them (a node
// rebuilt after losing its disk, with its snapshots kept on S3 by
// plugins/s3snap), raft must not start from such a snapshot, or it would
// apply the entries after it to an empty store and number their messages
// from 1. Hidden, the replica starts like a new peer: the leader sends it
// the log, or a snapshot whose install fetches the messages (Catchup).
// Snapshots taken later are listed as usual.
type unappliedHidden struct {
	raft.SnapshotStore
	hidden map[string]bool
}

// hideUnapplied wraps s if it holds snapshots past applied.
func hideUnapplied(s raft.SnapshotStore, applied uint64) (raft.SnapshotStore, int, error) {
	metas, err := s.List()
	if err != nil {
		return nil, 0, err
	}
	hidden := map[string]bool{}
	for _, m := range metas {
		if m.Index > applied {
			hidden[m.ID] = true
		}
	}
	if len(hidden) == 0 {
		return s, 0, nil
	}
	return &unappliedHidden{SnapshotStore: s, hidden: hidden}, len(hidden), nil
}

func (u *unappliedHidden) List() ([]*raft.SnapshotMeta, error) {
	metas, err := u.SnapshotStore.List()
	out := metas[:0]
	for _, m := range metas {
		if !u.hidden[m.ID] {
			out = append(out, m)
		}
	}
	return out, err
}
