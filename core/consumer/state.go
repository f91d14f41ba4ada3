package consumer

import (
	"maps"
	"slices"
)

// SeqPair is a consumer sequence with the stream sequence it delivered.
type SeqPair struct{ Consumer, Stream uint64 }

// Pending is a delivered message awaiting its ack.
type Pending struct {
	// Consumer is the consumer sequence of the latest delivery.
	Consumer uint64
	// Time is the latest delivery, Unix ns (the leader's clock, carried
	// in the entry).
	Time int64
	// Deadline is when the message may be redelivered, Unix ns: Time +
	// AckWaitFor(Count), or a nak's delay.
	Deadline int64
	// Count is the deliveries so far.
	Count uint64
}

// State is a consumer's replicated state.
type State struct {
	// Started says the start position has been resolved (opStart).
	Started bool
	// Delivered is the last delivery: its consumer sequence counts every
	// delivery, redeliveries included.
	Delivered SeqPair
	// AckFloor: every stream sequence <= AckFloor.Stream is processed.
	AckFloor SeqPair
	// Pending holds, by stream sequence, the deliveries not yet acked.
	Pending map[uint64]Pending
	// Initial are the stream sequences still to deliver first, ascending
	// (last_per_subject).
	Initial []uint64
	// Redelivered counts redeliveries so far.
	Redelivered uint64
	// AcksIgnored counts acks of a sequence that was not pending.
	AcksIgnored uint64
	// MaxDelivered counts messages dropped after MaxDeliver deliveries.
	MaxDelivered uint64
}

// clone returns a deep copy of s.
func (s State) clone() State {
	s.Pending = maps.Clone(s.Pending)
	s.Initial = slices.Clone(s.Initial)
	return s
}

// setFloor recomputes AckFloor: the stream sequence before the first
// message not yet processed, whether pending or still in Initial.
func (s *State) setFloor() {
	floor := s.Delivered
	if len(s.Initial) > 0 && s.Initial[0]-1 < floor.Stream {
		floor.Stream = s.Initial[0] - 1
	}
	if seq, p, ok := s.minPending(); ok && seq-1 < floor.Stream {
		floor = SeqPair{Consumer: p.Consumer - 1, Stream: seq - 1}
	}
	if floor.Stream >= s.AckFloor.Stream {
		s.AckFloor = floor
	}
}

// minPending returns the pending entry with the lowest stream sequence.
func (s *State) minPending() (uint64, Pending, bool) {
	var (
		min uint64
		p   Pending
		ok  bool
	)
	for seq, q := range s.Pending {
		if !ok || seq < min {
			min, p, ok = seq, q, true
		}
	}
	return min, p, ok
}

// removePending drops the pending entries with stream sequences through
// seq and returns them, ascending.
func (s *State) removePending(through uint64) []uint64 {
	var out []uint64
	for seq := range s.Pending {
		if seq <= through {
			out = append(out, seq)
		}
	}
	for _, seq := range out {
		delete(s.Pending, seq)
	}
	slices.Sort(out)
	return out
}

// removeInitial drops seq from Initial, if it is there.
func (s *State) removeInitial(seq uint64) {
	if i, ok := slices.BinarySearch(s.Initial, seq); ok {
		s.Initial = slices.Delete(s.Initial, i, i+1)
	}
}

// trimInitial drops the Initial sequences through seq.
func (s *State) trimInitial(through uint64) {
	i, _ := slices.BinarySearch(s.Initial, through+1)
	s.Initial = s.Initial[i:]
	if len(s.Initial) == 0 {
		s.Initial = nil
	}
}
