package stream

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/stratadb/strata/internal/wire"

	"github.com/hashicorp/raft"
)

// opRestore is a batch of messages from a backup, stored with their
// original sequences and times, consecutive (entries of earlier builds);
// opRestoreAfter is one whose sequences may leave holes, after a given
// sequence.
const (
	opRestore      byte = 5
	opRestoreAfter byte = 7
)

// ErrRestoreSequence refuses restored messages that do not continue the
// stream: the sequence they follow is not the stream's last one (or the
// stream already holds messages and a backup may only be restored onto
// an empty one), or they leave more than MaxRemove holes.
var ErrRestoreSequence = errors.New("restored messages do not continue the stream")

// RestoreResult is what a restore entry returns: the stream's last
// sequence after it.
type RestoreResult struct{ LastSeq uint64 }

// restoreBatch is a restore entry: messages, with increasing sequences,
// that follow sequence after (0: the first message's sequence - 1); the
// sequences between are holes. Without messages, it makes holes of the
// sequences after after through holesThrough.
type restoreBatch struct {
	after, holesThrough uint64
	msgs                []Message
}

// prev is the sequence the batch follows.
func (b restoreBatch) prev() uint64 {
	if b.after == 0 && len(b.msgs) > 0 {
		return b.msgs[0].Seq - 1
	}
	return b.after
}

// end is the batch's last sequence.
func (b restoreBatch) end() uint64 {
	if n := len(b.msgs); n > 0 {
		return b.msgs[n-1].Seq
	}
	return max(b.after, b.holesThrough)
}

// encodeRestore encodes b as an opRestoreAfter entry.
func encodeRestore(b restoreBatch) []byte {
	n := 24
	for _, m := range b.msgs {
		n += int(m.Size()) + 24
	}
	out := make([]byte, 0, n)
	out = append(out, opRestoreAfter)
	out = binary.AppendUvarint(out, uint64(len(b.msgs)))
	out = binary.BigEndian.AppendUint64(out, b.after)
	if len(b.msgs) == 0 {
		out = binary.BigEndian.AppendUint64(out, b.holesThrough)
	}
	prev := b.after
	for _, m := range b.msgs {
		out = binary.AppendUvarint(out, m.Seq-prev)
		prev = m.Seq
		out = binary.BigEndian.AppendUint64(out, uint64(m.Time))
		out = appendPublish(out, Publish{Subject: m.Subject, Header: m.Header, Data: m.Data, MsgID: m.MsgID})
	}
	return out
}

// decodeRestore decodes an opRestore or opRestoreAfter entry (without
// its op byte).
func decodeRestore(op byte, b []byte) (restoreBatch, error) {
	d := wire.NewReader(b, errBadEntry)
	n := d.Uvarint()
	if d.Err() != nil || n > uint64(len(b)) {
		return restoreBatch{}, errBadEntry
	}
	var rb restoreBatch
	var seq uint64
	if op == opRestoreAfter {
		rb.after = d.Uint64()
		seq = rb.after
		if n == 0 {
			rb.holesThrough = d.Uint64()
		}
	} else if n > 0 {
		seq = d.Uint64() - 1
	}
	rb.msgs = make([]Message, n)
	for i := range rb.msgs {
		m := &rb.msgs[i]
		if op == opRestoreAfter {
			step := d.Uvarint()
			if step == 0 && d.Err() == nil {
				return restoreBatch{}, fmt.Errorf("%w: restored sequences out of order", errBadEntry)
			}
			seq += step
		} else {
			seq++
		}
		m.Seq = seq
		m.Time = int64(d.Uint64())
		p := readPublish(d)
		m.Subject, m.Header, m.Data, m.MsgID = p.Subject, p.Header, p.Data, p.MsgID
	}
	if d.Err() != nil {
		return restoreBatch{}, d.Err()
	}
	return rb, nil
}

