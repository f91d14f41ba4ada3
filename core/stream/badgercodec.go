package stream

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/bits"
)

// errCorruptValue marks a stored value that does not decode.
var errCorruptValue = fmt.Errorf("%w: bad stored value", ErrStoreCorrupt)

// Batch value encoding, version 2. The key of a batch holds the sequence
// of its last message; its messages are last+1-count .. last:
//
//	version   byte (2)
//	before    uvarint: the stream's Total before the batch's first message
//	count     uvarint: how many messages, at least 1
//	ends      count × 4-byte big-endian: where each message's body ends,
//	          from the start of the first body
//	bodies    the messages' bodies, back to back
//	sizes     count × uvarint: each message's Size
//
// Get decodes one body, found from two ends; only a removal, which needs
// the Total before the new first message, walks the sizes. A body holds
// a message but for its sequence:
//
//	time      varint Unix nanoseconds
//	subject   uvarint length, bytes
//	msgid     uvarint length, bytes
//	headers   uvarint count, then each key and value as uvarint length, bytes
//	data      the rest of the body
//
// Bodies fit the 4-byte ends: a batch holds at most DB.batchBytes of
// bodies or one message, and Badger takes no value bigger than its value
// log files (dbValueLogFile).
//
// Meta value encoding, version 2:
//
//	version   byte (2)
//	uvarints  FirstSeq, LastSeq, Bytes, Deleted, Applied, Total
//	varints   FirstTime, LastTime
//
// Msgs is LastSeq+1-FirstSeq less the holes (h keys): a store holds
// every other sequence in between.
//
// Version 1 (of both) was the layout of earlier builds, with one key per
// message; it is not read.
const (
	batchVersion byte = 2
	metaVersion  byte = 2

	endLen = 4 // bytes of an end
)

// uvarintLen is the length of the uvarint encoding of x.
func uvarintLen(x uint64) int { return (bits.Len64(x|1) + 6) / 7 }

// varintLen is the length of the varint encoding of x.
func varintLen(x int64) int { return uvarintLen(uint64(x<<1) ^ uint64(x>>63)) }

func lenStringLen(s string) int { return uvarintLen(uint64(len(s))) + len(s) }

// bodyLen is the length of m's body.
func bodyLen(m Message) int {
	n := varintLen(m.Time) + lenStringLen(m.Subject) + lenStringLen(m.MsgID) +
		uvarintLen(uint64(len(m.Header))) + len(m.Data)
	for _, h := range m.Header {
		n += lenStringLen(h.Key) + lenStringLen(h.Value)
	}
	return n
}

// batchLen is the length of the value of msgs, with a before of b.
func batchLen(msgs []Message, b uint64) int {
	n := 1 + uvarintLen(b) + uvarintLen(uint64(len(msgs))) + endLen*len(msgs)
	for _, m := range msgs {
		n += bodyLen(m) + uvarintLen(m.Size())
	}
	return n
}

// appendBatch appends the value of msgs, which follow b bytes of the
// stream, to dst.
func appendBatch(dst []byte, msgs []Message, b uint64) []byte {
	dst = append(dst, batchVersion)
	dst = binary.AppendUvarint(dst, b)
	dst = binary.AppendUvarint(dst, uint64(len(msgs)))
	end := 0
	for _, m := range msgs {
		end += bodyLen(m)
		dst = binary.BigEndian.AppendUint32(dst, uint32(end))
	}
	for _, m := range msgs {
		dst = appendBody(dst, m)
	}
	for _, m := range msgs {
		dst = binary.AppendUvarint(dst, m.Size())
	}
	return dst
}

// appendBody appends the body of m to dst.
func appendBody(dst []byte, m Message) []byte {
	dst = binary.AppendVarint(dst, m.Time)
	dst = appendLenString(dst, m.Subject)
	dst = appendLenString(dst, m.MsgID)
	dst = binary.AppendUvarint(dst, uint64(len(m.Header)))
	for _, h := range m.Header {
		dst = appendLenString(dst, h.Key)
		dst = appendLenString(dst, h.Value)
	}
	return append(dst, m.Data...)
}

func appendLenString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// batchView reads a batch value in place.
type batchView struct {
	before uint64 // the stream's Total before message 0
	n      int    // messages
	ends   []byte
	rest   []byte // bodies, then sizes
}

// parseBatch checks a batch value's header and returns a view of it.
func parseBatch(v []byte) (batchView, error) {
	r, err := newValueReader(v, batchVersion)
	if err != nil {
		return batchView{}, err
	}
	b := batchView{before: r.uvarint()}
	n := r.uvarint()
	switch {
	case r.err != nil:
		return batchView{}, r.err
	case n == 0 || n > uint64(len(r.b)/endLen):
		return batchView{}, fmt.Errorf("%w: %d messages in %d bytes", errCorruptValue, n, len(r.b))
	}
	b.n = int(n)
	b.ends, b.rest = r.b[:endLen*b.n], r.b[endLen*b.n:]
	if end := b.end(b.n - 1); end > len(b.rest) {
		return batchView{}, fmt.Errorf("%w: bodies end at %d of %d bytes", errCorruptValue, end, len(b.rest))
	}
	return b, nil
}

