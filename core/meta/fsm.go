// Package meta owns the cluster's meta state: the replicated record, kept
// by the meta Raft group that every server belongs to, of the servers in
// the cluster, the streams and their placed peers, and the consumers of
// every stream.
package meta

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"sync"

	"github.com/hashicorp/raft"
)

var _ raft.FSM = (*FSM)(nil)

// Server is a server as the meta group records it.
type Server struct {
	Name    string   `json:"name"`
	Cluster string   `json:"cluster"`
	Client  string   `json:"client"`
	HTTP    string   `json:"http"`
	Tags    []string `json:"tags,omitempty"`
}

// Equal reports whether s and o record the same server.
func (s Server) Equal(o Server) bool {
	return s.Name == o.Name && s.Cluster == o.Cluster && s.Client == o.Client && s.HTTP == o.HTTP &&
		slices.Equal(s.Tags, o.Tags)
}

// state is the whole meta state; snapshots are its JSON.
type state struct {
	Servers map[string]Server `json:"servers"`
	Streams map[string]Stream `json:"streams"`
	// Consumers are keyed by stream and consumer name ("ORDERS/NEW").
	Consumers map[string]Consumer `json:"consumers,omitempty"`
	// Removed are the servers removed for good (peer-remove).
	Removed map[string]bool `json:"removed,omitempty"`
}

// FSM applies meta commands to the meta state.
type FSM struct {
	mu      sync.RWMutex
	state   state
	changes chan struct{}

	// cacheMu guards subjects, per publishing account the stream each
	// subject published to belongs to ("" for none); cleared whenever the
	// state changes.
	cacheMu  sync.RWMutex
	subjects map[string]map[string]string // account -> subject -> stream
}

// NewFSM returns an FSM with an empty state.
func NewFSM() *FSM {
	return &FSM{state: state{Servers: map[string]Server{}, Streams: map[string]Stream{}}, changes: make(chan struct{}, 1),
		subjects: map[string]map[string]string{}}
}

// Apply applies one command. It returns nil or the command's error.
func (f *FSM) Apply(l *raft.Log) any {
	cmd, err := decodeCommand(l.Data)
	if err != nil {
		return fmt.Errorf("meta: index %d: %w", l.Index, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	defer f.notify()
	f.clearSubjects()
	return cmd.apply(&f.state)
}

// Servers returns the recorded servers sorted by name.
func (f *FSM) Servers() []Server {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make([]Server, 0, len(f.state.Servers))
	for _, s := range f.state.Servers {
		s.Tags = slices.Clone(s.Tags)
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Server returns the named server, if recorded.
func (f *FSM) Server(name string) (Server, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	s, ok := f.state.Servers[name]
	s.Tags = slices.Clone(s.Tags)
	return s, ok
}

// Snapshot captures the state; Persist writes it as JSON.
func (f *FSM) Snapshot() (raft.FSMSnapshot, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	data, err := json.Marshal(f.state)
	if err != nil {
		return nil, fmt.Errorf("meta: snapshot: %w", err)
	}
	return snapshot(data), nil
}

// Restore replaces the state with a snapshot's.
func (f *FSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	var st state
	if err := json.NewDecoder(rc).Decode(&st); err != nil {
		return fmt.Errorf("meta: restore: %w", err)
	}
	if st.Servers == nil {
		st.Servers = map[string]Server{}
	}
	if st.Streams == nil {
		st.Streams = map[string]Stream{}
	}
	f.mu.Lock()
	f.state = st
	f.clearSubjects()
	f.mu.Unlock()
	f.notify()
	return nil
}

// snapshot is the encoded state; encoding happens in Snapshot, which raft
// calls with the FSM quiet, so Persist only writes bytes.
type snapshot []byte

func (s snapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := sink.Write(s); err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("meta: persist snapshot: %w", err)
	}
	return sink.Close()
}

func (s snapshot) Release() {}

func (f *FSM) clearSubjects() {
	f.cacheMu.Lock()
	clear(f.subjects)
	f.cacheMu.Unlock()
}
