package stream

import (
	"cmp"
	"slices"
)

// dupeEntry is a remembered message id.
type dupeEntry struct {
	id   string
	seq  uint64
	time int64
}

// dedupe remembers message ids for a window, measured in the times the
// leader gave the entries, so that every replica forgets an id at the
// same point of the log.
type dedupe struct {
	ids   map[string]dupeEntry
	order []dupeEntry // oldest first
}

func newDedupe() *dedupe { return &dedupe{ids: map[string]dupeEntry{}} }

// lookup returns the sequence stored for id, if remembered.
func (d *dedupe) lookup(id string) (uint64, bool) {
	e, ok := d.ids[id]
	return e.seq, ok
}

// add remembers id for the message seq stored at time t.
func (d *dedupe) add(id string, seq uint64, t int64) {
	e := dupeEntry{id: id, seq: seq, time: t}
	d.ids[id] = e
	d.order = append(d.order, e)
}

// expire forgets ids stored before cutoff.
func (d *dedupe) expire(cutoff int64) {
	i := 0
	for ; i < len(d.order) && d.order[i].time < cutoff; i++ {
		if cur, ok := d.ids[d.order[i].id]; ok && cur.seq == d.order[i].seq {
			delete(d.ids, d.order[i].id)
		}
	}
	d.order = d.order[i:] // append reallocates, freeing the prefix
}

// forgetThrough forgets the ids of messages with sequences up to seq:
// once a message is gone (limits, purge, expiry), so is its id, on every
// replica alike; a replica rebuilding its table after a restart finds
// only the messages still stored.
func (d *dedupe) forgetThrough(seq uint64) {
	for len(d.order) > 0 && d.order[0].seq <= seq {
		if cur, ok := d.ids[d.order[0].id]; ok && cur.seq == d.order[0].seq {
			delete(d.ids, d.order[0].id)
		}
		d.order = d.order[1:]
	}
}

// forget forgets the ids of the messages seqs, removed one by one; order
// is by sequence, as messages are stored.
func (d *dedupe) forget(seqs []uint64) {
	for _, seq := range seqs {
		i, ok := slices.BinarySearchFunc(d.order, seq, func(e dupeEntry, s uint64) int { return cmp.Compare(e.seq, s) })
		if !ok {
			continue
		}
		if cur, ok := d.ids[d.order[i].id]; ok && cur.seq == seq {
			delete(d.ids, d.order[i].id)
		}
	}
}

// rebuild fills a fresh table from the store's newest messages: those
// stored within window of its last message.
func rebuildDedupe(s Store, window int64) *dedupe {
	d := newDedupe()
	st := s.State()
	var found []dupeEntry
	for seq := st.LastSeq; seq >= st.FirstSeq && seq > 0; seq-- {
		m, err := s.Get(seq)
		if err != nil || m.Time < st.LastTime-window {
			break
		}
		if m.MsgID != "" {
			found = append(found, dupeEntry{id: m.MsgID, seq: m.Seq, time: m.Time})
		}
	}
	for i := len(found) - 1; i >= 0; i-- {
		d.add(found[i].id, found[i].seq, found[i].time)
	}
	return d
}
