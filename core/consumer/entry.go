package consumer

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/stratadb/strata/internal/wire"
)

// The consumer group's Raft entries. The first byte names the operation.
const (
	opStart   byte = 1 // the resolved start position (once)
	opDeliver byte = 2 // deliveries and redeliveries, one time for all
	opAck     byte = 3 // acks, naks, progress and terms, one time for all
	opSkip    byte = 4 // the stream removed every message through a sequence
	opDrop    byte = 5 // pending messages dropped (removed, or past max deliver)
	opConfig  byte = 6 // a consumer edit (JSON Config)
	opRestore byte = 7 // a restored state (JSON State) as the start, once
)

// Why an opDrop drops its messages.
const (
	dropRemoved    byte = 1 // the stream no longer holds them
	dropMaxDeliver byte = 2 // delivered MaxDeliver times and never acked
)

// AckKind says what an ack does.
type AckKind uint8

const (
	// AckAck marks a message processed (with AckAll, every earlier one too).
	AckAck AckKind = iota
	// AckNak asks for a redelivery after the ack's Delay (0: at once).
	AckNak
	// AckProgress resets the ack wait of a message still being worked on.
	AckProgress
	// AckTerm marks a message processed without success: never redelivered.
	AckTerm
)

// String names the kind as the API spells it.
func (k AckKind) String() string {
	switch k {
	case AckAck:
		return "ack"
	case AckNak:
		return "nak"
	case AckProgress:
		return "progress"
	case AckTerm:
		return "term"
	}
	return fmt.Sprintf("AckKind(%d)", uint8(k))
}

// Ack is one acknowledgement of a delivered message.
type Ack struct {
	// Seq is the message's stream sequence.
	Seq  uint64
	Kind AckKind
	// Delay, for a nak, is how long to wait before the redelivery.
	Delay time.Duration
}

// check refuses an ack the FSM would not understand.
func (a Ack) check() error {
	if a.Kind > AckTerm {
		return fmt.Errorf("%w: kind %d", ErrBadAck, a.Kind)
	}
	if a.Delay < 0 {
		return fmt.Errorf("%w: negative delay %s", ErrBadAck, a.Delay)
	}
	return nil
}

// startEntry is an opStart: Delivered.Stream and Initial at the start.
type startEntry struct {
	startSeq uint64
	initial  []uint64
}

func appendSeqs(b []byte, seqs []uint64) []byte {
	b = binary.AppendUvarint(b, uint64(len(seqs)))
	for _, s := range seqs {
		b = binary.AppendUvarint(b, s)
	}
	return b
}

// readSeqs reads what appendSeqs wrote.
func readSeqs(d *wire.Reader) ([]uint64, error) {
	n := d.Uvarint()
	if err := d.Err(); err != nil {
		return nil, err
	}
	if n > uint64(d.Len()) { // every sequence takes a byte at least
		return nil, ErrBadEntry
	}
	seqs := make([]uint64, n)
	for i := range seqs {
		seqs[i] = d.Uvarint()
	}
	return seqs, d.Err()
}

func encodeStart(e startEntry) []byte {
	b := binary.AppendUvarint([]byte{opStart}, e.startSeq)
	return appendSeqs(b, e.initial)
}

func decodeStart(b []byte) (startEntry, error) {
	d := wire.NewReader(b, ErrBadEntry)
	e := startEntry{startSeq: d.Uvarint()}
	var err error
	if e.initial, err = readSeqs(d); err != nil {
		return startEntry{}, err
	}
	if len(e.initial) == 0 {
		e.initial = nil
	}
	return e, done(d)
}

// encodeDeliver encodes deliveries chosen at time now (Unix ns).
func encodeDeliver(now int64, seqs []uint64) []byte {
	b := binary.BigEndian.AppendUint64([]byte{opDeliver}, uint64(now))
	return appendSeqs(b, seqs)
}

func decodeDeliver(b []byte) (int64, []uint64, error) {
	d := wire.NewReader(b, ErrBadEntry)
	now := int64(d.Uint64())
	seqs, err := readSeqs(d)
	if err != nil {
		return 0, nil, err
	}
	return now, seqs, done(d)
}

// encodeAck encodes acks taken at time now (Unix ns).
func encodeAck(now int64, acks []Ack) []byte {
	b := make([]byte, 0, 16+len(acks)*6)
	b = binary.BigEndian.AppendUint64(append(b, opAck), uint64(now))
	b = binary.AppendUvarint(b, uint64(len(acks)))
	for _, a := range acks {
		b = binary.AppendUvarint(b, a.Seq)
		b = append(b, byte(a.Kind))
		b = binary.AppendVarint(b, int64(a.Delay))
	}
	return b
}

func decodeAck(b []byte) (int64, []Ack, error) {
	d := wire.NewReader(b, ErrBadEntry)
	now := int64(d.Uint64())
	n := d.Uvarint()
	if d.Err() != nil || n > uint64(d.Len()) {
		return 0, nil, ErrBadEntry
	}
	acks := make([]Ack, n)
	for i := range acks {
		acks[i] = Ack{Seq: d.Uvarint(), Kind: AckKind(d.Byte()), Delay: time.Duration(d.Varint())}
	}
	return now, acks, done(d)
}

func encodeSkip(through uint64) []byte {
	return binary.AppendUvarint([]byte{opSkip}, through)
}

func decodeSkip(b []byte) (uint64, error) {
	d := wire.NewReader(b, ErrBadEntry)
	through := d.Uvarint()
	return through, done(d)
}

func encodeDrop(reason byte, seqs []uint64) []byte {
	return appendSeqs([]byte{opDrop, reason}, seqs)
}

func decodeDrop(b []byte) (byte, []uint64, error) {
	d := wire.NewReader(b, ErrBadEntry)
	reason := d.Byte()
	seqs, err := readSeqs(d)
	if err == nil {
		err = done(d)
	}
	if err != nil {
		return 0, nil, err
	}
	if reason != dropRemoved && reason != dropMaxDeliver {
		return 0, nil, fmt.Errorf("%w: drop reason %d", ErrBadEntry, reason)
	}
	return reason, seqs, nil
}

func encodeConfig(c Config) ([]byte, error) {
	data, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("consumer: encode config: %w", err)
	}
	return append([]byte{opConfig}, data...), nil
}

func decodeConfig(b []byte) (Config, error) {
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		return Config{}, fmt.Errorf("%w: config: %w", ErrBadEntry, err)
	}
	return c, nil
}

// done checks that d read its whole entry without error.
func done(d *wire.Reader) error {
	if err := d.Err(); err != nil {
		return err
	}
	if d.Len() != 0 {
		return fmt.Errorf("%w: %d trailing bytes", ErrBadEntry, d.Len())
	}
	return nil
}
