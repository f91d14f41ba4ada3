package replica

import (
	"errors"
	"slices"

	"github.com/stratadb/strata/core/consumer"
	"github.com/stratadb/strata/core/meta"
	"github.com/stratadb/strata/core/stream"
)

// retentionScan bounds the messages one retention pass reads past the
// consumers' common ack floor; the next pass goes on from there.
const retentionScan = 10_000

// interest is what retention needs of one consumer: the stream sequence
// through which it has processed every message (its committed ack
// floor), which subjects it takes and, past the floor, which messages it
// has processed (delivered and acked; nil: none).
type interest struct {
	floor   uint64
	matches func(subject string) bool
	acked   func(seq uint64) bool
}

// done says whether the consumer has processed message seq.
func (c interest) done(seq uint64) bool {
	return seq <= c.floor || c.acked != nil && c.acked(seq)
}

// messages is the part of a stream's FSM retention reads.
type messages interface {
	State() stream.State
	Get(seq uint64) (stream.Message, error)
}

// removal is what a retention pass removes: the prefix through a
// sequence (0: none) and, after it, messages one by one (at most
// stream.MaxRemove).
type removal struct {
	through uint64
	msgs    []uint64
}

// toRemove returns what a work-queue or interest stream may remove: a
// message goes once every consumer that takes it has processed it
// (interest) or once the consumer that takes it has (work queue, whose
// consumers' filters do not overlap; a message no consumer takes stays).
// Processed messages form the removed prefix as far as they reach; past
// the first kept one, they are removed one by one.
func toRemove(ret stream.Retention, src messages, cs []interest) removal {
	st := src.State()
	if st.Msgs == 0 {
		return removal{}
	}
	var r removal
	through := st.FirstSeq - 1
	if ret == stream.InterestRetention {
		through = max(through, commonFloor(cs, st.LastSeq))
	}
	prefix := true
	// Holes cost a map lookup and do not count against the scan: a run
	// of them behind a kept message must not stop later passes short.
	for seq, scanned := through+1, 0; seq <= st.LastSeq && scanned < retentionScan && len(r.msgs) < stream.MaxRemove; seq++ {
		m, err := src.Get(seq)
		if err != nil && !errors.Is(err, stream.ErrMsgNotFound) {
			break
		}
		if err == nil {
			scanned++
		}
		keep := err == nil && !processed(ret, m, cs) // a hole keeps nothing
		switch {
		case keep:
			prefix = false
		case prefix:
			through = seq
		case err == nil:
			r.msgs = append(r.msgs, seq)
		}
	}
	if through >= st.FirstSeq {
		r.through = through
	}
	return r
}

// commonFloor is the lowest ack floor, or last with no consumers.
func commonFloor(cs []interest, last uint64) uint64 {
	floor := last
	for _, c := range cs {
		floor = min(floor, c.floor)
	}
	return floor
}

// processed reports whether every consumer that takes m has processed it,
// and, for a work queue, that some consumer took it.
func processed(ret stream.Retention, m stream.Message, cs []interest) bool {
	taken := false
	for _, c := range cs {
		if !c.matches(m.Subject) {
			continue
		}
		taken = true
		if !c.done(m.Seq) {
			return false
		}
	}
	return taken || ret == stream.InterestRetention
}

// ackedOf says which messages past the ack floor a consumer has
// processed: delivered, neither pending nor still to deliver first.
func ackedOf(st consumer.State) func(seq uint64) bool {
	return func(seq uint64) bool {
		if seq > st.Delivered.Stream {
			return false
		}
		if _, pending := st.Pending[seq]; pending {
			return false
		}
		return !slices.Contains(st.Initial, seq)
	}
}

// retain, on the stream's leader, removes the messages a work-queue or
// interest stream no longer keeps. It needs the committed state of every
// consumer the meta group records for the stream from a local replica: a
// consumer it cannot see might still want the messages, so then it waits.
func (s *Set) retain(r *Replica, recorded []meta.Consumer) {
	cfg := r.FSM().Config()
	if cfg.Retention != stream.WorkQueueRetention && cfg.Retention != stream.InterestRetention || !r.IsLeader() {
		return
	}
	cs := make([]interest, 0, len(recorded))
	for _, m := range recorded {
		c, ok := s.GetConsumer(m.Stream, m.Config.Name)
		if !ok || c.Meta().Group != m.Group {
			return
		}
		st := c.FSM().State()
		if !st.Started {
			return
		}
		cs = append(cs, interest{floor: st.AckFloor.Stream, matches: c.FSM().Config().Matches, acked: ackedOf(st)})
	}
	rm := toRemove(cfg.Retention, r.FSM(), cs)
	if rm.through > 0 {
		if err := stream.RemoveThrough(r.group.Raft(), rm.through, opTimeout); err != nil {
			s.logger.Warn("removing processed messages failed; will retry", "stream", cfg.Name, "through", rm.through, "error", err)
			return
		}
	}
	if len(rm.msgs) > 0 {
		if err := stream.RemoveMsgs(r.group.Raft(), rm.msgs, opTimeout); err != nil {
			s.logger.Warn("removing processed messages failed; will retry", "stream", cfg.Name, "messages", len(rm.msgs), "error", err)
		}
	}
}
