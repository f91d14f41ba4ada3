package consumer

import (
	"errors"
	"slices"

	"github.com/stratadb/strata/core/stream"
)

// Source is the local stream replica a consumer leader reads from;
// *stream.FSM satisfies it.
type Source interface {
	// State returns the stream's state on this replica.
	State() stream.State
	// Get returns a message, or stream.ErrMsgNotFound when it was removed
	// or never written.
	Get(seq uint64) (stream.Message, error)
	// Appended returns a channel that is closed when a message is next
	// appended or removed.
	Appended() <-chan struct{}
}

var _ Source = (*stream.FSM)(nil)

// resolveStart turns the deliver policy into the start position an
// opStart records: the stream sequence deliveries start after, and for
// last_per_subject the messages to deliver first.
func resolveStart(cfg Config, src Source) (startEntry, error) {
	st := src.State()
	switch cfg.DeliverPolicy {
	case DeliverLast:
		seq, err := lastMatching(cfg, src, st)
		if err != nil || seq == 0 {
			return startEntry{startSeq: st.LastSeq}, err
		}
		return startEntry{startSeq: seq - 1}, nil
	case DeliverNew:
		return startEntry{startSeq: st.LastSeq}, nil
	case DeliverByStartSequence:
		return startEntry{startSeq: max(cfg.OptStartSeq, 1) - 1}, nil
	case DeliverByStartTime:
		seq, err := firstAtOrAfter(src, st, cfg.OptStartTime)
		return startEntry{startSeq: max(seq, 1) - 1}, err
	case DeliverLastPerSubject:
		initial, err := lastPerSubject(cfg, src, st)
		return startEntry{startSeq: st.LastSeq, initial: initial}, err
	default: // DeliverAll
		return startEntry{startSeq: st.FirstSeq - 1}, nil
	}
}

// errNotYet says the local replica has not received a message yet (it
// lags its stream, or is being rebuilt from peers): the message is not
// removed, and stays pending until it arrives.
var errNotYet = errors.New("consumer: message not on this replica yet")

// get returns message seq, found false when the stream no longer holds
// it, errNotYet when this replica does not hold it yet.
func get(src Source, seq uint64) (stream.Message, bool, error) {
	m, err := src.Get(seq)
	switch {
	case errors.Is(err, stream.ErrMsgNotFound) && seq > src.State().LastSeq:
		return stream.Message{}, false, errNotYet
	case errors.Is(err, stream.ErrMsgNotFound):
		return stream.Message{}, false, nil
	case err != nil:
		return stream.Message{}, false, err
	}
	return m, true, nil
}

// lastMatching returns the last message the consumer wants, 0 if none.
func lastMatching(cfg Config, src Source, st stream.State) (uint64, error) {
	if st.Msgs == 0 {
		return 0, nil
	}
	if len(cfg.FilterSubjects) == 0 {
		return st.LastSeq, nil
	}
	for seq := st.LastSeq; seq >= st.FirstSeq && seq > 0; seq-- {
		m, ok, err := get(src, seq)
		if err != nil {
			return 0, err
		}
		if ok && cfg.Matches(m.Subject) {
			return seq, nil
		}
	}
	return 0, nil
}

// firstAtOrAfter returns the first message with Time >= t, or
// LastSeq+1 if none: a binary search, as times never decrease.
func firstAtOrAfter(src Source, st stream.State, t int64) (uint64, error) {
	lo, hi := st.FirstSeq, st.LastSeq+1 // the answer is in [lo, hi]
	for lo < hi {
		mid := lo + (hi-lo)/2
		m, ok, err := firstFrom(src, mid, hi)
		if err != nil {
			return 0, err
		}
		switch {
		case !ok: // nothing left in [mid, hi)
			hi = mid
		case m.Time >= t:
			hi = mid
		default:
			lo = m.Seq + 1
		}
	}
	return lo, nil
}

// firstFrom returns the first message held in [from, to).
func firstFrom(src Source, from, to uint64) (stream.Message, bool, error) {
	for seq := from; seq < to; seq++ {
		m, ok, err := get(src, seq)
		if err != nil || ok {
			return m, ok, err
		}
	}
	return stream.Message{}, false, nil
}

// lastPerSubject returns, ascending, the last message of every subject
// the consumer wants.
func lastPerSubject(cfg Config, src Source, st stream.State) ([]uint64, error) {
	seen := map[string]bool{}
	var seqs []uint64
	for seq := st.LastSeq; seq >= st.FirstSeq && seq > 0; seq-- {
		m, ok, err := get(src, seq)
		if err != nil {
			return nil, err
		}
		if !ok || seen[m.Subject] || !cfg.Matches(m.Subject) {
			continue
		}
		seen[m.Subject] = true
		seqs = append(seqs, seq)
	}
	slices.Reverse(seqs)
	return seqs, nil
}
