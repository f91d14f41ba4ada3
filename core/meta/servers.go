package meta

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// OpRemoveServer removes a server for good and moves its stream replicas.
const OpRemoveServer Op = "remove_server"

// ErrServerRemoved refuses recording a server that was removed.
var ErrServerRemoved = errors.New("server was removed from the cluster")

// RemoveServer encodes the command removing the named server, with the
// streams it held given their new peers, all in one entry.
func RemoveServer(name string, moved []Stream) ([]byte, error) {
	if name == "" {
		return nil, fmt.Errorf("%w: remove_server needs a name", ErrBadCommand)
	}
	return json.Marshal(command{Op: OpRemoveServer, Name: name, Streams: moved})
}

func (c command) applyRemoveServer(st *state) error {
	if c.Name == "" {
		return fmt.Errorf("%w: remove_server without a name", ErrBadCommand)
	}
	for _, s := range c.Streams {
		cur, ok := st.Streams[s.Config.Name]
		if !ok || cur.Group != s.Group || slices.Contains(s.Peers, c.Name) {
			return fmt.Errorf("%w: remove_server: stream %s does not move off %s", ErrBadCommand, s.Config.Name, c.Name)
		}
	}
	for _, s := range c.Streams {
		st.Streams[s.Config.Name] = s.clone()
		st.followStream(s.Config.Name)
	}
	delete(st.Servers, c.Name)
	if st.Removed == nil {
		st.Removed = map[string]bool{}
	}
	st.Removed[c.Name] = true
	return nil
}

// Removed reports whether the named server was removed for good.
func (f *FSM) Removed(name string) bool {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.state.Removed[name]
}
