package replica

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/raft"

	"github.com/stratadb/strata/core/logcheck"
	"github.com/stratadb/strata/core/meta"
	"github.com/stratadb/strata/core/raftgroup"
)

// quarantined is a stream replica stopped because its message store or
// its Raft log is corrupt. Its group no longer runs on this node (it neither serves nor
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
	s.logQuarantine(r, err)
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

// quarantineAtStart records r, found corrupt before its group started.
func (s *Set) quarantineAtStart(r *Replica, err error) {
	s.mu.Lock()
	s.quarantined[r.Name()] = quarantined{r: r, err: err}
	s.mu.Unlock()
	s.logQuarantine(r, err)
}

func (s *Set) logQuarantine(r *Replica, err error) {
	s.logger.Error("stream replica corrupt: its group is stopped on this server and the other replicas serve the stream;"+
		" move the replica with `strata stream cluster peer-remove STREAM SERVER`, which rebuilds it on another server from its peers",
		"stream", r.Name(), "group", r.Stream().Group, "server", s.cfg.Self, "error", err)
}

// errLogDamaged: a stream's Raft log on this node holds a corrupt entry
// (raft would panic reading it), or it ends before entries its message
// store has applied. The store applies only entries this node's log held,
// synced, so such a log lost committed entries (a damaged tail a log
// plugin's recovery cut off); a replica voting with it could elect a
// leader that lacks entries it had acknowledged.
var errLogDamaged = errors.New("the Raft log is damaged")

// checkLog returns errLogDamaged if an entry of the group's log after its
// latest snapshot is corrupt, or the log and snapshots end before applied,
// the message store's last applied index. It reads what raft reads when
// it starts (every entry after the latest snapshot), so that a corrupt
// entry stops this group instead of raft's panic stopping the node.
func checkLog(stores raftgroup.Stores, applied uint64) error {
	first, err := stores.Log.FirstIndex()
	if err != nil {
		return err
	}
	last, err := stores.Log.LastIndex()
	if err != nil {
		return err
	}
	metas, err := stores.Snapshots.List()
	if err != nil {
		return err
	}
	var snap uint64
	for _, m := range metas {
		snap = max(snap, m.Index)
	}
	var l raft.Log
	for i := max(snap+1, first); i <= last && last > 0; i++ {
		if err := stores.Log.GetLog(i, &l); errors.Is(err, logcheck.ErrCorrupt) || errors.Is(err, raft.ErrLogNotFound) {
			return fmt.Errorf("%w: entry %d: %w", errLogDamaged, i, err)
		} else if err != nil {
			return err
		}
	}
	if end := max(last, snap); applied > end {
		return fmt.Errorf("%w: it lost entries: the log and snapshots end at index %d, the message store has applied up to %d",
			errLogDamaged, end, applied)
	}
	return nil
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
