package replica

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/stratadb/strata/core/meta"
)

// quarantined is a stream replica stopped because its message store is
// corrupt. Its group no longer runs on this node (it neither serves nor
// votes), its data is kept, and the set does not start it again while
// the meta state places it here: the other replicas serve the stream.
type quarantined struct {
	r   *Replica
	err error
}

// quarantine stops r, whose store returned err, and its consumers'
// replicas on this node. It runs once per replica; reads that found the
// damage meanwhile return their error.
func (s *Set) quarantine(r *Replica, err error) {
	s.mu.Lock()
	if s.replicas[r.Name()] != r {
		s.mu.Unlock()
		return // quarantined, removed or closed already
	}
	delete(s.replicas, r.Name())
	s.quarantined[r.Name()] = quarantined{r: r, err: err}
	var cons []*Consumer
	for key, c := range s.consumers {
		if c.stream == r {
			cons = append(cons, c)
			delete(s.consumers, key)
		}
	}
	s.mu.Unlock()
	s.logger.Error("stream replica corrupt: its group is stopped on this server and the other replicas serve the stream;"+
		" move the replica with `strata stream cluster peer-remove STREAM SERVER`, which rebuilds it on another server from its peers",
		"stream", r.Name(), "group", r.Stream().Group, "server", s.cfg.Self, "error", err)
	for _, c := range cons {
		if err := c.close(); err != nil {
			s.logger.Warn("stopping consumer replica of a corrupt stream replica", "consumer", c.key(), "error", err)
		}
	}
	r.proposer.Close()
	if err := r.group.Shutdown(); err != nil {
		s.logger.Warn("stopping the group of a corrupt stream replica", "stream", r.Name(), "error", err)
	}
}

// Quarantined reports whether the named stream's replica on this node is
// stopped because its store is corrupt.
func (s *Set) Quarantined(name string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.quarantined[name]
	return ok
}

// Corrupt returns an error naming each stream replica stopped because its
// store is corrupt, or nil.
func (s *Set) Corrupt() error {
	s.mu.RLock()
	msgs := make([]string, 0, len(s.quarantined))
	for name, q := range s.quarantined {
		msgs = append(msgs, fmt.Sprintf("stream %s: %v", name, q.err))
	}
	s.mu.RUnlock()
	if len(msgs) == 0 {
		return nil
	}
	sort.Strings(msgs)
	return fmt.Errorf("stream replica corrupt, its group stopped: %s", strings.Join(msgs, "; "))
}

// releaseQuarantined deletes the data of quarantined replicas the meta
// state no longer places here (moved by peer-remove, or the stream
// deleted), as remove does for a running replica.
func (s *Set) releaseQuarantined(want map[string]meta.Stream) {
	s.mu.Lock()
	var gone []quarantined
	for name, q := range s.quarantined {
		if st, ok := want[name]; !ok || st.Group != q.r.Stream().Group {
			gone = append(gone, q)
			delete(s.quarantined, name)
		}
	}
	s.mu.Unlock()
	for _, q := range gone {
		s.logger.Info("deleting the corrupt stream replica placed elsewhere", "stream", q.r.Name(), "group", q.r.Stream().Group)
		err := q.r.fsm.Delete()
		if s.cfg.DropGroup != nil {
			err = errors.Join(err, s.cfg.DropGroup(GroupID(q.r.Stream())))
		}
		if err != nil {
			s.logger.Warn("deleting a corrupt stream replica", "stream", q.r.Name(), "error", err)
		}
	}
}

// closeQuarantined closes the stores of quarantined replicas.
func closeQuarantined(qs map[string]quarantined) error {
	var err error
	for _, q := range qs {
		err = errors.Join(err, q.r.fsm.CloseStore())
	}
	return err
}
