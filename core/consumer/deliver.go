package consumer

import (
	"errors"
	"slices"
	"time"

	"github.com/stratadb/strata/core/stream"
)

// scanCap bounds the stream messages one round looks at for new
// deliveries, so that a filtered consumer far behind does not hold the
// leader's lock for long; the fetch goes on with the next round.
const scanCap = 16384

// budget is what one round of a fetch may hand out.
type budget struct {
	msgs  int
	bytes int  // 0: no bound
	first bool // the round's first message goes even if larger than bytes
}

// round is what one round of a fetch handed out.
type round struct {
	deliveries []Delivery
	processed  []uint64 // made processed by delivery (ack policy none)
	bytes      int
	full       bool  // the byte budget is spent
	again      bool  // more may be available at once
	nextDue    int64 // the earliest redelivery deadline to come (0: none)
}

// choice is the deliveries a round proposes.
type choice struct {
	seqs     []uint64
	msgs     []stream.Message // parallel to seqs, as they will be sent
	bytes    int
	firstNew int      // seqs[firstNew:] come from the scan of new messages
	scanned  uint64   // the scan looked at the messages through this one
	removed  []uint64 // pending or initial messages the stream lost
	nextDue  int64
	full     bool
	again    bool
}

// deliverOnce chooses deliveries, proposes them as one entry and returns
// what the FSM accepted of them, ready to send.
func (l *Leader) deliverOnce(b budget) (round, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.isLeader() {
		return round{}, ErrNotLeader
	}
	if err := l.ensureStarted(); err != nil || !l.started() {
		return round{}, err // not started: a restore waiting for the stream
	}
	l.syncTerm()
	now := time.Now().UnixNano()
	c, err := l.choose(now, b)
	if err != nil {
		return round{}, err
	}
	r := round{full: c.full, again: c.again, nextDue: c.nextDue}
	if len(c.removed) > 0 {
		if _, err := l.propose(encodeDrop(dropRemoved, c.removed)); err != nil {
			return round{}, err
		}
		r.again = true
	}
	if len(c.seqs) == 0 {
		l.cursor = max(l.cursor, c.scanned)
		return r, nil
	}
	res, err := l.propose(encodeDeliver(now, c.seqs))
	if err != nil {
		return round{}, err
	}
	dr, _ := res.(deliverResult)
	l.advanceCursor(c, dr)
	r.deliveries, r.bytes = l.deliveries(c, dr)
	r.processed = dr.processed
	return r, nil
}

// syncTerm resets the cursor when a new term (leadership) begins.
func (l *Leader) syncTerm() {
	if t := l.raft.CurrentTerm(); t != l.term {
		l.term, l.cursor = t, 0
	}
}

// choose picks, within b, the due redeliveries, then Initial, then new
// wanted messages after the cursor.
func (l *Leader) choose(now int64, b budget) (*choice, error) {
	var (
		cfg       Config
		redeliver []uint64
		initial   []uint64
		delivered uint64
		ackRoom   = b.msgs // first deliveries ack pending has room for
		c         = &choice{}
	)
	l.fsm.view(func(cf Config, st *State) {
		cfg, delivered = cf, st.Delivered.Stream
		redeliver, c.nextDue = dueRedeliveries(cf, st, now, b.msgs)
		if cf.AckPolicy != AckNone && cf.MaxAckPending > 0 {
			ackRoom = max(min(ackRoom, cf.MaxAckPending-len(st.Pending)), 0)
		}
		initial = slices.Clone(st.Initial[:min(len(st.Initial), ackRoom, b.msgs-len(redeliver))])
	})
	c.scanned = max(l.cursor, delivered)
	more, err := l.takeAll(c, cfg, b, redeliver)
	redelivered := len(c.seqs)
	if more && err == nil {
		more, err = l.takeAll(c, cfg, b, initial)
	}
	c.firstNew = len(c.seqs)
	if !more || err != nil {
		return c, err
	}
	room := min(ackRoom-(len(c.seqs)-redelivered), b.msgs-len(c.seqs))
	return c, l.scan(c, cfg, b, c.scanned, room)
}

