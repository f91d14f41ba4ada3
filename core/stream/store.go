package stream

import "errors"

// Store errors.
var (
	// ErrMsgNotFound is returned by Get for a sequence the store does not
	// hold: never written, removed by limits or purged.
	ErrMsgNotFound = errors.New("message not found")
	// ErrStoreClosed is returned by every method of a closed store.
	ErrStoreClosed = errors.New("stream store closed")
	// ErrBadUpdate is returned by Update for messages whose sequences do
	// not continue the store's last sequence.
	ErrBadUpdate = errors.New("stream store: bad update")
	// ErrStoreCorrupt is wrapped by the error of a read that found the
	// store's files damaged: a value that does not decode, or a message
	// the store's state holds missing from its files. Badger checks the
	// checksums of every block and value it reads from disk, so damage is
	// one of these errors, never other data.
	ErrStoreCorrupt = errors.New("stream store corrupt")
)

// Header is one message header; a key may repeat.
type Header struct {
	Key   string
	Value string
}

// Message is one stored message.
type Message struct {
	Seq     uint64
	Subject string
	Header  []Header
	Data    []byte
	// Time is when the stream leader accepted the message, Unix nanoseconds.
	Time  int64
	MsgID string
}

// Size is what the message counts against the stream's byte limit: its
// subject, headers and data (as JetStream counts it, plus a fixed 16
// bytes for sequence and time).
func (m Message) Size() uint64 {
	n := len(m.Subject) + len(m.Data) + len(m.MsgID) + 16
	for _, h := range m.Header {
		n += len(h.Key) + len(h.Value)
	}
	return uint64(n)
}

// State is what a store holds. With no messages, FirstSeq is LastSeq+1.
type State struct {
	Msgs      uint64
	Bytes     uint64
	FirstSeq  uint64
	FirstTime int64
	LastSeq   uint64
	LastTime  int64
	// Deleted counts messages removed (limits, purge) over the store's life.
	Deleted uint64
}

// Update is one atomic change to a store: append messages, then remove
// every message with a sequence up to RemoveThrough, and record Applied
// as the Raft index the change came from.
type Update struct {
	// Append's sequences must be LastSeq+1, LastSeq+2, ...
	Append []Message
	// Remove removes these messages one by one (a work-queue or
	// interest stream's processed messages); sequences the store does not
	// hold are ignored. The sequences of the others do not change. At
	// most MaxRemove (4096) sequences.
	Remove []uint64
	// RemoveThrough removes messages with Seq <= RemoveThrough (0: none).
	// It may exceed the last sequence: the store then records LastSeq =
	// RemoveThrough, so that the next message is RemoveThrough+1 (a purge
	// of messages the store never had, after a snapshot install).
	RemoveThrough uint64
	// Applied, when not 0, is recorded as the store's applied Raft index.
	Applied uint64
}

// Store holds one stream's messages on one node. Update is called by one
// goroutine at a time (the Raft FSM); Get and State may be called
// concurrently with it and with each other.
//
// A store survives restart: after a crash it holds the state of some
// prefix of its updates (every update is atomic), and after Sync returns
// it holds all of them. Applied tells the FSM which Raft entries it can
// skip on replay.
type Store interface {
	Update(u Update) error
	Get(seq uint64) (Message, error)
	State() State
	Applied() uint64
	// Sync makes every update so far durable.
	Sync() error
	// Close releases the store; its data stays.
	Close() error
	// Delete closes the store and removes its data.
	Delete() error
}