// applyRestore stores restored messages. A batch the stream already
// holds (a retried request) changes nothing; the first batch onto an
// empty stream moves its next sequence to the batch's first. The
// sequences a batch skips become holes.
func (f *FSM) applyRestore(op byte, data []byte, index uint64) any {
	b, err := decodeRestore(op, data)
	if err != nil {
		return fmt.Errorf("stream %s: index %d: %w", f.cfg.Name, index, err)
	}
	st := f.store.State()
	if b.end() <= st.LastSeq {
		f.update(Update{Applied: index})
		return RestoreResult{LastSeq: st.LastSeq}
	}
	switch prev := b.prev(); {
	case st.Msgs == 0 && prev > st.LastSeq:
		f.update(Update{RemoveThrough: prev})
		st = f.store.State()
	case prev != st.LastSeq:
		f.update(Update{Applied: index})
		return fmt.Errorf("%w: stream %s: next sequence %d, restored after %d", ErrRestoreSequence, f.cfg.Name, st.LastSeq+1, prev)
	}
	u, gaps := withHoles(st.LastSeq, b)
	if len(u.Remove) > MaxRemove {
		f.update(Update{Applied: index})
		return fmt.Errorf("%w: stream %s: %d holes in one batch, at most %d", ErrRestoreSequence, f.cfg.Name, len(u.Remove), MaxRemove)
	}
	for _, m := range b.msgs {
		if m.MsgID != "" {
			f.dupes.add(m.MsgID, m.Seq, m.Time)
		}
	}
	u.RemoveThrough = f.trimThrough(st, u.Append, gaps)
	u.Applied = index
	f.update(u)
	f.dupes.forgetThrough(u.RemoveThrough)
	return RestoreResult{LastSeq: b.end()}
}

// withHoles returns the update appending b's messages after last, with a
// placeholder for each sequence b skips, removed in the same update, and
// the set of those sequences.
func withHoles(last uint64, b restoreBatch) (Update, map[uint64]bool) {
	var u Update
	gaps := map[uint64]bool{}
	hole := func(through uint64, t int64) {
		for s := last + 1; s <= through && len(u.Remove) <= MaxRemove; s++ {
			u.Append = append(u.Append, Message{Seq: s, Time: t})
			u.Remove = append(u.Remove, s)
			gaps[s] = true
		}
		last = max(last, through)
	}
	for _, m := range b.msgs {
		hole(m.Seq-1, m.Time)
		u.Append = append(u.Append, m)
		last = m.Seq
	}
	if len(b.msgs) == 0 {
		hole(b.holesThrough, 0)
	}
	return u, gaps
}

// ProposeRestore proposes msgs, messages from a backup with increasing
// sequences that follow sequence after (0: the first one's - 1), or
// without messages the holes after after through holesThrough, without
// waiting: RestoreResultOf waits for the outcome. Proposals made one
// after another are applied in that order.
func ProposeRestore(r *raft.Raft, after, holesThrough uint64, msgs []Message, timeout time.Duration) (raft.ApplyFuture, error) {
	if len(msgs) == 0 && (after == 0 || holesThrough <= after) {
		return nil, fmt.Errorf("%w: no messages", ErrRestoreSequence)
	}
	prev := after
	for i, m := range msgs {
		if m.Seq <= prev && (i > 0 || after > 0) {
			return nil, fmt.Errorf("%w: sequence %d follows %d", ErrRestoreSequence, m.Seq, prev)
		}
		prev = m.Seq
	}
	return r.Apply(encodeRestore(restoreBatch{after: after, holesThrough: holesThrough, msgs: msgs}), timeout), nil
}

// RestoreResultOf waits for a restore proposal and returns the stream's
// last sequence after it.
func RestoreResultOf(f raft.ApplyFuture) (uint64, error) {
	if err := f.Error(); err != nil {
		return 0, err
	}
	switch res := f.Response().(type) {
	case RestoreResult:
		return res.LastSeq, nil
	case error:
		return 0, res
	default:
		return 0, fmt.Errorf("stream: unexpected restore response %T", res)
	}
}
