package meta

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/stratadb/strata/core/stream"
	"github.com/stratadb/strata/core/subject"
)

// Stream commands.
const (
	// OpCreateStream records a new stream and its placed peers.
	OpCreateStream Op = "create_stream"
	// OpUpdateStream replaces a stream's config and peers.
	OpUpdateStream Op = "update_stream"
	// OpDeleteStream removes a stream.
	OpDeleteStream Op = "delete_stream"
)

// Stream errors, returned by Apply and by the checks the meta leader
// runs before proposing.
var (
	// ErrStreamExists refuses a create for a name already taken.
	ErrStreamExists = errors.New("stream name already in use")
	// ErrStreamNotFound is returned for a stream the meta state lacks.
	ErrStreamNotFound = errors.New("stream not found")
	// ErrSubjectsOverlap refuses subjects another stream already takes.
	ErrSubjectsOverlap = errors.New("subjects overlap with an existing stream")
)

// Stream is a stream as the meta group records it: its config, the
// servers holding its replicas, and its Raft group's id, unique per
// creation so a stream deleted and created again starts afresh.
type Stream struct {
	Config stream.Config `json:"config"`
	Peers  []string      `json:"peers"`
	Group  string        `json:"group"`
	// Bootstrap is the peers the group was created with; only they
	// bootstrap it. Peers added later join through the group's leader.
	Bootstrap []string `json:"bootstrap"`
	Created   int64    `json:"created"`
	// Restoring is set while a backup is restored into the stream: it
	// takes restored messages only, no publishes, until the restore ends.
	Restoring bool `json:"restoring,omitempty"`
	// Account is the account whose user created the stream (its name is
	// then qualified by the account: stream.Qualify); only that account's
	// users reach it, and its subjects are the account's. Empty: a shared
	// stream, made by a system user or on a node without accounts, which
	// every account's permissions may reach.
	Account string `json:"account,omitempty"`
}

func (s Stream) clone() Stream {
	s.Peers = slices.Clone(s.Peers)
	s.Bootstrap = slices.Clone(s.Bootstrap)
	s.Config.Subjects = slices.Clone(s.Config.Subjects)
	s.Config.Tags = slices.Clone(s.Config.Tags)
	return s
}

// CreateStream encodes the command recording s.
func CreateStream(s Stream) ([]byte, error) {
	return json.Marshal(command{Op: OpCreateStream, Stream: &s})
}

// UpdateStream encodes the command replacing a stream's config and peers.
func UpdateStream(s Stream) ([]byte, error) {
	return json.Marshal(command{Op: OpUpdateStream, Stream: &s})
}

// DeleteStream encodes the command removing the named stream.
func DeleteStream(name string) ([]byte, error) {
	return json.Marshal(command{Op: OpDeleteStream, Name: name})
}

// CheckCreate reports why s cannot be created in st, or nil.
func (st *state) checkCreate(s Stream) error {
	if _, ok := st.Streams[s.Config.Name]; ok {
		return fmt.Errorf("%w: %s", ErrStreamExists, s.Config.Name)
	}
	return st.checkSubjects(s)
}

func (st *state) checkSubjects(s Stream) error {
	for _, other := range st.Streams {
		if other.Config.Name == s.Config.Name || !shareSubjects(s, other) {
			continue
		}
		for _, a := range s.Config.Subjects {
			for _, b := range other.Config.Subjects {
				if subject.Overlap(a, b) {
					return fmt.Errorf("%w: %q overlaps %q of stream %s", ErrSubjectsOverlap, a, b, other.Config.Name)
				}
			}
		}
	}
	return nil
}

// shareSubjects reports whether a and b take publishes from one subject
// space: both an account's, or either no account's (a shared stream takes
// every account's publishes).
func shareSubjects(a, b Stream) bool {
	return a.Account == b.Account || a.Account == "" || b.Account == ""
}

