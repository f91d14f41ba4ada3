package stream

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/stratadb/strata/internal/wire"
)

// tally counts messages and bytes while a batch is applied.
type tally struct{ msgs, bytes uint64 }

func (t *tally) add(size uint64) { t.msgs++; t.bytes += size }

// trimThrough returns the sequence through which a discard-old stream
// must remove messages once msgs are appended to st, or 0. The sequences
// in gaps are placeholders of holes, removed by the same update.
func (f *FSM) trimThrough(st State, msgs []Message, gaps map[uint64]bool) uint64 {
	if f.cfg.Discard != DiscardOld {
		return 0
	}
	count, bytes := st.Msgs, st.Bytes
	for _, m := range msgs {
		if !gaps[m.Seq] {
			count++
			bytes += m.Size()
		}
	}
	first := st.FirstSeq
	if st.Msgs == 0 && len(msgs) > 0 {
		first = msgs[0].Seq
	}
	through := uint64(0)
	if max := uint64(f.cfg.MaxMsgs); max > 0 && count > max {
		// Holes (messages removed one by one) take no place: walk.
		for s := first; count > max; s++ {
			if size, ok := f.sizeOf(s, st, msgs, gaps); ok {
				bytes -= size
				count--
			}
			through = s
		}
	}
	if max := uint64(f.cfg.MaxBytes); max > 0 && bytes > max {
		s := first
		if through > 0 {
			s = through + 1
		}
		for ; bytes > max && count > 0; s++ {
			if size, ok := f.sizeOf(s, st, msgs, gaps); ok {
				bytes -= size
				count--
			}
			through = s
		}
	}
	return through
}

// sizeOf returns the size of message seq, stored or about to be; false
// for a hole.
func (f *FSM) sizeOf(seq uint64, st State, msgs []Message, gaps map[uint64]bool) (uint64, bool) {
	if gaps[seq] {
		return 0, false
	}
	if seq > st.LastSeq {
		return msgs[seq-st.LastSeq-1].Size(), true
	}
	m, err := f.store.Get(seq)
	if err != nil {
		return 0, false
	}
	return m.Size(), true
}

// applyConfig takes new limits and applies them to what is stored.
func (f *FSM) applyConfig(data []byte, index uint64) error {
	var c Config
	if err := json.Unmarshal(data, &c); err != nil {
		return fmt.Errorf("stream %s: config entry: %w", f.cfg.Name, err)
	}
	f.cfg = c
	trim := f.trimThrough(f.store.State(), nil, nil)
	f.update(Update{RemoveThrough: trim, Applied: index})
	f.dupes.forgetThrough(trim)
	return nil
}

// ExpireThrough returns the last sequence older than max_age at now, or
// 0. The stream leader proposes removing through it (ProposeRemove), so
// every replica removes the same messages at the same point of the log:
// expiry by each replica's own clock would let a discard-new stream take
// a message on one replica and refuse it on another.
func (f *FSM) ExpireThrough(now int64) uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cfg.MaxAge <= 0 {
		return 0
	}
	cutoff := now - int64(f.cfg.MaxAge)
	st := f.store.State()
	through := uint64(0)
	for s := st.FirstSeq; s <= st.LastSeq; s++ {
		m, err := f.store.Get(s)
		if errors.Is(err, ErrMsgNotFound) {
			continue // a hole: it goes with the messages around it
		}
		if err != nil || m.Time >= cutoff {
			break
		}
		through = s
	}
	return through
}

// applyRemoveMsgs removes messages one by one (a work-queue or interest
// stream's processed messages), and forgets their ids.
func (f *FSM) applyRemoveMsgs(data []byte, index uint64) error {
	seqs, err := decodeRemoveMsgs(data)
	if err != nil {
		return fmt.Errorf("stream %s: remove entry: %w", f.cfg.Name, err)
	}
	f.update(Update{Remove: seqs, Applied: index})
	f.dupes.forget(seqs)
	return nil
}

// applyRemove removes messages through seq (never past the last one).
func (f *FSM) applyRemove(data []byte, index uint64) error {
	d := wire.NewReader(data, errBadEntry)
	through := d.Uint64()
	if d.Err() != nil {
		return fmt.Errorf("stream %s: remove entry: %w", f.cfg.Name, d.Err())
	}
	st := f.store.State()
	f.update(Update{RemoveThrough: min(through, st.LastSeq), Applied: index})
	f.dupes.forgetThrough(min(through, st.LastSeq))
	return nil
}
