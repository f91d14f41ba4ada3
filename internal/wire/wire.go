// Package wire reads the length-prefixed binary fields of Strata's own
// encodings (a stream's Raft entries, backup records): big-endian
// uint64s, uvarints, varints, and bytes or strings prefixed by their
// uvarint length. The first error sticks, so a decoder reads every field
// and checks Err once.
package wire

import "encoding/binary"

// Reader reads fields from a byte slice.
type Reader struct {
	b   []byte
	err error
	bad error
}

// NewReader returns a Reader of b that fails with bad.
func NewReader(b []byte, bad error) *Reader { return &Reader{b: b, bad: bad} }

// Err returns the first error, or nil.
func (r *Reader) Err() error { return r.err }

// Len returns how many bytes are left.
func (r *Reader) Len() int { return len(r.b) }

// Uint64 reads a big-endian uint64.
func (r *Reader) Uint64() uint64 {
	if r.err != nil || len(r.b) < 8 {
		r.err = r.bad
		return 0
	}
	v := binary.BigEndian.Uint64(r.b)
	r.b = r.b[8:]
	return v
}

// Uvarint reads a uvarint.
func (r *Reader) Uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = r.bad
		return 0
	}
	r.b = r.b[n:]
	return v
}

// Varint reads a varint.
func (r *Reader) Varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = r.bad
		return 0
	}
	r.b = r.b[n:]
	return v
}

// Bytes reads length-prefixed bytes into a new slice, nil when empty.
func (r *Reader) Bytes() []byte { return append([]byte(nil), r.Field()...) }

// String reads a length-prefixed string.
func (r *Reader) String() string { return string(r.Bytes()) }

// Byte reads one byte.
func (r *Reader) Byte() byte {
	if r.err != nil || len(r.b) == 0 {
		r.err = r.bad
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

// Field reads length-prefixed bytes without copying them: the result
// aliases the Reader's slice, its capacity clipped so that appending to it
// cannot overwrite what follows; nil when empty.
func (r *Reader) Field() []byte {
	n := r.Uvarint()
	if r.err != nil || n > uint64(len(r.b)) {
		r.err = r.bad
		return nil
	}
	if n == 0 {
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}
