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
// original sequences and times.
const opRestore byte = 5

// ErrRestoreSequence refuses restored messages that do not continue the
// stream: their first sequence is not the stream's next one (or the
// stream already holds messages and a backup may only be restored onto
// an empty one).
var ErrRestoreSequence = errors.New("restored messages do not continue the stream")

// RestoreResult is what a restore entry returns: the stream's last
// sequence after it.
type RestoreResult struct{ LastSeq uint64 }

// encodeRestore encodes msgs, whose sequences must be consecutive.
func encodeRestore(msgs []Message) []byte {
	n := 16
	for _, m := range msgs {
		n += int(m.Size()) + 16
	}
	b := make([]byte, 0, n)
	b = append(b, opRestore)
	b = binary.AppendUvarint(b, uint64(len(msgs)))
	if len(msgs) > 0 {
		b = binary.BigEndian.AppendUint64(b, msgs[0].Seq)
	}
	for _, m := range msgs {
		b = binary.BigEndian.AppendUint64(b, uint64(m.Time))
		b = appendPublish(b, Publish{Subject: m.Subject, Header: m.Header, Data: m.Data, MsgID: m.MsgID})
	}
	return b
}

// decodeRestore decodes an opRestore entry (without its op byte).
func decodeRestore(b []byte) ([]Message, error) {
	d := wire.NewReader(b, errBadEntry)
	n := d.Uvarint()
	if d.Err() != nil || n > uint64(len(b)) {
		return nil, errBadEntry
	}
	if n == 0 {
		return nil, nil
	}
	first := d.Uint64()
	msgs := make([]Message, n)
	for i := range msgs {
		m := &msgs[i]
		m.Seq = first + uint64(i)
		m.Time = int64(d.Uint64())
		p := readPublish(d)
		m.Subject, m.Header, m.Data, m.MsgID = p.Subject, p.Header, p.Data, p.MsgID
	}
	if d.Err() != nil {
		return nil, d.Err()
	}
	return msgs, nil
}

// applyRestore stores restored messages. A batch the stream already
// holds (a retried request) changes nothing; the first batch onto an
// empty stream moves its next sequence to the batch's first.
func (f *FSM) applyRestore(data []byte, index uint64) any {
	msgs, err := decodeRestore(data)
	if err != nil {
		return fmt.Errorf("stream %s: index %d: %w", f.cfg.Name, index, err)
	}
	st := f.store.State()
	if len(msgs) == 0 || msgs[len(msgs)-1].Seq <= st.LastSeq {
		f.update(Update{Applied: index})
		return RestoreResult{LastSeq: st.LastSeq}
	}
	first := msgs[0].Seq
	switch {
	case st.Msgs == 0 && first > st.LastSeq+1:
		f.update(Update{RemoveThrough: first - 1})
		st = f.store.State()
	case first != st.LastSeq+1:
		f.update(Update{Applied: index})
		return fmt.Errorf("%w: stream %s: next sequence %d, restored %d", ErrRestoreSequence, f.cfg.Name, st.LastSeq+1, first)
	}
	for _, m := range msgs {
		if m.MsgID != "" {
			f.dupes.add(m.MsgID, m.Seq, m.Time)
		}
	}
	trim := f.trimThrough(st, msgs)
	f.update(Update{Append: msgs, RemoveThrough: trim, Applied: index})
	f.dupes.forgetThrough(trim)
	return RestoreResult{LastSeq: msgs[len(msgs)-1].Seq}
}

// ProposeRestore proposes msgs, consecutive messages from a backup,
// without waiting: RestoreResultOf waits for the outcome. Proposals made
// one after another are applied in that order.
func ProposeRestore(r *raft.Raft, msgs []Message, timeout time.Duration) (raft.ApplyFuture, error) {
	if len(msgs) == 0 {
		return nil, fmt.Errorf("%w: no messages", ErrRestoreSequence)
	}
	for i := 1; i < len(msgs); i++ {
		if msgs[i].Seq != msgs[0].Seq+uint64(i) {
			return nil, fmt.Errorf("%w: sequence %d follows %d", ErrRestoreSequence, msgs[i].Seq, msgs[i-1].Seq)
		}
	}
	return r.Apply(encodeRestore(msgs), timeout), nil
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