// end is where body i ends.
func (b batchView) end(i int) int {
	return int(binary.BigEndian.Uint32(b.ends[endLen*i:]))
}

// body returns the body of message i, aliasing the value.
func (b batchView) body(i int) ([]byte, error) {
	start, end := 0, b.end(i)
	if i > 0 {
		start = b.end(i - 1)
	}
	if start > end || end > len(b.rest) {
		return nil, fmt.Errorf("%w: body %d at %d..%d of %d bytes", errCorruptValue, i, start, end, len(b.rest))
	}
	return b.rest[start:end:end], nil
}

// totalBefore returns the stream's Total before message i.
func (b batchView) totalBefore(i int) (uint64, error) {
	r := valueReader{b: b.rest[b.end(b.n-1):]}
	t := b.before
	for range i {
		t += r.uvarint()
	}
	return t, r.err
}

// decodeBody decodes a message body but for its sequence. The message
// shares no memory with body.
func decodeBody(body []byte) (Message, error) {
	r := valueReader{b: body}
	m := Message{Time: r.varint(), Subject: r.string(), MsgID: r.string()}
	if n := r.uvarint(); n > 0 && r.err == nil {
		if n > uint64(len(r.b)/2) { // each header takes 2 bytes at least
			return Message{}, fmt.Errorf("%w: %d headers in %d bytes", errCorruptValue, n, len(r.b))
		}
		m.Header = make([]Header, n)
		for i := range m.Header {
			m.Header[i] = Header{Key: r.string(), Value: r.string()}
		}
	}
	if r.err != nil {
		return Message{}, r.err
	}
	if len(r.b) > 0 {
		m.Data = bytes.Clone(r.b)
	}
	return m, nil
}

// bodyTime returns the time of a message body.
func bodyTime(body []byte) (int64, error) {
	r := valueReader{b: body}
	t := r.varint()
	return t, r.err
}

// appendMeta appends the encoding of m to dst.
func appendMeta(dst []byte, m storeMeta) []byte {
	dst = append(dst, metaVersion)
	for _, v := range []uint64{m.FirstSeq, m.LastSeq, m.Bytes, m.Deleted, m.Applied, m.Total} {
		dst = binary.AppendUvarint(dst, v)
	}
	dst = binary.AppendVarint(dst, m.FirstTime)
	return binary.AppendVarint(dst, m.LastTime)
}

// decodeMeta decodes an encoded meta value.
func decodeMeta(b []byte) (storeMeta, error) {
	r, err := newValueReader(b, metaVersion)
	if err != nil {
		return storeMeta{}, fmt.Errorf("meta: %w", err)
	}
	var m storeMeta
	for _, p := range []*uint64{&m.FirstSeq, &m.LastSeq, &m.Bytes, &m.Deleted, &m.Applied, &m.Total} {
		*p = r.uvarint()
	}
	m.FirstTime, m.LastTime = r.varint(), r.varint()
	switch {
	case r.err != nil:
		return storeMeta{}, fmt.Errorf("meta: %w", r.err)
	case len(r.b) != 0:
		return storeMeta{}, fmt.Errorf("meta: %w: %d trailing bytes", errCorruptValue, len(r.b))
	case m.FirstSeq == 0 || m.FirstSeq > m.LastSeq+1:
		return storeMeta{}, fmt.Errorf("meta: %w: first sequence %d, last %d", errCorruptValue, m.FirstSeq, m.LastSeq)
	}
	m.Msgs = m.LastSeq + 1 - m.FirstSeq
	return m, nil
}

// valueReader reads the fields of a stored value, keeping the first
// error.
type valueReader struct {
	b   []byte
	err error
}

// newValueReader checks that b starts with version and returns a reader
// of the rest.
func newValueReader(b []byte, version byte) (*valueReader, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: empty", errCorruptValue)
	}
	if b[0] != version {
		return nil, fmt.Errorf("%w: version %d, want %d", errCorruptValue, b[0], version)
	}
	return &valueReader{b: b[1:]}, nil
}

func (r *valueReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = fmt.Errorf("%w: bad uvarint", errCorruptValue)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *valueReader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = fmt.Errorf("%w: bad varint", errCorruptValue)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *valueReader) string() string {
	n := r.uvarint()
	if r.err != nil || n == 0 {
		return ""
	}
	if n > uint64(len(r.b)) {
		r.err = fmt.Errorf("%w: field of %d bytes, %d left", errCorruptValue, n, len(r.b))
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}
