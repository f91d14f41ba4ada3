package stream

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/dgraph-io/badger/v4"
)

var _ Store = (*BadgerStore)(nil)

// errCorruptValue marks a stored value that does not decode.
var errCorruptValue = errors.New("corrupt stored value")

// BadgerStore is a Store of one stream in a node's DB.
//
// Its meta key holds the State, the applied index and the total bytes
// ever appended; every message value holds the total before it, so the
// bytes left after a removal are read from the new first message alone.
//
// An Update commits the messages it appends and its meta key in one
// transaction, whose commit is the update's commit point. Appends too big
// for one transaction go in transactions before it: past the committed
// LastSeq, they are unseen until the commit point. The keys of removed
// messages are deleted in the commit point's transaction and, when many,
// in transactions after it, before Update returns: below FirstSeq, they
// are already unseen. A crash between them leaves such keys stale; Open
// deletes them. The commit point's transaction commits under the lock of
// the store's state, so readers see the keys and the state change
// together.
type BadgerStore struct {
	db        *DB
	id        string
	metaKey   []byte
	msgPrefix []byte

	// wmu serializes Update, Close and Delete; under it the fields below
	// can be read without mu.
	wmu sync.Mutex

	mu     sync.RWMutex
	meta   storeMeta
	closed bool
}

// storeMeta is what a stream's meta key holds.
type storeMeta struct {
	State
	Applied uint64
	// Total is the Size of every message ever appended.
	Total uint64
}

// openBadgerStore loads a stream's meta and deletes its stale keys.
func openBadgerStore(d *DB, id string) (*BadgerStore, error) {
	s := &BadgerStore{
		db:        d,
		id:        id,
		metaKey:   streamPrefix(kindMeta, id),
		msgPrefix: streamPrefix(kindMsg, id),
		meta:      storeMeta{State: State{FirstSeq: 1}},
	}
	err := d.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(s.metaKey)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error {
			s.meta, err = decodeMeta(v)
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	if err := s.deleteStale(); err != nil {
		return nil, err
	}
	return s, nil
}

// deleteStale deletes message keys outside FirstSeq..LastSeq, left by a
// crash in the middle of an Update.
func (s *BadgerStore) deleteStale() error {
	st := s.meta.State
	n, err := s.db.deleteKeys(s.msgPrefix, s.msgPrefix, msgKey(s.msgPrefix, st.FirstSeq))
	if err != nil {
		return fmt.Errorf("delete stale messages: %w", err)
	}
	if st.LastSeq < math.MaxUint64 {
		m, err := s.db.deleteKeys(s.msgPrefix, msgKey(s.msgPrefix, st.LastSeq+1), nil)
		if err != nil {
			return fmt.Errorf("delete stale messages: %w", err)
		}
		n += m
	}
	if n > 0 {
		s.db.logger.Info("deleted stale messages", "stream", s.id, "keys", n)
	}
	return nil
}

// Update applies u atomically (see BadgerStore).
func (s *BadgerStore) Update(u Update) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.closed {
		return ErrStoreClosed
	}
	if !s.db.enter() {
		return ErrStoreClosed
	}
	defer s.db.exit()

	cur := s.meta
	if err := checkAppend(cur.State, u.Append); err != nil {
		return err
	}
	next := cur
	before := make([]uint64, len(u.Append)) // Total before each message
	for i, m := range u.Append {
		before[i] = next.Total
		size := m.Size()
		next.Total += size
		next.State = appendState(next.State, m, size)
	}
	var err error
	next.State, err = trimState(next.State, u.RemoveThrough, func(first uint64) (int64, uint64, error) {
		if first > cur.LastSeq { // appended by u
			i := first - cur.LastSeq - 1
			return u.Append[i].Time, next.Total - before[i], nil
		}
		t, b, err := s.readHead(first)
		return t, next.Total - b, err
	})
	if err != nil {
		return err
	}
	if u.Applied != 0 {
		next.Applied = u.Applied
	}
	return s.write(cur, next, u)
}

