package backup

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/stratadb/strata/internal/wire"

	"github.com/stratadb/strata/client"
	"github.com/stratadb/strata/core/backup/record"
)

// FormatVersion is the version of the data format this package writes.
const FormatVersion = 1

const magic = "STRATABK"

// Record types (package record has the framing).
const (
	recConfig   = record.Config
	recMessage  = record.Message
	recConsumer = record.Consumer
	recEnd      = record.End
)

// maxRecord bounds one record: a message is at most the stream's
// max_msg_size (tens of MiB) plus its subject and headers.
const maxRecord = record.Max

// Format errors.
var (
	// ErrCorrupt marks data that does not decode or does not match its
	// manifest.
	ErrCorrupt = errors.New("backup is corrupt")
	// ErrVersion marks a backup written by a newer format.
	ErrVersion = errors.New("backup format version not supported")
	// ErrKeyRequired refuses to read an encrypted backup without a key.
	ErrKeyRequired = errors.New("backup is encrypted: its key is required")
	// ErrWrongKey refuses to read an encrypted backup with another key
	// than the one it was saved with.
	ErrWrongKey = errors.New("wrong key for the backup")
)

// recordWriter writes records to w (the compressor's input).
type recordWriter struct {
	w     *bufio.Writer
	buf   []byte
	bytes int64 // uncompressed bytes written
}

func newRecordWriter(w io.Writer) (*recordWriter, error) {
	rw := &recordWriter{w: bufio.NewWriterSize(w, 256<<10)}
	_, err := rw.w.WriteString(magic)
	if err == nil {
		err = rw.w.WriteByte(FormatVersion)
	}
	rw.bytes = int64(len(magic) + 1)
	return rw, err
}

func (rw *recordWriter) record(typ byte, payload []byte) error {
	head := record.AppendHeader(rw.buf[:0], typ, len(payload))
	rw.buf = head
	if _, err := rw.w.Write(head); err != nil {
		return err
	}
	_, err := rw.w.Write(payload)
	rw.bytes += int64(len(head) + len(payload))
	return err
}

// raw writes whole records as they are (the server wrote them).
func (rw *recordWriter) raw(records []byte) error {
	_, err := rw.w.Write(records)
	rw.bytes += int64(len(records))
	return err
}

func (rw *recordWriter) config(c client.StreamConfig) error {
	data, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return rw.record(recConfig, data)
}

func (rw *recordWriter) message(m client.Msg) error {
	var headers [][2]string
	for _, h := range m.Header {
		headers = append(headers, [2]string{h.Key, h.Value})
	}
	rw.buf = record.AppendMessage(rw.buf[:0], m.Seq, nanosOf(m.Time), m.Subject, m.MsgID, headers, m.Data)
	return rw.raw(rw.buf)
}

func (rw *recordWriter) end(msgs, last uint64) error {
	b := binary.AppendUvarint(nil, msgs)
	b = binary.AppendUvarint(b, last)
	if err := rw.record(recEnd, b); err != nil {
		return err
	}
	return rw.w.Flush()
}

// recordReader reads what a recordWriter wrote.
type recordReader struct {
	r     *bufio.Reader
	buf   []byte
	bytes int64
}

func newRecordReader(r io.Reader) (*recordReader, error) {
	rr := &recordReader{r: bufio.NewReaderSize(r, 256<<10)}
	head := make([]byte, len(magic)+1)
	if _, err := io.ReadFull(rr.r, head); err != nil {
		return nil, fmt.Errorf("%w: header: %w", ErrCorrupt, err)
	}
	if string(head[:len(magic)]) != magic {
		return nil, fmt.Errorf("%w: not a Strata backup", ErrCorrupt)
	}
	if head[len(magic)] != FormatVersion {
		return nil, fmt.Errorf("%w: version %d (this tool reads %d)", ErrVersion, head[len(magic)], FormatVersion)
	}
	rr.bytes = int64(len(head))
	return rr, nil
}

// next returns the next record; its payload is valid until the next call.
func (rr *recordReader) next() (byte, []byte, error) {
	typ, err := rr.r.ReadByte()
	if err != nil {
		return 0, nil, fmt.Errorf("%w: truncated before its end record: %w", ErrCorrupt, err)
	}
	n, err := binary.ReadUvarint(rr.r)
	if err != nil || n > maxRecord {
		return 0, nil, fmt.Errorf("%w: bad record length", ErrCorrupt)
	}
	if err := rr.payload(int(n)); err != nil {
		return 0, nil, fmt.Errorf("%w: truncated record: %w", ErrCorrupt, err)
	}
	rr.bytes += 1 + int64(uvarintLen(n)) + int64(n)
	return typ, rr.buf, nil
}

// payloadChunk is how much more of a record's payload the reader makes
// room for at a time.
const payloadChunk = 1 << 20

// payload reads n bytes into rr.buf, growing it as the bytes arrive: a
// corrupt length cannot make the reader allocate more than the data
// holds (plus a chunk).
func (rr *recordReader) payload(n int) error {
	rr.buf = rr.buf[:0]
	for len(rr.buf) < n {
		start := len(rr.buf)
		k := min(n-start, payloadChunk)
		rr.buf = slices.Grow(rr.buf, k)[:start+k]
		if _, err := io.ReadFull(rr.r, rr.buf[start:]); err != nil {
			return err
		}
	}
	return nil
}

func uvarintLen(x uint64) int {
	var b [binary.MaxVarintLen64]byte
	return binary.PutUvarint(b[:], x)
}

// decodeMessage decodes a message record; the message owns its memory.
func decodeMessage(p []byte) (client.Msg, error) {
	d := wire.NewReader(p, ErrCorrupt)
	m := client.Msg{Seq: d.Uvarint()}
	m.Time = timeOf(d.Varint())
	m.Subject, m.MsgID = d.String(), d.String()
	if n := d.Uvarint(); n > 0 && n <= uint64(len(p)) {
		m.Header = make([]client.Header, n)
		for i := range m.Header {
			m.Header[i] = client.Header{Key: d.String(), Value: d.String()}
		}
	}
	m.Data = d.Bytes()
	if d.Err() != nil || d.Len() != 0 {
		return client.Msg{}, fmt.Errorf("%w: bad message record", ErrCorrupt)
	}
	return m, nil
}

func decodeEnd(p []byte) (msgs, last uint64, err error) {
	d := wire.NewReader(p, ErrCorrupt)
	msgs, last = d.Uvarint(), d.Uvarint()
	if d.Err() != nil {
		return 0, 0, fmt.Errorf("%w: bad end record", ErrCorrupt)
	}
	return msgs, last, nil
}

// timeOf is the time of Unix nanoseconds ns; 0 is the zero time.
func timeOf(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

// nanosOf is timeOf's inverse.
func nanosOf(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}
