package systemtest

import (
	"encoding/binary"
	"encoding/json"
	"io"
	"sync"

	"github.com/hashicorp/raft"
)

// idSetFSM records which entry ids it has applied (an entry is an 8-byte
// big-endian id followed by padding), so a test can check that every
// acknowledged id is on every node.
type idSetFSM struct {
	mu  sync.Mutex
	ids map[uint64]bool
}

var _ raft.FSM = (*idSetFSM)(nil)

func newIDSetFSM() *idSetFSM { return &idSetFSM{ids: map[uint64]bool{}} }

func (f *idSetFSM) Apply(l *raft.Log) interface{} {
	if l.Type != raft.LogCommand || len(l.Data) < 8 {
		return nil
	}
	f.mu.Lock()
	f.ids[binary.BigEndian.Uint64(l.Data)] = true
	f.mu.Unlock()
	return nil
}

func (f *idSetFSM) list() []uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]uint64, 0, len(f.ids))
	for id := range f.ids {
		out = append(out, id)
	}
	return out
}

func (f *idSetFSM) Snapshot() (raft.FSMSnapshot, error) { return idSnapshot(f.list()), nil }

func (f *idSetFSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	var ids []uint64
	if err := json.NewDecoder(rc).Decode(&ids); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ids = make(map[uint64]bool, len(ids))
	for _, id := range ids {
		f.ids[id] = true
	}
	return nil
}

type idSnapshot []uint64

func (s idSnapshot) Persist(sink raft.SnapshotSink) error {
	if err := json.NewEncoder(sink).Encode([]uint64(s)); err != nil {
		_ = sink.Cancel()
		return err
	}
	return sink.Close()
}

func (s idSnapshot) Release() {}