// write commits the change from cur to next: u's appended messages that
// stay, the meta key, and the deletes of the messages removed.
func (s *BadgerStore) write(cur, next storeMeta, u Update) error {
	w := txnWriter{db: s.db.db}
	defer w.discard()
	keep := u.Append
	for len(keep) > 0 && keep[0].Seq < next.FirstSeq {
		keep = keep[1:]
	}
	keys, vals := s.encodeMessages(keep, next.Total)
	for i := range keys {
		if err := w.set(keys[i], vals[i]); err != nil {
			return fmt.Errorf("stream %q: write messages: %w", s.id, err)
		}
	}
	if err := w.set(s.metaKey, appendMeta(nil, next)); err != nil {
		return fmt.Errorf("stream %q: write meta: %w", s.id, err)
	}
	// Readers see the new state as soon as the keys it drops may be
	// gone: a Get that misses a message finds State without it.
	w.arm(&s.mu, func() { s.meta = next })
	// Held messages now below FirstSeq.
	var err error
	if cur.Msgs > 0 {
		for seq := cur.FirstSeq; seq < next.FirstSeq && seq <= cur.LastSeq && err == nil; seq++ {
			err = w.delete(msgKey(s.msgPrefix, seq))
		}
	}
	if err == nil {
		err = w.commit()
	}
	switch {
	case err == nil:
		return nil
	case !w.passed:
		return fmt.Errorf("stream %q: update: %w", s.id, err)
	default:
		// The update is in; only some deletes of removed messages are
		// not. Their keys are below FirstSeq, so unseen, and the next
		// Open deletes them.
		s.db.logger.Warn("deleting removed messages failed", "stream", s.id, "error", err)
		return nil
	}
}

// encodeMessages returns the keys and values of msgs, whose total bytes
// end at total, with two allocations for all of them.
func (s *BadgerStore) encodeMessages(msgs []Message, total uint64) ([][]byte, [][]byte) {
	if len(msgs) == 0 {
		return nil, nil
	}
	keyLen := len(s.msgPrefix) + seqLen
	n := 0
	for _, m := range msgs {
		n += encodedMsgLen(m)
		total -= m.Size()
	}
	keyBuf := make([]byte, 0, keyLen*len(msgs))
	valBuf := make([]byte, 0, n)
	keys := make([][]byte, len(msgs))
	vals := make([][]byte, len(msgs))
	for i, m := range msgs {
		k := len(keyBuf)
		keyBuf = append(keyBuf, s.msgPrefix...)
		keyBuf = binary.BigEndian.AppendUint64(keyBuf, m.Seq)
		keys[i] = keyBuf[k:len(keyBuf):len(keyBuf)]
		v := len(valBuf)
		valBuf = appendMessage(valBuf, m, total)
		vals[i] = valBuf[v:len(valBuf):len(valBuf)]
		total += m.Size()
	}
	return keys, vals
}

// readHead returns the time of message seq and the total before it.
func (s *BadgerStore) readHead(seq uint64) (int64, uint64, error) {
	var t int64
	var before uint64
	err := s.db.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(msgKey(s.msgPrefix, seq))
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error {
			t, before, err = decodeMsgHead(v)
			return err
		})
	})
	if err != nil {
		return 0, 0, fmt.Errorf("stream %q: read message %d: %w", s.id, seq, err)
	}
	return t, before, nil
}

// Get reads message seq.
func (s *BadgerStore) Get(seq uint64) (Message, error) {
	s.mu.RLock()
	st, closed := s.meta.State, s.closed
	s.mu.RUnlock()
	if closed {
		return Message{}, ErrStoreClosed
	}
	if seq < st.FirstSeq || seq > st.LastSeq {
		return Message{}, ErrMsgNotFound
	}
	if !s.db.enter() {
		return Message{}, ErrStoreClosed
	}
	defer s.db.exit()
	var v []byte
	err := s.db.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(msgKey(s.msgPrefix, seq))
		if err != nil {
			return err
		}
		v, err = item.ValueCopy(nil)
		return err
	})
	switch {
	case errors.Is(err, badger.ErrKeyNotFound):
		return Message{}, ErrMsgNotFound // removed since the state was read
	case err != nil:
		return Message{}, fmt.Errorf("stream %q: read message %d: %w", s.id, seq, err)
	}
	m, _, err := decodeMessage(v)
	if err != nil {
		return Message{}, fmt.Errorf("stream %q: message %d: %w", s.id, seq, err)
	}
	m.Seq = seq
	return m, nil
}

// State returns what the store holds.
func (s *BadgerStore) State() State {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.meta.State
}

// Applied returns the last Update's Applied index that was not 0.
func (s *BadgerStore) Applied() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.meta.Applied
}

// Sync syncs the whole DB, other streams' writes included.
func (s *BadgerStore) Sync() error {
	s.mu.RLock()
	closed := s.closed
	s.mu.RUnlock()
	if closed || !s.db.enter() {
		return ErrStoreClosed
	}
	defer s.db.exit()
	return s.db.db.Sync()
}

// Close releases the store; its data stays in the DB.
func (s *BadgerStore) Close() error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.closed {
		return ErrStoreClosed
	}
	s.setClosed()
	s.db.forget(s)
	return nil
}

