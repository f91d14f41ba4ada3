package stream

import (
	"encoding/json"
	"fmt"
	"time"
)

// expireInterval is how often a stream with max_age removes old messages.
const expireInterval = time.Second

// tally counts messages and bytes while a batch is applied.
type tally struct{ msgs, bytes uint64 }

func (t *tally) add(size uint64) { t.msgs++; t.bytes += size }

// trimThrough returns the sequence through which a discard-old stream
// must remove messages once msgs are appended to st, or 0.
func (f *FSM) trimThrough(st State, msgs []Message) uint64 {
	if f.cfg.Discard != DiscardOld {
		return 0
	}
	count, bytes := st.Msgs, st.Bytes
	for _, m := range msgs {
		count++
		bytes += m.Size()
	}
	first := st.FirstSeq
	if st.Msgs == 0 && len(msgs) > 0 {
		first = msgs[0].Seq
	}
	through := uint64(0)
	if max := uint64(f.cfg.MaxMsgs); max > 0 && count > max {
		through = first + (count - max) - 1
		for s := first; s <= through; s++ {
			bytes -= f.sizeOf(s, st, msgs)
		}
		count = max
	}
	if max := uint64(f.cfg.MaxBytes); max > 0 && bytes > max {
		s := first
		if through > 0 {
			s = through + 1
		}
		for ; bytes > max && count > 0; s++ {
			bytes -= f.sizeOf(s, st, msgs)
			count--
			through = s
		}
	}
	return through
}

// sizeOf returns the size of message seq, stored or about to be.
func (f *FSM) sizeOf(seq uint64, st State, msgs []Message) uint64 {
	if seq > st.LastSeq {
		return msgs[seq-st.LastSeq-1].Size()
	}
	m, err := f.store.Get(seq)
	if err != nil {
		return 0
	}
	return m.Size()
}

// applyConfig takes new limits and applies them to what is stored.
func (f *FSM) applyConfig(data []byte, index uint64) error {
	var c Config
	if err := json.Unmarshal(data, &c); err != nil {
		return fmt.Errorf("stream %s: config entry: %w", f.cfg.Name, err)
	}
	f.cfg = c
	st := f.store.State()
	f.update(Update{RemoveThrough: f.trimThrough(st, nil), Applied: index})
	return nil
}

// expireLoop removes messages older than max_age, on every replica by
// its own clock, as JetStream does: sequences are not affected, only
// where the stream starts.
func (f *FSM) expireLoop() {
	defer close(f.done)
	t := time.NewTicker(expireInterval)
	defer t.Stop()
	for {
		select {
		case <-f.stop:
			return
		case now := <-t.C:
			f.expire(now.UnixNano())
		}
	}
}

func (f *FSM) expire(now int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cfg.MaxAge <= 0 {
		return
	}
	cutoff := now - int64(f.cfg.MaxAge)
	st := f.store.State()
	through := uint64(0)
	for s := st.FirstSeq; s <= st.LastSeq; s++ {
		m, err := f.store.Get(s)
		if err != nil || m.Time >= cutoff {
			break
		}
		through = s
	}
	if through > 0 {
		f.update(Update{RemoveThrough: through})
	}
}
