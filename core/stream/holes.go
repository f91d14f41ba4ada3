package stream

import "slices"

// holes are the messages removed one by one from inside a store's range
// (a work-queue or interest stream removes a message once it is
// processed, out of order): sequence to the message's Size. Every hole
// lies in FirstSeq+1..LastSeq: FirstSeq is always a message the store
// holds, a removal of the first message moving FirstSeq past it and the
// holes behind it.
type holes map[uint64]uint64

// bytesFrom is the size of the holes at or after first.
func (h holes) bytesFrom(first uint64) uint64 {
	var n uint64
	for seq, size := range h {
		if seq >= first {
			n += size
		}
	}
	return n
}

// countThrough is how many holes lie at or before seq.
func (h holes) countThrough(seq uint64) uint64 {
	var n uint64
	for s := range h {
		if s <= seq {
			n++
		}
	}
	return n
}

// clone copies h (nil when empty).
func (h holes) clone() holes {
	if len(h) == 0 {
		return nil
	}
	c := make(holes, len(h))
	for s, n := range h {
		c[s] = n
	}
	return c
}

// MaxRemove bounds Update.Remove and a RemoveMsgs proposal: the holes of
// one update are written in one Badger transaction with the store's meta.
const MaxRemove = 4096

// removal is an Update's removals resolved against a store: the prefix
// to remove (through, 0 for none) and the messages to remove from inside
// what stays, in order.
type removal struct {
	through  uint64
	interior []uint64
}

// planRemoval resolves u's RemoveThrough and Remove against st (after u's
// appends) and its holes: removing the first message extends the prefix
// past it and past the holes and removed messages right behind it.
// Sequences outside the store or already removed are ignored.
func planRemoval(st State, h holes, u Update) removal {
	r := removal{through: u.RemoveThrough}
	if len(u.Remove) == 0 && (len(h) == 0 || r.through < st.FirstSeq) {
		return r
	}
	gone := make(map[uint64]bool, len(u.Remove))
	for _, seq := range u.Remove {
		gone[seq] = true
	}
	first := max(st.FirstSeq, r.through+1)
	for first <= st.LastSeq && (gone[first] || h[first] != 0) {
		first++
	}
	if first-1 >= st.FirstSeq {
		r.through = max(r.through, first-1)
	}
	for seq := range gone {
		if seq > r.through && seq <= st.LastSeq && h[seq] == 0 {
			r.interior = append(r.interior, seq)
		}
	}
	slices.Sort(r.interior)
	return r
}

// removeState returns st, with holes h, after removal r: trimState for
// the prefix (rest as for trimState, the bytes it returns already
// without holes), then one message less for each interior removal, whose
// sizes are given. Holes inside the removed prefix were counted when they
// were made.
func removeState(st State, h holes, r removal, sizes []uint64, rest func(first uint64) (int64, uint64, error)) (State, error) {
	out, err := trimState(st, r.through, rest)
	if err != nil {
		return st, err
	}
	if r.through >= st.FirstSeq && r.through < st.LastSeq {
		n := h.countThrough(r.through)
		out.Msgs += n
		out.Deleted -= n
	}
	for _, size := range sizes {
		out.Msgs--
		out.Bytes -= size
		out.Deleted++
	}
	return out, nil
}

// next returns h after r: without the holes the prefix took, with the
// interior removals (sizes parallel to r.interior). h is not changed.
func (h holes) next(r removal, sizes []uint64) holes {
	out := make(holes, len(h)+len(r.interior))
	for s, n := range h {
		if s > r.through {
			out[s] = n
		}
	}
	for i, s := range r.interior {
		out[s] = sizes[i]
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
