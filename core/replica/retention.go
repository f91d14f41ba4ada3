package replica

import (
	"github.com/stratadb/strata/core/meta"
	"github.com/stratadb/strata/core/stream"
)

// retentionScan bounds the messages one retention pass reads past the
// consumers' common ack floor; the next pass goes on from there.
const retentionScan = 10_000

// interest is what retention needs of one consumer: the stream sequence
// through which it has processed every message (its committed ack floor)
// and which subjects it takes.
type interest struct {
	floor   uint64
	matches func(subject string) bool
}

// messages is the part of a stream's FSM retention reads.
type messages interface {
	State() stream.State
	Get(seq uint64) (stream.Message, error)
}

// retainThrough returns the sequence through which a work-queue or
// interest stream may remove its messages (0: none), as a prefix, so that
// sequences stay consecutive: a message goes once every consumer that
// takes it has processed it (interest) or once the consumer that takes it
// has (work queue, whose consumers' filters do not overlap; a message no
// consumer takes stays, and so do those after it).
func retainThrough(ret stream.Retention, src messages, cs []interest) uint64 {
	st := src.State()
	if st.Msgs == 0 {
		return 0
	}
	through := st.FirstSeq - 1
	if ret == stream.InterestRetention {
		through = max(through, commonFloor(cs, st.LastSeq))
	}
	for seq := through + 1; seq <= st.LastSeq && seq-through <= retentionScan; seq++ {
		m, err := src.Get(seq)
		if err != nil || !processed(ret, m, cs) {
			break
		}
		through = seq
	}
	if through < st.FirstSeq {
		return 0
	}
	return through
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
		if m.Seq > c.floor {
			return false
		}
	}
	return taken || ret == stream.InterestRetention
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
		cs = append(cs, interest{floor: st.AckFloor.Stream, matches: c.FSM().Config().Matches})
	}
	through := retainThrough(cfg.Retention, r.FSM(), cs)
	if through == 0 {
		return
	}
	if err := stream.RemoveThrough(r.group.Raft(), through, opTimeout); err != nil {
		s.logger.Warn("removing processed messages failed; will retry", "stream", cfg.Name, "through", through, "error", err)
	}
}
