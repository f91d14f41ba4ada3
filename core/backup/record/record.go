// Package record owns the record framing of Strata's backup format (see
// core/backup's package comment): a type byte, a uvarint length and a
// payload, and the payload of a message record. It is a leaf package so
// that the server can write message records straight into a backup read
// (StreamBackup with records) and strata-backup can pass them through to
// its compressor without decoding each message.
package record

import (
	"encoding/binary"
	"errors"
)

// Record types.
const (
	Config   byte = 1
	Message  byte = 2
	Consumer byte = 3
	End      byte = 4
)

// Max bounds one record's payload.
const Max = 256 << 20

// ErrBad marks bytes that are not a whole record.
var ErrBad = errors.New("bad record")

// AppendHeader appends the type and length of a record of n bytes.
func AppendHeader(dst []byte, typ byte, n int) []byte {
	return binary.AppendUvarint(append(dst, typ), uint64(n))
}

// MessageLen is the payload length of a message record.
func MessageLen(seq uint64, t int64, subject, msgID string, headers [][2]string, data []byte) int {
	n := uvarintLen(seq) + varintLen(t) + strLen(subject) + strLen(msgID) + uvarintLen(uint64(len(headers)))
	for _, h := range headers {
		n += strLen(h[0]) + strLen(h[1])
	}
	return n + uvarintLen(uint64(len(data))) + len(data)
}

// AppendMessage appends a whole message record: header and payload
// (uvarint seq, varint time, subject, msg id, uvarint header count, each
// key and value, data; strings and data as uvarint length and bytes).
func AppendMessage(dst []byte, seq uint64, t int64, subject, msgID string, headers [][2]string, data []byte) []byte {
	dst = AppendHeader(dst, Message, MessageLen(seq, t, subject, msgID, headers, data))
	dst = binary.AppendUvarint(dst, seq)
	dst = binary.AppendVarint(dst, t)
	dst = appendString(dst, subject)
	dst = appendString(dst, msgID)
	dst = binary.AppendUvarint(dst, uint64(len(headers)))
	for _, h := range headers {
		dst = appendString(dst, h[0])
		dst = appendString(dst, h[1])
	}
	dst = binary.AppendUvarint(dst, uint64(len(data)))
	return append(dst, data...)
}

// Next splits the first whole record off b.
func Next(b []byte) (typ byte, payload, rest []byte, err error) {
	if len(b) < 2 {
		return 0, nil, nil, ErrBad
	}
	n, k := binary.Uvarint(b[1:])
	if k <= 0 || n > Max || uint64(len(b)-1-k) < n {
		return 0, nil, nil, ErrBad
	}
	start := 1 + k
	return b[0], b[start : start+int(n)], b[start+int(n):], nil
}

// MessageSeq returns the sequence a message record's payload starts with.
func MessageSeq(payload []byte) (uint64, error) {
	seq, k := binary.Uvarint(payload)
	if k <= 0 {
		return 0, ErrBad
	}
	return seq, nil
}

func appendString(dst []byte, s string) []byte {
	return append(binary.AppendUvarint(dst, uint64(len(s))), s...)
}

func strLen(s string) int { return uvarintLen(uint64(len(s))) + len(s) }

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

func varintLen(x int64) int { return uvarintLen(uint64(x<<1) ^ uint64(x>>63)) }