func (c command) applyStream(st *state) error {
	switch c.Op {
	case OpCreateStream, OpUpdateStream:
		if c.Stream == nil || c.Stream.Config.Name == "" || len(c.Stream.Peers) == 0 || c.Stream.Group == "" {
			return fmt.Errorf("%w: %s needs a stream with a name, peers and a group", ErrBadCommand, c.Op)
		}
		if c.Op == OpCreateStream {
			if err := st.checkCreate(*c.Stream); err != nil {
				return err
			}
		} else if err := st.checkUpdate(*c.Stream); err != nil {
			return err
		}
		st.Streams[c.Stream.Config.Name] = c.Stream.clone()
		st.followStream(c.Stream.Config.Name)
		return nil
	case OpDeleteStream:
		if _, ok := st.Streams[c.Name]; !ok {
			return fmt.Errorf("%w: %s", ErrStreamNotFound, c.Name)
		}
		delete(st.Streams, c.Name)
		st.followStream(c.Name)
		return nil
	}
	return fmt.Errorf("%w %q", ErrUnknownOp, c.Op)
}

func (st *state) checkUpdate(s Stream) error {
	cur, ok := st.Streams[s.Config.Name]
	if !ok {
		return fmt.Errorf("%w: %s", ErrStreamNotFound, s.Config.Name)
	}
	if cur.Group != s.Group {
		return fmt.Errorf("%w: stream %s was recreated", ErrBadCommand, s.Config.Name)
	}
	if err := cur.Config.CheckUpdate(s.Config); err != nil {
		return err
	}
	return st.checkSubjects(s)
}

// Streams returns the recorded streams sorted by name.
func (f *FSM) Streams() []Stream {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make([]Stream, 0, len(f.state.Streams))
	for _, s := range f.state.Streams {
		out = append(out, s.clone())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Config.Name < out[j].Config.Name })
	return out
}

// Stream returns the named stream, if recorded.
func (f *FSM) Stream(name string) (Stream, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	s, ok := f.state.Streams[name]
	return s.clone(), ok
}

// StreamFor returns the stream whose subjects match subj among those
// account's users publish to: the account's and the shared ones (no
// account's). An empty account sees the shared streams only.
func (f *FSM) StreamFor(account, subj string) (Stream, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if s, ok := f.state.Streams[f.streamNameFor(account, subj)]; ok {
		return s.clone(), true
	}
	return Stream{}, false
}

// Restoring reports whether the named stream is being restored.
func (f *FSM) Restoring(name string) bool {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.state.Streams[name].Restoring
}

// StreamNameFor is StreamFor's name, without copying the stream: the
// publish path.
func (f *FSM) StreamNameFor(account, subj string) (string, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	name := f.streamNameFor(account, subj)
	return name, name != ""
}

// maxSubjectCache bounds the subject-to-stream cache.
const maxSubjectCache = 65536

// streamNameFor matches subj against the subjects of the streams account
// publishes to, remembering the answer until the streams change; f.mu is
// held (read).
func (f *FSM) streamNameFor(account, subj string) string {
	f.cacheMu.RLock()
	name, ok := f.subjects[account][subj]
	f.cacheMu.RUnlock()
	if ok {
		return name
	}
	for _, s := range f.state.Streams {
		if s.Account != "" && s.Account != account {
			continue
		}
		if slices.ContainsFunc(s.Config.Subjects, func(filter string) bool { return subject.Match(filter, subj) }) {
			name = s.Config.Name
			break
		}
	}
	f.cacheMu.Lock()
	defer f.cacheMu.Unlock()
	cache := f.subjects[account]
	if cache == nil || len(cache) >= maxSubjectCache {
		cache = map[string]string{}
		f.subjects[account] = cache
	}
	cache[subj] = name
	return name
}

// CheckCreate reports why s cannot be created now, or nil: the meta
// leader asks before proposing, so most refusals never reach the log.
func (f *FSM) CheckCreate(s Stream) error {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.state.checkCreate(s)
}

// CheckUpdate reports why s cannot replace the recorded stream, or nil.
func (f *FSM) CheckUpdate(s Stream) error {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.state.checkUpdate(s)
}

// Changes returns a channel that receives (without blocking Apply) after
// every applied command or restore.
func (f *FSM) Changes() <-chan struct{} { return f.changes }

func (f *FSM) notify() {
	select {
	case f.changes <- struct{}{}:
	default:
	}
}
