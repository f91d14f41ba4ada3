package consumer

import "slices"

// delivered is one delivery an opDeliver accepted.
type delivered struct {
	Seq      uint64 // stream sequence
	Consumer uint64 // consumer sequence
	Count    uint64 // which delivery of the message (1: the first)
}

// deliverResult is what an opDeliver entry answers: the deliveries it
// accepted, in entry order (the leader sends only these), and, with ack
// policy none, the sequences they made processed.
type deliverResult struct {
	accepted  []delivered
	processed []uint64
}

// ackResult is what an opAck entry answers: which acks changed a pending
// message, and the sequences made processed.
type ackResult struct {
	applied   []bool
	processed []uint64
}

// dropResult is what an opDrop entry answers: the sequences dropped after
// max deliver (those made processed; removed messages are gone anyway).
type dropResult struct{ processed []uint64 }

// applyStart resolves the start position, once.
func (f *FSM) applyStart(e startEntry) {
	st := &f.st
	if st.Started {
		return
	}
	st.Started = true
	st.Delivered = SeqPair{Stream: e.startSeq}
	st.Initial = nil
	for _, seq := range e.initial { // ascending and after nothing delivered
		if seq > 0 && seq <= e.startSeq && (len(st.Initial) == 0 || seq > st.Initial[len(st.Initial)-1]) {
			st.Initial = append(st.Initial, seq)
		}
	}
	st.AckFloor = SeqPair{}
	st.setFloor()
}

// applyDeliver accepts the deliveries the state allows: a new message
// after Delivered.Stream or next in Initial while ack pending has room,
// a redelivery of a pending message that is due and under max deliver.
func (f *FSM) applyDeliver(now int64, seqs []uint64) deliverResult {
	var res deliverResult
	st := &f.st
	if !st.Started {
		return res
	}
	for _, seq := range seqs {
		if p, ok := st.Pending[seq]; ok {
			if d, ok := f.redeliver(now, seq, p); ok {
				res.accepted = append(res.accepted, d)
			}
			continue
		}
		d, ok := f.deliverNew(now, seq)
		if !ok {
			continue
		}
		res.accepted = append(res.accepted, d)
		if f.cfg.AckPolicy == AckNone {
			res.processed = append(res.processed, seq)
		}
	}
	st.setFloor()
	return res
}

// redeliver accepts a redelivery of pending message seq if it is due.
func (f *FSM) redeliver(now int64, seq uint64, p Pending) (delivered, bool) {
	if p.Deadline > now || f.maxDelivered(p) {
		return delivered{}, false
	}
	st := &f.st
	st.Delivered.Consumer++
	st.Redelivered++
	p.Count++
	p.Consumer, p.Time = st.Delivered.Consumer, now
	p.Deadline = now + int64(f.cfg.AckWaitFor(p.Count))
	st.Pending[seq] = p
	return delivered{Seq: seq, Consumer: p.Consumer, Count: p.Count}, true
}

// deliverNew accepts a first delivery of seq if the state allows it.
func (f *FSM) deliverNew(now int64, seq uint64) (delivered, bool) {
	st := &f.st
	initial := len(st.Initial) > 0 && st.Initial[0] == seq
	if !initial && seq <= st.Delivered.Stream {
		return delivered{}, false
	}
	ackNone := f.cfg.AckPolicy == AckNone
	if !ackNone && f.cfg.MaxAckPending > 0 && len(st.Pending) >= f.cfg.MaxAckPending {
		return delivered{}, false
	}
	st.Delivered.Consumer++
	if initial {
		st.Initial = st.Initial[1:]
		if len(st.Initial) == 0 {
			st.Initial = nil
		}
	} else {
		st.Delivered.Stream = seq
	}
	if !ackNone {
		st.Pending[seq] = Pending{
			Consumer: st.Delivered.Consumer, Time: now, Count: 1,
			Deadline: now + int64(f.cfg.AckWaitFor(1)),
		}
	}
	return delivered{Seq: seq, Consumer: st.Delivered.Consumer, Count: 1}, true
}

// maxDelivered reports whether p was delivered MaxDeliver times.
func (f *FSM) maxDelivered(p Pending) bool {
	return f.cfg.MaxDeliver > 0 && p.Count >= uint64(f.cfg.MaxDeliver)
}

// applyAck applies acks to pending messages; an ack of a message not
// pending is counted in AcksIgnored and changes nothing else.
func (f *FSM) applyAck(now int64, acks []Ack) ackResult {
	st := &f.st
	res := ackResult{applied: make([]bool, len(acks))}
	for i, a := range acks {
		p, ok := st.Pending[a.Seq]
		if !ok || a.Kind > AckTerm {
			st.AcksIgnored++
			continue
		}
		res.applied[i] = true
		switch a.Kind {
		case AckAck:
			if f.cfg.AckPolicy == AckAll {
				res.processed = append(res.processed, st.removePending(a.Seq)...)
				continue
			}
			delete(st.Pending, a.Seq)
			res.processed = append(res.processed, a.Seq)
		case AckTerm:
			delete(st.Pending, a.Seq)
			res.processed = append(res.processed, a.Seq)
		case AckNak:
			p.Deadline = now + int64(a.Delay)
			st.Pending[a.Seq] = p
		case AckProgress:
			p.Deadline = now + int64(f.cfg.AckWaitFor(p.Count))
			st.Pending[a.Seq] = p
		}
	}
	st.setFloor()
	return res
}

// applySkip forgets the messages through seq: the stream removed them.
func (f *FSM) applySkip(through uint64) {
	st := &f.st
	if !st.Started {
		return
	}
	st.removePending(through)
	st.trimInitial(through)
	st.Delivered.Stream = max(st.Delivered.Stream, through)
	st.setFloor()
}

// applyDrop drops pending messages: those the stream no longer holds
// (also from Initial), or those delivered max deliver times.
func (f *FSM) applyDrop(reason byte, seqs []uint64) dropResult {
	var res dropResult
	st := &f.st
	for _, seq := range seqs {
		p, ok := st.Pending[seq]
		switch {
		case reason == dropRemoved:
			delete(st.Pending, seq)
			st.removeInitial(seq)
		case ok && f.maxDelivered(p):
			delete(st.Pending, seq)
			st.MaxDelivered++
			res.processed = append(res.processed, seq)
		}
	}
	slices.Sort(res.processed)
	st.setFloor()
	return res
}

// applyConfig takes an edit that CheckUpdate allows.
func (f *FSM) applyConfig(c Config) error {
	if err := f.cfg.CheckUpdate(c); err != nil {
		return err
	}
	f.cfg = c
	return nil
}