// takeAll takes the messages seqs; false says the byte budget is spent.
func (l *Leader) takeAll(c *choice, cfg Config, b budget, seqs []uint64) (bool, error) {
	for _, seq := range seqs {
		if ok, err := l.take(c, cfg, b, seq); err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

// take adds message seq to c unless the stream lost it (then it goes to
// c.removed) or the local replica does not hold it yet (then it waits);
// false says the byte budget is spent.
func (l *Leader) take(c *choice, cfg Config, b budget, seq uint64) (bool, error) {
	m, ok, err := get(l.src, seq)
	if errors.Is(err, errNotYet) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	if !ok {
		c.removed = append(c.removed, seq)
		return true, nil
	}
	return c.add(cfg, b, m), nil
}

// scan adds up to room wanted messages after seq.
func (l *Leader) scan(c *choice, cfg Config, b budget, after uint64, room int) error {
	c.scanned = after
	last := l.src.State().LastSeq
	for seq, looked := after+1, 0; seq <= last && room > 0 && !c.full; seq, looked = seq+1, looked+1 {
		if looked == scanCap {
			c.again = true
			return nil
		}
		m, ok, err := get(l.src, seq)
		if err != nil {
			return err
		}
		if ok && cfg.Matches(m.Subject) {
			if !c.add(cfg, b, m) {
				return nil
			}
			room--
		}
		c.scanned = seq
	}
	return nil
}

// add adds m to c if the byte budget allows it.
func (c *choice) add(cfg Config, b budget, m stream.Message) bool {
	if cfg.HeadersOnly {
		m = headersOnly(m)
	}
	size := int(m.Size())
	if b.bytes > 0 && c.bytes+size > b.bytes && !(b.first && len(c.seqs) == 0) {
		c.full = true
		return false
	}
	c.seqs = append(c.seqs, m.Seq)
	c.msgs = append(c.msgs, m)
	c.bytes += size
	return true
}

// dueRedeliveries returns, ascending and at most limit, the pending
// messages whose deadline passed and that may be delivered again, and
// the earliest deadline still to come.
func dueRedeliveries(cfg Config, st *State, now int64, limit int) ([]uint64, int64) {
	var (
		due  []uint64
		next int64
	)
	for seq, p := range st.Pending {
		switch {
		case cfg.MaxDeliver > 0 && p.Count >= uint64(cfg.MaxDeliver):
			// the leader loop drops it
		case p.Deadline <= now:
			due = append(due, seq)
		case next == 0 || p.Deadline < next:
			next = p.Deadline
		}
	}
	slices.Sort(due)
	if len(due) > limit {
		due = due[:limit]
	}
	return due, next
}

// advanceCursor moves the cursor past the scanned messages, or to just
// before the first new message the FSM refused.
func (l *Leader) advanceCursor(c *choice, dr deliverResult) {
	accepted := make(map[uint64]bool, len(dr.accepted))
	for _, d := range dr.accepted {
		accepted[d.Seq] = true
	}
	cursor := c.scanned
	for _, seq := range c.seqs[c.firstNew:] {
		if !accepted[seq] {
			cursor = seq - 1
			break
		}
	}
	l.cursor = cursor
}

// deliveries turns what the FSM accepted into what is sent.
func (l *Leader) deliveries(c *choice, dr deliverResult) ([]Delivery, int) {
	msgs := make(map[uint64]stream.Message, len(c.seqs))
	for i, seq := range c.seqs {
		msgs[seq] = c.msgs[i]
	}
	var (
		cfg       Config
		delivered uint64
		initial   int
	)
	l.fsm.view(func(cf Config, st *State) { cfg, delivered, initial = cf, st.Delivered.Stream, len(st.Initial) })
	left := uint64(initial) + unprocessedAfter(cfg, l.src, delivered, fetchScanCap)
	for _, d := range dr.accepted {
		if d.Count == 1 {
			left++
		}
	}
	out := make([]Delivery, 0, len(dr.accepted))
	bytes := 0
	for _, d := range dr.accepted {
		if d.Count == 1 {
			left--
		}
		m := msgs[d.Seq]
		bytes += int(m.Size())
		out = append(out, Delivery{Msg: m, ConsumerSeq: d.Consumer, Count: d.Count, Pending: left})
	}
	return out, bytes
}
