package badger

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/hashicorp/raft"
)

// Log entry encoding, version 1:
//
//	version   byte (1)
//	type      byte (raft.LogType)
//	flags     byte (bit 0: AppendedAt is set)
//	index     uvarint
//	term      uvarint
//	appended  varint Unix seconds, uvarint nanoseconds, only if flags bit 0
//	data      uvarint length, bytes
//	ext       uvarint length, bytes
const (
	codecVersion byte = 1

	flagAppendedAt byte = 1 << 0

	// maxLogHeader bounds everything but Data and Extensions.
	maxLogHeader = 3 + 6*binary.MaxVarintLen64
)

// encodedLen is an upper bound of the encoding of l.
func encodedLen(l *raft.Log) int {
	return maxLogHeader + len(l.Data) + len(l.Extensions)
}

// appendLog appends the encoding of l to dst.
func appendLog(dst []byte, l *raft.Log) []byte {
	var flags byte
	if !l.AppendedAt.IsZero() {
		flags |= flagAppendedAt
	}
	dst = append(dst, codecVersion, byte(l.Type), flags)
	dst = binary.AppendUvarint(dst, l.Index)
	dst = binary.AppendUvarint(dst, l.Term)
	if flags&flagAppendedAt != 0 {
		dst = binary.AppendVarint(dst, l.AppendedAt.Unix())
		dst = binary.AppendUvarint(dst, uint64(l.AppendedAt.Nanosecond()))
	}
	dst = binary.AppendUvarint(dst, uint64(len(l.Data)))
	dst = append(dst, l.Data...)
	dst = binary.AppendUvarint(dst, uint64(len(l.Extensions)))
	return append(dst, l.Extensions...)
}

// decodeLog fills l from b. Data and Extensions alias b, so b must not be
// reused by the caller.
func decodeLog(b []byte, l *raft.Log) error {
	if len(b) < 3 {
		return fmt.Errorf("log entry: %w: %d bytes", errCorrupt, len(b))
	}
	if b[0] != codecVersion {
		return fmt.Errorf("log entry: %w: unknown version %d", errCorrupt, b[0])
	}
	d := decoder{b: b[3:]}
	typ, flags := raft.LogType(b[1]), b[2]
	*l = raft.Log{Type: typ, Index: d.uvarint(), Term: d.uvarint()}
	if flags&flagAppendedAt != 0 {
		sec := d.varint()
		l.AppendedAt = time.Unix(sec, int64(d.uvarint()))
	}
	l.Data = d.bytes()
	l.Extensions = d.bytes()
	if d.err != nil {
		return fmt.Errorf("log entry: %w", d.err)
	}
	return nil
}

// decoder reads varints and length-prefixed bytes, keeping the first error.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = fmt.Errorf("%w: bad uvarint", errCorrupt)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = fmt.Errorf("%w: bad varint", errCorrupt)
		return 0
	}
	d.b = d.b[n:]
	return v
}

// bytes returns a length-prefixed field, nil when empty. The result's
// capacity is clipped so appending to it cannot overwrite what follows.
func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil || n == 0 {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.err = fmt.Errorf("%w: field of %d bytes, %d left", errCorrupt, n, len(d.b))
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}
