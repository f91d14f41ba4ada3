package stream

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/stratadb/strata/internal/wire"
)

// The stream group's Raft entries. The first byte names the operation.
const (
	opPublish byte = 1 // a batch of publishes, one time for all
	opPurge   byte = 2 // remove every message
	opConfig  byte = 3 // new limits (JSON Config)
	opRemove  byte = 4 // remove messages through a sequence (max_age)
	// opRestore (5) and opRestoreAfter (7) are in restore.go.
	opRemoveMsgs byte = 6 // remove messages one by one (work queue, interest)
)

// errBadEntry is returned for an entry that cannot be decoded.
var errBadEntry = errors.New("stream: bad raft entry")

// Publish is one message to store, before it has a sequence.
type Publish struct {
	Subject string
	Header  []Header
	Data    []byte
	MsgID   string
}

// size is the message's byte count as stored.
func (p Publish) size() uint64 {
	return Message{Subject: p.Subject, Header: p.Header, Data: p.Data, MsgID: p.MsgID}.Size()
}

// encodePublish encodes a batch accepted at time now (Unix nanoseconds).
func encodePublish(now int64, batch []Publish) []byte {
	n := 16
	for _, p := range batch {
		n += int(p.size()) + 8
	}
	b := make([]byte, 0, n)
	b = append(b, opPublish)
	b = binary.BigEndian.AppendUint64(b, uint64(now))
	b = binary.AppendUvarint(b, uint64(len(batch)))
	for _, p := range batch {
		b = appendPublish(b, p)
	}
	return b
}

// appendPublish appends a message's fields as entries carry them.
func appendPublish(b []byte, p Publish) []byte {
	b = appendString(b, p.Subject)
	b = appendString(b, p.MsgID)
	b = binary.AppendUvarint(b, uint64(len(p.Header)))
	for _, h := range p.Header {
		b = appendString(b, h.Key)
		b = appendString(b, h.Value)
	}
	return appendBytes(b, p.Data)
}

// readPublish reads what appendPublish wrote; d's error says whether it
// could.
func readPublish(d *wire.Reader) Publish {
	p := Publish{Subject: d.String(), MsgID: d.String()}
	if nh := d.Uvarint(); nh > 0 && nh <= uint64(d.Len()) {
		p.Header = make([]Header, nh)
		for j := range p.Header {
			p.Header[j] = Header{Key: d.String(), Value: d.String()}
		}
	}
	p.Data = d.Bytes()
	return p
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendBytes(b, s []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// decodePublish decodes an opPublish entry (without its op byte).
func decodePublish(b []byte) (int64, []Publish, error) {
	d := wire.NewReader(b, errBadEntry)
	now := int64(d.Uint64())
	n := d.Uvarint()
	if d.Err() != nil || n > uint64(len(b)) {
		return 0, nil, errBadEntry
	}
	batch := make([]Publish, n)
	for i := range batch {
		batch[i] = readPublish(d)
	}
	if d.Err() != nil {
		return 0, nil, d.Err()
	}
	return now, batch, nil
}

func encodeConfig(c Config) ([]byte, error) {
	data, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("stream: encode config: %w", err)
	}
	return append([]byte{opConfig}, data...), nil
}

// encodeRemoveMsgs encodes the removal of seqs, in increasing order.
func encodeRemoveMsgs(seqs []uint64) []byte {
	b := binary.AppendUvarint([]byte{opRemoveMsgs}, uint64(len(seqs)))
	prev := uint64(0)
	for _, s := range seqs {
		b = binary.AppendUvarint(b, s-prev)
		prev = s
	}
	return b
}

// decodeRemoveMsgs decodes an opRemoveMsgs entry (without its op byte).
func decodeRemoveMsgs(b []byte) ([]uint64, error) {
	d := wire.NewReader(b, errBadEntry)
	n := d.Uvarint()
	if n > MaxRemove {
		return nil, fmt.Errorf("%w: %d removals, at most %d", errBadEntry, n, MaxRemove)
	}
	seqs := make([]uint64, 0, n)
	prev := uint64(0)
	for range n {
		delta := d.Uvarint()
		if delta == 0 && d.Err() == nil {
			return nil, fmt.Errorf("%w: removals out of order", errBadEntry)
		}
		prev += delta
		seqs = append(seqs, prev)
	}
	if d.Err() == nil && d.Len() != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", errBadEntry, d.Len())
	}
	return seqs, d.Err()
}

func encodeRemove(through uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{opRemove}, through)
}