// Delete closes the store and deletes its messages, stale ones
// included, then its meta key.
func (s *BadgerStore) Delete() error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.closed {
		return ErrStoreClosed
	}
	s.setClosed()
	defer s.db.forget(s)
	if !s.db.enter() {
		return ErrStoreClosed
	}
	defer s.db.exit()
	var err error
	if s.meta.Msgs >= s.db.dropPrefixMin {
		err = s.db.db.DropPrefix(s.msgPrefix)
	} else {
		_, err = s.db.deleteKeys(s.msgPrefix, s.msgPrefix, nil)
	}
	if err == nil {
		w := txnWriter{db: s.db.db}
		if err = w.delete(s.metaKey); err == nil {
			err = w.commit()
		}
		w.discard()
	}
	if err != nil {
		return fmt.Errorf("delete stream %q: %w", s.id, err)
	}
	s.db.logger.Debug("deleted message store", "stream", s.id)
	return nil
}

// markClosed closes the store for DB.Close.
func (s *BadgerStore) markClosed() {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.setClosed()
}

// setClosed marks the store closed; the caller holds wmu.
func (s *BadgerStore) setClosed() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
}

// Message value encoding, version 1 (the sequence is in the key):
//
//	version   byte (1)
//	before    uvarint: the stream's Total before this message
//	time      varint Unix nanoseconds
//	subject   uvarint length, bytes
//	msgid     uvarint length, bytes
//	headers   uvarint count, then each key and value as uvarint length, bytes
//	data      the rest
//
// Meta value encoding, version 1:
//
//	version   byte (1)
//	uvarints  FirstSeq, LastSeq, Bytes, Deleted, Applied, Total
//	varints   FirstTime, LastTime
//
// Msgs is LastSeq+1-FirstSeq: a store holds every sequence in between.
const storeCodecVersion byte = 1

// encodedMsgLen is an upper bound of the encoding of m.
func encodedMsgLen(m Message) int {
	n := 1 + 5*binary.MaxVarintLen64 + len(m.Subject) + len(m.MsgID) + len(m.Data)
	for _, h := range m.Header {
		n += 2*binary.MaxVarintLen64 + len(h.Key) + len(h.Value)
	}
	return n
}

// appendMessage appends the encoding of m to dst.
func appendMessage(dst []byte, m Message, before uint64) []byte {
	dst = append(dst, storeCodecVersion)
	dst = binary.AppendUvarint(dst, before)
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

// decodeMsgHead returns the time and Total before of an encoded message.
func decodeMsgHead(b []byte) (int64, uint64, error) {
	r, err := newValueReader(b)
	if err != nil {
		return 0, 0, err
	}
	before := r.uvarint()
	t := r.varint()
	return t, before, r.err
}

// decodeMessage decodes an encoded message but for its sequence. Data
// aliases b.
func decodeMessage(b []byte) (Message, uint64, error) {
	r, err := newValueReader(b)
	if err != nil {
		return Message{}, 0, err
	}
	before := r.uvarint()
	m := Message{Time: r.varint(), Subject: r.string(), MsgID: r.string()}
	if n := r.uvarint(); n > 0 && r.err == nil {
		if n > uint64(len(r.b)/2) { // each header takes 2 bytes at least
			return Message{}, 0, fmt.Errorf("%w: %d headers in %d bytes", errCorruptValue, n, len(r.b))
		}
		m.Header = make([]Header, n)
		for i := range m.Header {
			m.Header[i] = Header{Key: r.string(), Value: r.string()}
		}
	}
	if r.err != nil {
		return Message{}, 0, r.err
	}
	if len(r.b) > 0 {
		m.Data = r.b[:len(r.b):len(r.b)]
	}
	return m, before, nil
}

// appendMeta appends the encoding of m to dst.
func appendMeta(dst []byte, m storeMeta) []byte {
	dst = append(dst, storeCodecVersion)
	for _, v := range []uint64{m.FirstSeq, m.LastSeq, m.Bytes, m.Deleted, m.Applied, m.Total} {
		dst = binary.AppendUvarint(dst, v)
	}
	dst = binary.AppendVarint(dst, m.FirstTime)
	return binary.AppendVarint(dst, m.LastTime)
}

// decodeMeta decodes an encoded meta value.
func decodeMeta(b []byte) (storeMeta, error) {
	r, err := newValueReader(b)
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

// newValueReader checks b's version byte and returns a reader of the
// rest.
func newValueReader(b []byte) (*valueReader, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: empty", errCorruptValue)
	}
	if b[0] != storeCodecVersion {
		return nil, fmt.Errorf("%w: unknown version %d", errCorruptValue, b[0])
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
